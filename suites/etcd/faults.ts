// Faults that prove the etcd suite: the member down (everything after it is blocked).
import { layoutOf } from '../../harness/model/cluster.ts';
import type { Fault } from '../../harness/faults/fault.ts';
import { healthy, leadersBack, start, stop } from '../../harness/faults/ops.ts';

export const etcdFaults: Fault[] = [
  {
    id: 'etcd-down',
    title: 'the etcd member down',
    on: 'lab',
    alone: 'without etcd the apiserver, which every check asks, fails',
    layouts: ['seed', 'kthw'],
    expect: (r) => [
      { check: 'hosts.services-active', host: r.master, codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.master, codes: ['port-not-listening'] },
      { check: 'etcd.health', host: r.master, codes: ['member-unhealthy'] },
      { check: 'etcd.members', codes: ['member-list-failed'] },
      // flannel keeps its network in etcd in the seed's layout; KTHW has no flannel.
      ...(layoutOf(r.cluster) === 'seed'
        ? [
            { check: 'etcd.flannel-config', codes: ['etcd-unreadable'] },
            { check: 'etcd.subnet-leases', codes: ['etcd-unreadable'] },
          ]
        : []),
    ],
    inject: (env) => stop(env, env.master, 'etcd'),
    async repair(env) {
      await start(env, env.master, 'etcd');
      await healthy(env, env.master, 'kube-apiserver', 120_000);
      // Without etcd the controller manager and the scheduler lost their leases: the exact signal
      // of a working control plane is both leaders back (what the proof run checks first).
      await leadersBack(env);
    },
  },
];
