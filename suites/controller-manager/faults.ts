// Faults that prove the controller-manager suite: it stopped, and an apiserver advertising an
// address that is not its own (the kubernetes service's endpoints point elsewhere).
import type { Fault } from '../../harness/faults/fault.ts';
import { leaseStale, restart, restoreFile, start, stop, systemdUnit } from '../../harness/faults/ops.ts';

export const controllerManagerFaults: Fault[] = [
  {
    id: 'controller-manager-stopped', title: 'kube-controller-manager stopped', on: 'lab',
    expect: (r) => [
      { check: 'hosts.services-active', host: r.master, codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.master, codes: ['port-not-listening'] },
      { check: 'controller-manager.service-accounts', codes: ['new-namespace-no-serviceaccount'] },
      { check: 'controller-manager.leader', codes: ['leader-lease-stale'] },
    ],
    inject: (env) => stop(env, env.master, 'kube-controller-manager'),
    effect: (env) => leaseStale(env, 'kube-system', 'kube-controller-manager', 21),
    repair: (env) => start(env, env.master, 'kube-controller-manager'),
  },
  {
    id: 'apiserver-wrong-advertise-address', title: 'kube-apiserver advertising an address that is not its own', on: 'lab',
    expect: () => [{ check: 'controller-manager.kubernetes-service', codes: ['kubernetes-endpoints'] }],
    async inject(env) {
      const m = env.cluster.masters[0]!;
      const wrong = m.internalAddress.replace(/\.\d+$/, '.99');
      await env.host(env.master).run(`sed -i 's/--advertise-address=${m.internalAddress}\\b/--advertise-address=${wrong}/' ${systemdUnit('kube-apiserver')} && grep -q -- '--advertise-address=${wrong}' ${systemdUnit('kube-apiserver')}`);
      await restart(env, env.master, 'kube-apiserver');
      // The apiserver rewrites the kubernetes service's endpoints when it starts.
      await env.host(env.master).waitFor('kube-apiserver', `endpoints of default/kubernetes at ${wrong}`, `kubectl get endpointslice -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[*].endpoints[*].addresses[*]}' | grep -qw ${wrong.replace(/\./g, '\\.')}`, 60_000);
    },
    async repair(env) {
      await restoreFile(env, env.master, systemdUnit('kube-apiserver'));
      await restart(env, env.master, 'kube-apiserver');
    },
  },
];
