// Faults that prove the resources suite: a component over its budget (a warning), and the OOM
// killer striking inside a component's cgroup (a failure).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Fault } from '../../harness/faults/fault.ts';
import { restart } from '../../harness/faults/ops.ts';

export const resourcesFaults: Fault[] = [
  {
    id: 'memory-over-budget', title: 'kube-apiserver over its memory budget', on: 'lab',
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
    id: 'component-oom-killed', title: "the OOM killer striking inside kube-scheduler's cgroup", on: 'lab',
    expect: (r) => [{ check: 'resources.memory', host: r.master, codes: ['oom-killed'] }],
    async inject(env) {
      // A limit just above what the scheduler uses, then a process in its cgroup that wants 64 MiB
      // more: the kernel's OOM killer kills it there, and the cgroup's oom_kill counter records it.
      await env.host(env.master).run(`set -e
cg=/sys/fs/cgroup/memory$(systemctl show -p ControlGroup --value kube-scheduler)
echo $(( $(cat $cg/memory.usage_in_bytes) + 16777216 )) > $cg/memory.limit_in_bytes
sh -c "echo \\$\\$ > $cg/cgroup.procs; echo 1000 > /proc/self/oom_score_adj; exec sh -c 'head -c 67108864 /dev/zero | tail > /dev/null'" || true
echo -1 > $cg/memory.limit_in_bytes
grep -q '^oom_kill [1-9]' $cg/memory.oom_control`);
    },
    // A restart gives the unit a fresh cgroup, and the scheduler its memory back.
    repair: (env) => restart(env, env.master, 'kube-scheduler'),
  },
];
