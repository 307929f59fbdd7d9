// A model for a target that gives none, before discovery has read its hosts: the hosts and their
// addresses only (roles as the inventory says, workers otherwise). verify replaces it with the
// model discovery derives; nothing checks a cluster against it.
import type { Cluster, Host, Role } from './cluster.ts';

export function provisionalCluster(name: string, hosts: { host: string; address: string; role?: Role }[]): Cluster {
  const host = (h: { host: string; address: string; role?: Role }): Host => ({
    host: h.host,
    role: h.role ?? 'worker',
    nodeName: h.host,
    address: h.address,
    internalAddress: h.address,
    init: 'systemd',
  });
  return {
    name,
    clusterDomain: 'cluster.local',
    podCIDR: '10.200.0.0/16',
    podSubnetLength: 24,
    serviceCIDR: '10.32.0.0/24',
    kubernetesServiceIP: '10.32.0.1',
    apiserver: { port: 6443, staticToken: false },
    flannel: { backend: 'vxlan', vni: 1, port: 8472, etcdPrefix: '/coreos.com/network' },
    dns: { upstreams: [] },
    kubelet: {},
    kubeProxy: {},
    containerd: { restrictOomScoreAdj: false },
    cniBinDir: '/opt/cni/bin',
    masters: hosts.filter((h) => h.role === 'master').map(host),
    workers: hosts.filter((h) => h.role !== 'master').map(host),
  };
}
