// Faults that prove the coredns suite: CoreDNS stopped, a wrong upstream in the Corefile.
import { type Fault, onBothEnds } from '../../harness/faults/fault.ts';
import { kubectl, restart, restoreFile, start, stop } from '../../harness/faults/ops.ts';
import { K8S_DIR } from '../../harness/pki/plan.ts';

const KUBELET_CONFIG = `${K8S_DIR}/kubelet/kubelet-config.yaml`;
const KUBELET_BACKUP = '/root/kubelet-config.hardway-dns-fault';

export const corednsFaults: Fault[] = [
  ...onBothEnds({
    id: 'coredns-stopped',
    title: 'CoreDNS stopped on the last worker',
    on: 'lab',
    layoutsWhy: 'KTHW runs no CoreDNS',
    expect: (r) => [
      { check: 'hosts.services-active', host: r.workers.at(-1), codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.workers.at(-1), codes: ['port-not-listening'] },
      { check: 'coredns.cluster-names', host: r.workers.at(-1), codes: ['dns-silent'] },
      { check: 'coredns.upstream', host: r.workers.at(-1), codes: ['dns-silent'] },
    ],
    inject: (env) => stop(env, env.workers.at(-1)!, 'coredns'),
    repair: (env) => start(env, env.workers.at(-1)!, 'coredns'),
  }),
  {
    id: 'pods-without-cluster-dns',
    title: "the first worker's kubelet giving pods a cluster DNS address where nothing answers",
    on: 'lab',
    // kubectl runs on the master.
    touches: (r) => [r.master],
    layoutsWhy: 'KTHW gives pods no cluster DNS',
    // A probe pod started before the change keeps its resolv.conf (pod-resolver-wrong); a new one
    // gets the address where nothing answers (cluster-name-unresolved).
    expect: (r) => [{ check: 'dns.pods-resolve', host: r.workers[0], codes: [], oneOf: ['pod-resolver-wrong', 'cluster-name-unresolved'] }],
    async inject(env) {
      const w = env.workers[0]!;
      await env
        .host(w)
        .run(
          `cp -p ${KUBELET_CONFIG} ${KUBELET_BACKUP} && sed -i -e '/^clusterDNS:/,/^[a-zA-Z]/{/^  - /d}' -e 's/^clusterDNS:.*$/clusterDNS: [10.32.0.222]/' ${KUBELET_CONFIG} && grep -q '^clusterDNS: \\[10.32.0.222\\]' ${KUBELET_CONFIG}`,
        );
      await restart(env, w, 'kubelet');
    },
    async repair(env) {
      const w = env.workers[0]!;
      await env.host(w).run(`mv -f ${KUBELET_BACKUP} ${KUBELET_CONFIG}`);
      await restart(env, w, 'kubelet');
      // A probe pod started during the fault keeps the wrong resolv.conf: the next run makes anew.
      const node = env.cluster.workers.find((x) => x.host === w)!.nodeName;
      await kubectl(env, `delete pods -A -l hardway.io/owner=hardway --field-selector spec.nodeName=${node}`);
    },
  },
  {
    id: 'corefile-wrong-upstream',
    title: 'a wrong upstream in the Corefile of the first worker (forward to a host without DNS)',
    on: 'lab',
    layoutsWhy: 'KTHW runs no CoreDNS',
    expect: (r) => [{ check: 'coredns.upstream', host: r.workers[0], codes: ['upstream-fails'] }],
    async inject(env) {
      await env
        .host(env.workers[0]!)
        .run(`sed -i 's|^\\(\\s*forward \\. \\).*|\\1${env.cluster.masters[0]!.address}|' /etc/coredns/Corefile`);
      await restart(env, env.workers[0]!, 'coredns');
    },
    async repair(env) {
      await restoreFile(env, env.workers[0]!, '/etc/coredns/Corefile');
      await restart(env, env.workers[0]!, 'coredns');
    },
  },
];
