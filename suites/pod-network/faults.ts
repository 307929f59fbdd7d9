// Faults that prove the pod-network suite: a worker whose runtime has no CNI config, and (on a
// bridge network, KTHW's layout) a static route between nodes deleted.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fault, FaultEnv } from '../../harness/faults/fault.ts';

/** The last worker's pod subnet and address (KTHW's machines.txt, 4th column). */
const lastWorker = (env: FaultEnv) => {
  const w = env.cluster.workers.at(-1)!;
  if (!w.podSubnet) throw new Error(`${w.host} has no podSubnet in the model`);
  return { subnet: w.podSubnet, via: w.internalAddress };
};

export const podNetworkFaults: Fault[] = [
  {
    id: 'cni-config-removed',
    title: "the last worker's CNI configuration removed (pods cannot start there)",
    on: 'tree',
    expect: (r) => [{ check: 'pod-network.cni-config', host: r.workers.at(-1), codes: ['cni-config-missing'] }],
    inject: (env) => rm(join(env.renderedDir, env.workers.at(-1)!, 'etc/cni/net.d'), { recursive: true, force: true }),
  },
  {
    id: 'server-route-to-pods-deleted',
    title: "the server's route to the last worker's pod subnet deleted (KTHW chapter 11 undone)",
    on: 'lab',
    layouts: ['kthw'],
    layoutsWhy: "the seed's flannel programs its routes itself (flannel.routes; its fault: pod-route-deleted)",
    expect: (r) => [{ check: 'pod-network.routes', host: r.master, codes: ['route-missing'] }],
    async inject(env) {
      const { subnet } = lastWorker(env);
      await env.host(env.master).run(`ip route del ${subnet}`);
    },
    async repair(env) {
      const { subnet, via } = lastWorker(env);
      await env.host(env.master).run(`ip route replace ${subnet} via ${via}`);
    },
  },
];
