// Faults that prove the kubelet suite: a kubelet registering under a name its certificate does
// not carry (the seed's NODE_NAME warning).
import type { Fault } from '../../harness/faults/fault.ts';
import { kubectl, nodeNotReady, nodesReady, restart, restoreFile } from '../../harness/faults/ops.ts';

export const kubeletFaults: Fault[] = [
  {
    id: 'kubelet-node-name-mismatch',
    title: "the last worker's kubelet registering under a name its certificate does not carry",
    on: 'lab',
    layouts: ['seed', 'kthw'],
    // scheduler.job still completes: once its pod on the first worker finishes, the anti-affinity
    // lets the second pod run there too. The scheduler works; the spread over the workers does not.
    expect: (r) => [
      { check: 'kubelet.ready', host: r.workers.at(-1), codes: ['node-not-ready', 'node-lease-stale'] },
      { check: 'kubelet.pods-run', host: r.workers.at(-1), codes: ['pod-not-running'] },
      { check: 'scheduler.spread', codes: ['worker-unused'] },
    ],
    async inject(env) {
      const w = env.cluster.workers.at(-1)!;
      // A systemd unit or an OpenRC script (the seed's node-2): both carry the kubelet's arguments.
      const unit = env.init(w.host).serviceFile('kubelet');
      // The seed's unit names the node (--hostname-override, its NODE_NAME); KTHW's does not (the
      // kubelet takes the host name): then the wrong name is added to its ExecStart.
      await env
        .host(w.host)
        .run(
          `if grep -q -- '--hostname-override=' ${unit}; then sed -i 's/--hostname-override=${w.nodeName}\\b/--hostname-override=${w.nodeName}-renamed/' ${unit}; ` +
            `else sed -i 's|^\\(ExecStart=[^ ]*kubelet\\) \\\\$|\\1 --hostname-override=${w.nodeName}-renamed \\\\|' ${unit}; fi && grep -q -- '--hostname-override=${w.nodeName}-renamed' ${unit}`,
        );
      await env.host(w.host).run(env.init(w.host).restart('kubelet'));
    },
    // The node must be NotReady before the suites look: then the scheduler keeps pods off it.
    effect: (env) => nodeNotReady(env, env.cluster.workers.at(-1)!.nodeName),
    async repair(env) {
      const w = env.workers.at(-1)!;
      const file = env.init(w).serviceFile('kubelet');
      await restoreFile(env, w, file, file.startsWith('/etc/init.d/') ? 0o755 : 0o644);
      await restart(env, w, 'kubelet');
      await nodesReady(env);
      // The renamed kubelet registered a Node of its own: remove it, as an operator would.
      await kubectl(env, `delete node ${env.cluster.workers.at(-1)!.nodeName}-renamed --ignore-not-found`);
    },
  },
];
