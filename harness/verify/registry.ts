// Every suite, in the order the seed's debugging section walks through a cluster. `dependsOn`
// names the suites whose failure makes a suite's results meaningless (it is then blocked, naming
// them); the engine runs the graph, not this order. The registry is validated when it is loaded:
// a duplicate id, a dangling dependency or a cycle stops every command with one line.
import type { Suite } from './check.ts';
import { hostsSuite } from '../../suites/hosts/hosts.ts';
import { certsSuite } from '../../suites/certs/certs.ts';
import { etcdSuite } from '../../suites/etcd/etcd.ts';
import { apiserverSuite } from '../../suites/apiserver/apiserver.ts';
import { controllerManagerSuite } from '../../suites/controller-manager/controller-manager.ts';
import { schedulerSuite } from '../../suites/scheduler/scheduler.ts';
import { kubeletSuite } from '../../suites/kubelet/kubelet.ts';
import { flannelSuite } from '../../suites/flannel/flannel.ts';
import { podNetworkSuite } from '../../suites/pod-network/pod-network.ts';
import { corednsSuite } from '../../suites/coredns/coredns.ts';
import { dnsSuite } from '../../suites/dns/dns.ts';
import { kubeProxySuite } from '../../suites/kube-proxy/kube-proxy.ts';
import { ingressSuite } from '../../suites/ingress/ingress.ts';
import { resourcesSuite } from '../../suites/resources/resources.ts';
import { securitySuite } from '../../suites/security/security.ts';
import { driftSuite } from '../../suites/drift/drift.ts';

export const SUITES: Suite[] = [
  hostsSuite,
  certsSuite,
  etcdSuite,
  apiserverSuite,
  controllerManagerSuite,
  schedulerSuite,
  kubeletSuite,
  podNetworkSuite,
  flannelSuite,
  corednsSuite,
  dnsSuite,
  kubeProxySuite,
  ingressSuite,
  resourcesSuite,
  securitySuite,
  driftSuite,
];

/** Problems with a set of suites: ids, prefixes, codes, dependencies, gates, cycles. */
export function registryProblems(suites: Suite[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const s of suites) {
    if (names.has(s.name)) problems.push(`suite ${s.name} is defined twice`);
    names.add(s.name);
    for (const c of s.checks) {
      if (ids.has(c.id)) problems.push(`check id ${c.id} is used twice`);
      ids.add(c.id);
      if (!c.id.startsWith(`${s.name}.`)) problems.push(`check ${c.id} of suite ${s.name} must be named ${s.name}.<name>`);
      if (!Object.keys(c.codes ?? {}).length) problems.push(`check ${c.id} declares no finding codes`);
      for (const code of Object.keys(c.codes ?? {}))
        if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(code)) problems.push(`check ${c.id}: code "${code}" is not kebab-case`);
    }
    for (const g of s.gate ?? [])
      if (!s.checks.some((c) => c.id === g)) problems.push(`suite ${s.name}: gate ${g} is not one of its checks`);
  }
  for (const s of suites) for (const d of s.dependsOn) if (!names.has(d)) problems.push(`suite ${s.name} depends on unknown suite ${d}`);
  // Cycles: depth-first search over dependsOn.
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(suites.map((s) => [s.name, s]));
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      problems.push(`suites depend on each other in a cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
      return;
    }
    state.set(name, 'visiting');
    for (const d of byName.get(name)?.dependsOn ?? []) visit(d, [...path, name]);
    state.set(name, 'done');
  };
  for (const s of suites) visit(s.name, []);
  return problems;
}

const problems = registryProblems(SUITES);
if (problems.length) throw new Error(`hardway's suite registry is inconsistent:\n  ${problems.join('\n  ')}`);

export function suiteByName(name: string): Suite | undefined {
  return SUITES.find((s) => s.name === name);
}

/** Every check id with the codes it declares (for fault catalogues and docs). */
export function checkCodes(): Map<string, Set<string>> {
  return new Map(SUITES.flatMap((s) => s.checks.map((c) => [c.id, new Set(Object.keys(c.codes))] as const)));
}
