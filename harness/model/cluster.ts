// The cluster model: what `cluster.yaml` describes, with every default filled in. Everything else
// (rendering, the installer, the suites) reads this, never the YAML.
import { hostPort, nthAddress, parseCidr } from './net.ts';

export type InitSystem = 'systemd' | 'openrc';
export type FlannelBackend = 'vxlan' | 'host-gw';
export type Role = 'master' | 'worker';
/** How the cluster is laid out on its hosts: the seed article's way or Kubernetes The Hard Way's. */
export type LayoutName = 'seed' | 'kthw';
export const LAYOUTS: readonly LayoutName[] = ['seed', 'kthw'];

export interface Host {
  /** The machine's host name (also the folder name in a rendered tree). */
  host: string;
  role: Role;
  /** Node name the kubelet registers under (the seed's NODE_NAME); defaults to the host name. */
  nodeName: string;
  /** Address others reach this host at (the seed's PUBLIC_IP). */
  address: string;
  /** Address on the private network; defaults to `address`. */
  internalAddress: string;
  init: InitSystem;
  /** Workers of the kthw layout: the node's pod subnet (KTHW's machines.txt, 4th column), which
   * its bridge CNI hands out and the other hosts route to it. */
  podSubnet?: string;
}

export interface Cluster {
  name: string;
  /** Absent means seed (models made before layouts existed). */
  layout?: LayoutName;
  clusterDomain: string;
  podCIDR: string;
  /** Prefix length of each worker's pod subnet (flannel's SubnetLen). */
  podSubnetLength: number;
  serviceCIDR: string;
  /** First address of the service CIDR: the `kubernetes` service. */
  kubernetesServiceIP: string;
  apiserver: { port: number; staticToken: boolean };
  flannel: { backend: FlannelBackend; vni: number; port: number; etcdPrefix: string };
  dns: {
    /** Where CoreDNS forwards names outside the cluster domain ("/etc/resolv.conf" or addresses). */
    upstreams: string[];
    /** A name outside the cluster the coredns suite resolves through the upstream. */
    probeName?: string;
  };
  kubelet: { systemReserved?: { cpu: string; memory: string } };
  kubeProxy: { conntrackMaxPerCore?: number };
  /** Hosts without CAP_SYS_RESOURCE (containers, LXC/OpenVZ VPSes) cannot lower oom_score_adj:
   * containerd must clamp pods' values to its own (restrict_oom_score_adj). */
  containerd: { restrictOomScoreAdj: boolean };
  cniBinDir: string;
  ingress?: {
    /** Host names served over HTTPS with a certificate from the ACME server. */
    hosts: string[];
    /** Host names served over plain HTTP (the seed's no-https.<domain>). */
    plainHosts: string[];
    acmeServer: string;
    acmeEmail: string;
  };
  masters: Host[];
  workers: Host[];
}

export function layoutOf(c: Cluster): LayoutName {
  return c.layout ?? 'seed';
}

export function allHosts(c: Cluster): Host[] {
  return [...c.masters, ...c.workers];
}

export function findHost(c: Cluster, name: string): Host | undefined {
  return allHosts(c).find((h) => h.host === name);
}

export function kubernetesServiceIP(serviceCIDR: string): string {
  const c = parseCidr(serviceCIDR);
  if (!c) throw new Error(`not a CIDR: ${serviceCIDR}`);
  return nthAddress(c, 1);
}

/** The apiserver URL components use (the first master's address; IPv6 in brackets). */
export function apiserverUrl(c: Cluster): string {
  return `https://${hostPort(c.masters[0]!.address, c.apiserver.port)}`;
}

/** etcd client URLs (one member per master, as in the seed). */
export function etcdEndpoints(c: Cluster): string[] {
  return c.masters.map((m) => `https://${hostPort(m.internalAddress, 2379)}`);
}

/** A resolv.conf names at most 3 servers (glibc's MAXNS): the kubelet drops the rest. */
export const MAX_NAMESERVERS = 3;

/** Addresses of the DNS servers pods are given: CoreDNS on the workers, as in the seed (the first
 * three: the kubelet would keep no more, and says so in an event on every pod). */
export function clusterDnsAddresses(c: Cluster): string[] {
  return c.workers.slice(0, MAX_NAMESERVERS).map((w) => w.internalAddress);
}
