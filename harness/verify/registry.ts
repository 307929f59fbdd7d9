// Every suite, in the order the seed's debugging section walks through a cluster. The Playwright
// config turns this list into projects; `dependsOn` names the suites whose failure makes a suite's
// results meaningless (it is then skipped, with the reason). Pods of test workloads are pinned to
// their node, so pod-level suites do not need the scheduler.
import type { Suite } from './check.ts';
import { hostsSuite } from '../../suites/hosts/hosts.ts';
import { certsSuite } from '../../suites/certs/certs.ts';
import { etcdSuite } from '../../suites/etcd/etcd.ts';
import { apiserverSuite } from '../../suites/apiserver/apiserver.ts';
import { controllerManagerSuite } from '../../suites/controller-manager/controller-manager.ts';
import { schedulerSuite } from '../../suites/scheduler/scheduler.ts';
import { kubeletSuite } from '../../suites/kubelet/kubelet.ts';
import { flannelSuite } from '../../suites/flannel/flannel.ts';
import { corednsSuite } from '../../suites/coredns/coredns.ts';
import { kubeProxySuite } from '../../suites/kube-proxy/kube-proxy.ts';
import { ingressSuite } from '../../suites/ingress/ingress.ts';
import { resourcesSuite } from '../../suites/resources/resources.ts';
import { securitySuite } from '../../suites/security/security.ts';

export const SUITES: Suite[] = [
  hostsSuite,
  certsSuite,
  etcdSuite,
  apiserverSuite,
  controllerManagerSuite,
  schedulerSuite,
  kubeletSuite,
  flannelSuite,
  corednsSuite,
  kubeProxySuite,
  ingressSuite,
  resourcesSuite,
  securitySuite,
];

export function suiteByName(name: string): Suite | undefined {
  return SUITES.find((s) => s.name === name);
}
