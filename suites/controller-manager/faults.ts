// Faults that prove the controller-manager suite: it stopped, and an apiserver advertising an
// address that is not its own (the kubernetes service's endpoints point elsewhere), in either layout.
import { layoutFor } from '../../harness/layouts/index.ts';
import type { Fault } from '../../harness/faults/fault.ts';
import { leadersBack, leaseStale, restartNow, restoreFile, start, stop, systemdUnit } from '../../harness/faults/ops.ts';

export const controllerManagerFaults: Fault[] = [
  {
    id: 'controller-manager-stopped',
    title: 'kube-controller-manager stopped',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [
      { check: 'hosts.services-active', host: r.master, codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.master, codes: ['port-not-listening'] },
      { check: 'controller-manager.service-accounts', codes: ['new-namespace-no-serviceaccount'] },
      { check: 'controller-manager.leader', codes: ['leader-lease-stale'] },
    ],
    inject: (env) => stop(env, env.master, 'kube-controller-manager'),
    effect: (env) => leaseStale(env, 'kube-system', 'kube-controller-manager', 21),
    // Healthy is not enough: the proof needs the leader back and its controllers working.
    async repair(env) {
      await start(env, env.master, 'kube-controller-manager');
      await leadersBack(env);
    },
  },
  {
    id: 'apiserver-wrong-advertise-address',
    title: 'kube-apiserver advertising an address that is not its own',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: () => [{ check: 'controller-manager.kubernetes-service', codes: ['kubernetes-endpoints'] }],
    async inject(env) {
      const m = env.cluster.masters[0]!;
      const wrong = m.internalAddress.replace(/\.\d+$/, '.99');
      const unit = systemdUnit('kube-apiserver');
      // The seed's unit has --advertise-address; KTHW's has none (the apiserver takes its default
      // route's address): then the wrong one is added to its ExecStart.
      await env
        .host(env.master)
        .run(
          `if grep -q -- '--advertise-address=' ${unit}; then sed -i 's/--advertise-address=[^ ]*/--advertise-address=${wrong}/' ${unit}; ` +
            `else sed -i 's|^\\(ExecStart=[^ ]*kube-apiserver\\) \\\\$|\\1 --advertise-address=${wrong} \\\\|' ${unit}; fi && grep -q -- '--advertise-address=${wrong}' ${unit}`,
        );
      await restartNow(env, env.master, 'kube-apiserver');
      // The apiserver rewrites the kubernetes service's endpoints when it starts.
      await env
        .host(env.master)
        .waitFor(
          'kube-apiserver',
          `endpoints of default/kubernetes at ${wrong}`,
          `${layoutFor(env.cluster).kubectl} get endpointslice -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[*].endpoints[*].addresses[*]}' | grep -qw ${wrong.replace(/\./g, '\\.')}`,
          60_000,
        );
      await leadersBack(env);
    },
    async repair(env) {
      const wrong = env.cluster.masters[0]!.internalAddress.replace(/\.\d+$/, '.99');
      await restoreFile(env, env.master, systemdUnit('kube-apiserver'));
      await restartNow(env, env.master, 'kube-apiserver');
      // The wrong address stays among the endpoints until its lease in etcd expires (the
      // apiserver's endpoint reconciler, 15 s): the exact signal that the repair took.
      await env
        .host(env.master)
        .waitFor(
          'kube-apiserver',
          `endpoints of default/kubernetes without ${wrong}`,
          `a=$(${layoutFor(env.cluster).kubectl} get endpointslice -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[*].endpoints[*].addresses[*]}') && [ -n "$a" ] && ! echo "$a" | grep -qw ${wrong.replace(/\./g, '\\.')}`,
          60_000,
        );
      await leadersBack(env);
    },
  },
  {
    // KTHW's own defect (docs/lab.md): its kube-apiserver unit has no --service-cluster-ip-range,
    // so kube-apiserver 1.34 allocates from 10.0.0.0/24 while the controller manager, kube-proxy and
    // the certificate say 10.32.0.0/24. The lab adds the flag; this fault takes it away again.
    id: 'apiserver-without-service-range',
    title: "kube-apiserver's --service-cluster-ip-range left out, as KTHW's chapter 08 does",
    on: 'lab',
    layouts: ['kthw'],
    layoutsWhy: "the seed's unit has the flag, as the seed's article writes it",
    expect: () => [
      {
        check: 'controller-manager.kubernetes-service',
        codes: ['service-range-mismatch'],
        oneOf: ['kubernetes-service-ip', 'service-ip-not-in-certificate'],
      },
    ],
    async inject(env) {
      const unit = systemdUnit('kube-apiserver');
      await env
        .host(env.master)
        .run(
          `sed -i '/--service-cluster-ip-range=/d' ${unit} && ! grep -q -- --service-cluster-ip-range ${unit} && ${env.init(env.master).reload()}`,
        );
      await restartNow(env, env.master, 'kube-apiserver');
      await leadersBack(env);
    },
    async repair(env) {
      await restoreFile(env, env.master, systemdUnit('kube-apiserver'));
      await env.host(env.master).run(env.init(env.master).reload());
      await restartNow(env, env.master, 'kube-apiserver');
      await leadersBack(env);
    },
  },
];
