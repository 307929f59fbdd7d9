// The fault catalogue: every suite's faults (suites/<name>/faults.ts), the proof of its checks.
import { apiserverFaults } from '../../suites/apiserver/faults.ts';
import { certsFaults } from '../../suites/certs/faults.ts';
import { controllerManagerFaults } from '../../suites/controller-manager/faults.ts';
import { corednsFaults } from '../../suites/coredns/faults.ts';
import { driftFaults } from '../../suites/drift/faults.ts';
import { podNetworkFaults } from '../../suites/pod-network/faults.ts';
import { etcdFaults } from '../../suites/etcd/faults.ts';
import { flannelFaults } from '../../suites/flannel/faults.ts';
import { hostsFaults } from '../../suites/hosts/faults.ts';
import { ingressFaults } from '../../suites/ingress/faults.ts';
import { kubeProxyFaults } from '../../suites/kube-proxy/faults.ts';
import { kubeletFaults } from '../../suites/kubelet/faults.ts';
import { resourcesFaults } from '../../suites/resources/faults.ts';
import { schedulerFaults } from '../../suites/scheduler/faults.ts';
import { securityFaults } from '../../suites/security/faults.ts';
import type { Fault } from './fault.ts';

export function catalogue(): Fault[] {
  return [
    ...hostsFaults,
    ...certsFaults,
    ...etcdFaults,
    ...apiserverFaults,
    ...controllerManagerFaults,
    ...schedulerFaults,
    ...kubeletFaults,
    ...podNetworkFaults,
    ...flannelFaults,
    ...corednsFaults,
    ...kubeProxyFaults,
    ...ingressFaults,
    ...resourcesFaults,
    ...securityFaults,
    ...driftFaults,
  ];
}
