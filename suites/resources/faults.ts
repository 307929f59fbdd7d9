// Faults that prove the resources suite: a component over its budget (a warning), and the OOM
// killer striking inside a component's cgroup (a failure).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Fault } from '../../harness/faults/fault.ts';
import { start, stop } from '../../harness/faults/ops.ts';

export const resourcesFaults: Fault[] = [
  {
    id: 'memory-over-budget',
    title: 'kube-apiserver over its memory budget',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: () => [],
    warn: (r) => [{ check: 'resources.memory', host: r.master, codes: ['over-budget'] }],
    options(env) {
      const file = join(env.tmp, 'budgets.yaml');
      writeFileSync(file, stringify({ 'kube-apiserver': 16 }));
      return { budgetsFile: file };
    },
    async inject() {},
    async repair() {},
  },
  {
    id: 'component-oom-killed',
    title: "the OOM killer striking inside kube-scheduler's cgroup",
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'resources.memory', host: r.master, codes: ['oom-killed'] }],
    async inject(env) {
      // A limit 128 MiB above what the scheduler uses, then a process in its cgroup that wants
      // 256 MiB: the kernel's OOM killer kills it there, and the cgroup's oom_kill counter records
      // it. The kernel picks its victim by resident pages (the scheduler's mapped binary counts)
      // plus oom_score_adj in thousandths of the limit: the hog's 1000 outweighs the scheduler
      // only when the limit is large beside the scheduler (a tight limit killed the scheduler).
      await env.host(env.master).run(`set -e
cg=/sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value kube-scheduler)
pid=$(systemctl show -p MainPID --value kube-scheduler)
echo $(( $(cat $cg/memory.usage_in_bytes) + 134217728 )) > $cg/memory.limit_in_bytes
sh -c "echo \\$\\$ > $cg/cgroup.procs; echo 1000 > /proc/self/oom_score_adj; exec sh -c 'head -c 268435456 /dev/zero | tail > /dev/null'" || true
echo -1 > $cg/memory.limit_in_bytes
[ "$(systemctl show -p MainPID --value kube-scheduler)" = "$pid" ] || { echo 'the OOM killer took kube-scheduler itself' >&2; exit 1; }
grep -q '^oom_kill [1-9]' $cg/memory.oom_control`);
    },
    // The kernel's counter lives with the cgroup, which systemd keeps across a restart and
    // removes on a stop: stop, then start afresh.
    async repair(env) {
      await stop(env, env.master, 'kube-scheduler');
      await start(env, env.master, 'kube-scheduler');
    },
  },
];
