// Faults that prove the scheduler suite: the seed's scheduler that "stopped by itself".
import type { Fault } from '../../harness/faults/fault.ts';
import { leaseFresh, leaseStale, start, stop } from '../../harness/faults/ops.ts';

export const schedulerFaults: Fault[] = [
  {
    id: 'scheduler-stopped',
    title: 'kube-scheduler stopped (the seed: it "stopped by itself")',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [
      { check: 'hosts.services-active', host: r.master, codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.master, codes: ['port-not-listening'] },
      { check: 'scheduler.job', codes: ['not-scheduled'] },
      { check: 'scheduler.spread', codes: ['no-pod-placed'] },
      { check: 'scheduler.leader', codes: ['leader-lease-stale'] },
    ],
    inject: (env) => stop(env, env.master, 'kube-scheduler'),
    effect: (env) => leaseStale(env, 'kube-system', 'kube-scheduler', 21),
    // Healthy is not enough: the proof's Job needs the scheduler to hold its lease again.
    async repair(env) {
      await start(env, env.master, 'kube-scheduler');
      await leaseFresh(env, 'kube-system', 'kube-scheduler');
    },
  },
];
