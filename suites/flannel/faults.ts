// Faults that prove the flannel suite: flanneld stopped, vxlan's UDP port dropped, the vxlan
// device with a wrong MTU, a route to another worker's pod subnet deleted.
import { type Fault, onBothEnds } from '../../harness/faults/fault.ts';
import { restart, start, stop } from '../../harness/faults/ops.ts';

const dev = (vni: number) => `flannel.${vni}`;

export const flannelFaults: Fault[] = [
  ...onBothEnds({
    id: 'flanneld-stopped',
    title: 'flanneld stopped on the last worker',
    on: 'lab',
    layoutsWhy: 'KTHW has no flannel',
    expect: (r) => [
      { check: 'hosts.services-active', host: r.workers.at(-1), codes: ['unit-inactive'] },
      // flanneld serves its health endpoint where -healthz-port says (the seed's units set one).
      { check: 'hosts.listening', host: r.workers.at(-1), codes: ['port-not-listening'] },
      { check: 'flannel.daemon', host: r.workers.at(-1), codes: ['flanneld-unhealthy'] },
    ],
    inject: (env) => stop(env, env.workers.at(-1)!, 'flanneld'),
    repair: (env) => start(env, env.workers.at(-1)!, 'flanneld'),
  }),
  {
    id: 'vxlan-udp-dropped',
    title: 'UDP 8472 (flannel vxlan) dropped on the last worker',
    on: 'lab',
    layoutsWhy: 'KTHW has no flannel (no vxlan)',
    expect: (r) => r.workers.map((w) => ({ check: 'pod-network.pod-to-pod', host: w, codes: ['pod-network-broken'] })),
    inject: (env) =>
      env
        .host(env.workers.at(-1)!)
        .run(`iptables -w 5 -I INPUT -p udp --dport ${env.cluster.flannel.port} -j DROP -m comment --comment hardway-fault`)
        .then(() => undefined),
    repair: (env) =>
      env
        .host(env.workers.at(-1)!)
        .run(`iptables -w 5 -D INPUT -p udp --dport ${env.cluster.flannel.port} -j DROP -m comment --comment hardway-fault`)
        .then(() => undefined),
  },
  {
    id: 'vxlan-mtu-wrong',
    title: "the first worker's vxlan device with an MTU flannel did not give it",
    on: 'lab',
    layoutsWhy: 'KTHW has no flannel (no vxlan)',
    expect: (r) => [{ check: 'flannel.interface', host: r.workers[0], codes: ['vxlan-mtu'] }],
    inject: (env) =>
      env
        .host(env.workers[0]!)
        .run(`ip link set ${dev(env.cluster.flannel.vni)} mtu 1300`)
        .then(() => undefined),
    // flanneld keeps an existing device as it finds it: the MTU goes back by hand.
    repair: (env) =>
      env
        .host(env.workers[0]!)
        .run(`. /run/flannel/subnet.env && ip link set ${dev(env.cluster.flannel.vni)} mtu $FLANNEL_MTU`)
        .then(() => undefined),
  },
  {
    id: 'pod-route-deleted',
    title: "the first worker's route to the last worker's pod subnet deleted",
    on: 'lab',
    layoutsWhy: "flannel's routes; KTHW's static routes have their own fault (server-route-to-pods-deleted)",
    // Both directions break: requests from the first worker leave by the default route, and the
    // last worker's replies to the first worker's pods come back without a route there.
    expect: (r) => [
      { check: 'flannel.routes', host: r.workers[0], codes: ['route-missing'] },
      ...r.workers.map((w) => ({ check: 'pod-network.pod-to-pod', host: w, codes: ['pod-network-broken'] })),
    ],
    async inject(env) {
      const last = env.workers.at(-1)!;
      const subnet = (await env.host(last).run('. /run/flannel/subnet.env && echo $FLANNEL_SUBNET'))
        .trim()
        .replace(/\.\d+\/(\d+)$/, '.0/$1');
      await env.host(env.workers[0]!).run(`ip route del ${subnet} dev ${dev(env.cluster.flannel.vni)}`);
    },
    repair: (env) => restart(env, env.workers[0]!, 'flanneld'),
  },
];
