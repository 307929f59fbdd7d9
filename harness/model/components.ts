// What runs where, in the seed's order: the one table the renderer (units), the installer (start
// order, health signals), the hosts suite (active, enabled, Restart=, ports) and the resources
// suite (memory budgets) all read.
import type { Role } from './cluster.ts';

export interface Component {
  /** Service name (systemd unit `<name>.service`, OpenRC script `/etc/init.d/<name>`). */
  name: string;
  role: Role;
  binary: string;
  /** TCP ports the component listens on once healthy (UDP ports in `udpPorts`). */
  tcpPorts: number[];
  udpPorts?: number[];
  /** Memory the seed measured (MiB): the default budget of the resources suite. */
  budgetMiB: number;
  /** Restart policy the seed recommends. */
  restart: 'on-failure' | 'always';
}

export const BIN_DIR = '/usr/local/bin';

/** Components in the seed's start order: etcd and apiserver first, then the rest of the master; on
 * workers containerd, flanneld, kubelet, kube-proxy, coredns. */
export const COMPONENTS: Component[] = [
  { name: 'etcd', role: 'master', binary: '/usr/bin/etcd', tcpPorts: [2379, 2380], budgetMiB: 300, restart: 'on-failure' },
  { name: 'kube-apiserver', role: 'master', binary: `${BIN_DIR}/kube-apiserver`, tcpPorts: [6443], budgetMiB: 300, restart: 'on-failure' },
  {
    name: 'kube-controller-manager',
    role: 'master',
    binary: `${BIN_DIR}/kube-controller-manager`,
    tcpPorts: [10257],
    budgetMiB: 100,
    restart: 'on-failure',
  },
  { name: 'kube-scheduler', role: 'master', binary: `${BIN_DIR}/kube-scheduler`, tcpPorts: [10259], budgetMiB: 50, restart: 'on-failure' },
  { name: 'containerd', role: 'worker', binary: '/usr/bin/containerd', tcpPorts: [], budgetMiB: 100, restart: 'always' },
  { name: 'flanneld', role: 'worker', binary: `${BIN_DIR}/flanneld`, tcpPorts: [], udpPorts: [], budgetMiB: 20, restart: 'on-failure' },
  { name: 'kubelet', role: 'worker', binary: `${BIN_DIR}/kubelet`, tcpPorts: [10250], budgetMiB: 50, restart: 'on-failure' },
  { name: 'kube-proxy', role: 'worker', binary: `${BIN_DIR}/kube-proxy`, tcpPorts: [10256], budgetMiB: 10, restart: 'on-failure' },
  { name: 'coredns', role: 'worker', binary: `${BIN_DIR}/coredns`, tcpPorts: [53], udpPorts: [53], budgetMiB: 25, restart: 'on-failure' },
];

export function componentsFor(role: Role): Component[] {
  return COMPONENTS.filter((c) => c.role === role);
}

export function component(name: string): Component {
  const c = COMPONENTS.find((x) => x.name === name);
  if (!c) throw new Error(`unknown component ${name}`);
  return c;
}

/** Local health endpoints (plain HTTP on loopback unless noted) used by the installer and suites. */
export const HEALTH = {
  flanneldHealthzPort: 5678,
  kubeletHealthzPort: 10248,
  kubeProxyHealthzPort: 10256,
  corednsHealthPort: 8081,
  corednsReadyPort: 8181,
} as const;
