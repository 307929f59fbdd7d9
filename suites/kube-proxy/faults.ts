// Faults that prove the kube-proxy suite: kube-proxy stopped with its rules flushed, and one
// backend pod unreachable (the seed's procedure tells the two apart).
import { type Fault, onBothEnds } from '../../harness/faults/fault.ts';
import { start, stop } from '../../harness/faults/ops.ts';

export const kubeProxyFaults: Fault[] = [
  ...onBothEnds({
    id: 'kube-proxy-stopped-rules-flushed',
    title: 'kube-proxy stopped on the first worker and its nat rules flushed',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [
      { check: 'hosts.services-active', host: r.workers[0], codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.workers[0], codes: ['port-not-listening'] },
      { check: 'kube-proxy.nat-rules', host: r.workers[0], codes: ['nat-rules-missing'] },
      { check: 'kube-proxy.clusterip-spread', host: r.workers[0], codes: ['kube-proxy-at-fault'] },
    ],
    async inject(env) {
      await stop(env, env.workers[0]!, 'kube-proxy');
      await env.host(env.workers[0]!).run('iptables -w 5 -t nat -F KUBE-SERVICES');
    },
    repair: (env) => start(env, env.workers[0]!, 'kube-proxy'),
  }),
  {
    id: 'backend-pod-unreachable',
    title: 'one backend pod broken: the demo app on the last worker stops answering other nodes',
    on: 'lab',
    // It breaks the last worker's pod; the other workers see it.
    touches: (r) => [r.workers.at(-1)!],
    layouts: ['seed', 'kthw'],
    expect: (r) => r.workers.slice(0, -1).map((w) => ({ check: 'kube-proxy.clusterip-spread', host: w, codes: ['backend-unreachable'] })),
    inject: (env) =>
      env
        .host(env.workers.at(-1)!)
        .run('iptables -w 5 -I FORWARD -o cni0 -p tcp --dport 8000 -j REJECT -m comment --comment hardway-fault')
        .then(() => undefined),
    repair: (env) =>
      env
        .host(env.workers.at(-1)!)
        .run('iptables -w 5 -D FORWARD -o cni0 -p tcp --dport 8000 -j REJECT -m comment --comment hardway-fault')
        .then(() => undefined),
  },
];
