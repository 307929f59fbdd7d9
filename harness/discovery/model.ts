// The cluster model as the facts say it is: every field of cluster.yaml that a cluster's own
// configuration decides, with where it was read ("node-1:/var/lib/kubelet/kubelet-config.yaml
// clusterDomain"), or "default: <what the component does without it>". Without a model in the
// inventory this is the model; with one, the drift suite compares the two.
import { kubernetesServiceIP, type Cluster, type Host, type InitSystem } from '../model/cluster.ts';
import { parseCidr } from '../model/net.ts';
import type { FlannelNetConf } from './parse/flannel.ts';
import { type ClusterFacts, type ComponentFacts, componentOn, componentsOf, podNetworkOf } from './facts.ts';

export interface EdgeFacts {
  hosts: string[];
  plainHosts: string[];
  acmeServer: string;
  acmeEmail: string;
  /** Where each was read (API objects). */
  source: string;
}

export interface DerivedModel {
  cluster: Cluster;
  /** Field path ("clusterDomain", "workers.node-1.nodeName") -> where its value was read. */
  sources: Record<string, string>;
  /** Why the model is incomplete (no apiserver found, hosts without components...). */
  problems: string[];
  /** Why the HTTPS edge could not be read from the API (then its checks cannot tell). */
  edgeUnknown?: string;
}

export interface DeriveOptions {
  name?: string;
  /** Addresses the target reaches each host at (the inventory's). */
  addresses?: Map<string, string>;
  /** Test inputs that no cluster configuration holds. */
  probeName?: string;
  /** flannel's network config as read from its store (etcd or net-conf.json). */
  flannelConfig?: FlannelNetConf;
  flannelConfigSource?: string;
  edge?: EdgeFacts;
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

function urlHost(u: string): string | undefined {
  try {
    return new URL(u).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/** A host's address on the cluster's network, from what its components bind or advertise. */
function internalAddressOf(comps: ComponentFacts[]): { value?: string; source?: string } {
  const kubelet = comps.find((c) => c.kind === 'kubelet');
  if (kubelet?.kubelet?.nodeIP) return { value: kubelet.kubelet.nodeIP.split(',')[0]!, source: kubelet.source('node-ip') };
  const api = comps.find((c) => c.kind === 'kube-apiserver');
  if (api?.flags.get('advertise-address')) return { value: api.flags.get('advertise-address')!, source: api.source('advertise-address') };
  const etcd = comps.find((c) => c.kind === 'etcd');
  for (const flag of ['advertise-client-urls', 'initial-advertise-peer-urls', 'listen-peer-urls']) {
    const h = etcd?.flags
      .list(flag)
      .map(urlHost)
      .find((x) => x && !LOOPBACK.test(x));
    if (h) return { value: h, source: etcd!.source(flag) };
  }
  return {};
}

export function modelFromFacts(facts: ClusterFacts, opts: DeriveOptions = {}): DerivedModel {
  const sources: Record<string, string> = {};
  const problems: string[] = [];
  const set = <T>(field: string, value: T, source: string): T => {
    sources[field] = source;
    return value;
  };
  const masters: Host[] = [];
  const workers: Host[] = [];
  for (const h of facts.hosts) {
    const kinds = new Set(h.components.map((c) => c.kind));
    const isMaster = kinds.has('kube-apiserver') || (kinds.has('etcd') && !kinds.has('kubelet'));
    const isWorker = kinds.has('kubelet');
    if (!isMaster && !isWorker) {
      problems.push(`${h.host}: no Kubernetes component found (${h.components.map((c) => c.kind).join(', ') || 'no service runs one'})`);
      continue;
    }
    const kubelet = h.components.find((c) => c.kind === 'kubelet');
    const internal = internalAddressOf(h.components);
    const address = opts.addresses?.get(h.host) ?? internal.value ?? h.host;
    const nodeName = kubelet?.kubelet?.hostnameOverride ?? h.hostname ?? h.host;
    const init: InitSystem = h.init === 'openrc' ? 'openrc' : 'systemd';
    const key = (role: string, f: string) => `${role}.${h.host}.${f}`;
    const make = (role: 'master' | 'worker'): Host => {
      sources[key(`${role}s`, 'address')] = opts.addresses?.has(h.host) ? 'the inventory' : (internal.source ?? 'the host name');
      sources[key(`${role}s`, 'internalAddress')] = internal.source ?? 'its address';
      if (role === 'worker')
        sources[key('workers', 'nodeName')] = kubelet?.kubelet?.hostnameOverride
          ? kubelet.source('hostname-override')
          : `${h.host}: hostname`;
      sources[key(`${role}s`, 'init')] = `${h.host}: ${h.init}`;
      return { host: h.host, role, nodeName: nodeName.toLowerCase(), address, internalAddress: internal.value ?? address, init };
    };
    if (isMaster) masters.push(make('master'));
    if (isWorker) workers.push(make('worker'));
  }
  if (!masters.length) problems.push('no host runs kube-apiserver (or etcd): the cluster has no master that discovery could find');
  if (!workers.length) problems.push('no host runs a kubelet: the cluster has no worker that discovery could find');

  const api = componentsOf(facts, 'kube-apiserver')[0];
  const kcm = componentsOf(facts, 'kube-controller-manager')[0];
  const kubelet = componentsOf(facts, 'kubelet')[0];
  const proxy = componentsOf(facts, 'kube-proxy')[0];
  const containerd = componentsOf(facts, 'containerd')[0];
  const coredns = componentsOf(facts, 'coredns')[0];
  const flanneld = componentsOf(facts, 'flanneld')[0];

  const name = opts.name
    ? set('name', opts.name, 'the inventory')
    : kcm?.flags.get('cluster-name')
      ? set('name', kcm.flags.get('cluster-name')!, kcm.source('cluster-name'))
      : set('name', 'kubernetes', 'default: kube-controller-manager --cluster-name');
  const serviceCIDR = api?.flags.get('service-cluster-ip-range')
    ? set('serviceCIDR', api.flags.list('service-cluster-ip-range')[0]!, api.source('service-cluster-ip-range'))
    : set('serviceCIDR', '10.0.0.0/24', 'default: kube-apiserver without --service-cluster-ip-range uses 10.0.0.0/24');
  const clusterDomain = kubelet?.kubelet?.clusterDomain
    ? set('clusterDomain', kubelet.kubelet.clusterDomain, sourceOf(kubelet, 'clusterDomain', 'cluster-domain'))
    : set('clusterDomain', 'cluster.local', 'default: no kubelet sets clusterDomain (pods get no cluster DNS search domain)');
  const fc = opts.flannelConfig;
  const podCIDR = kcm?.flags.get('cluster-cidr')
    ? set('podCIDR', kcm.flags.get('cluster-cidr')!, kcm.source('cluster-cidr'))
    : fc?.Network
      ? set('podCIDR', fc.Network, opts.flannelConfigSource ?? 'flannel network config')
      : proxy?.kubeProxy?.clusterCIDR
        ? set('podCIDR', proxy.kubeProxy.clusterCIDR, `${proxy.host}: kube-proxy clusterCIDR`)
        : set('podCIDR', '10.200.0.0/16', 'default: no component names the pod network');
  const bridgeSubnet = facts.hosts.map((h) => h.cni?.containerd?.plugins.find((p) => p.type === 'bridge')?.ipam?.subnets[0]).find((s) => s);
  const podSubnetLength = fc
    ? set('podSubnetLength', fc.SubnetLen, opts.flannelConfigSource ?? 'flannel network config')
    : kcm?.flags.get('node-cidr-mask-size')
      ? set('podSubnetLength', Number(kcm.flags.get('node-cidr-mask-size')), kcm.source('node-cidr-mask-size'))
      : bridgeSubnet && parseCidr(bridgeSubnet)
        ? set('podSubnetLength', parseCidr(bridgeSubnet)!.prefix, 'the bridge CNI config of the workers')
        : set('podSubnetLength', 24, fc ? 'default: flannel SubnetLen 24' : 'default');
  const port = Number(api?.flags.get('secure-port') ?? 6443);
  set('apiserver.port', port, api?.flags.has('secure-port') ? api.source('secure-port') : 'default: kube-apiserver --secure-port 6443');
  const staticToken = set(
    'apiserver.staticToken',
    !!api?.flags.has('token-auth-file'),
    api?.flags.has('token-auth-file') ? api.source('token-auth-file') : 'no --token-auth-file',
  );
  const backend = fc?.Backend?.Type === 'host-gw' ? 'host-gw' : 'vxlan';
  if (flanneld) {
    set('flannel.backend', backend, opts.flannelConfigSource ?? 'default: vxlan');
    set('flannel.vni', fc?.Backend?.VNI ?? 1, opts.flannelConfigSource ?? 'default: VNI 1');
  }
  const upstreams = coredns?.corefile?.value.servers.find((s) => s.zones.includes('.'))?.forward[0]?.to ?? [];
  if (coredns) set('dns.upstreams', upstreams, `${coredns.host}:${coredns.corefile?.path ?? 'Corefile'} forward`);
  const cc = containerd?.containerd?.value;
  const restrict = cc?.restrictOomScoreAdj ?? false;
  if (containerd)
    set(
      'containerd.restrictOomScoreAdj',
      restrict,
      `${containerd.host}:${containerd.containerd?.path ?? '/etc/containerd/config.toml'} restrict_oom_score_adj`,
    );
  const cniBinDir = cc?.cniBinDirs[0] ?? '/opt/cni/bin';
  const reserved = kubeletRaw(kubelet, 'systemReserved') as { cpu?: string; memory?: string } | undefined;
  const conntrack = (proxyRaw(proxy, 'conntrack') as { maxPerCore?: number } | undefined)?.maxPerCore;
  if (reserved) set('kubelet.systemReserved', reserved, sourceOf(kubelet!, 'systemReserved', 'system-reserved'));
  if (conntrack !== undefined)
    set('kubeProxy.conntrackMaxPerCore', conntrack, `${proxy!.host}:${proxy!.kubeProxy?.configFile} conntrack.maxPerCore`);
  if (opts.edge) {
    for (const f of ['ingress.hosts', 'ingress.plainHosts', 'ingress.acmeServer', 'ingress.acmeEmail']) sources[f] = opts.edge.source;
  }
  if (podNetworkOf(facts) === 'bridge') {
    for (const w of workers) {
      const sub = facts.hosts.find((h) => h.host === w.host)?.cni?.containerd?.plugins.find((p) => p.type === 'bridge')?.ipam?.subnets[0];
      if (sub) {
        w.podSubnet = sub;
        sources[`workers.${w.host}.podSubnet`] = `${w.host}:${facts.hosts.find((h) => h.host === w.host)!.cni!.containerd!.file} ipam`;
      }
    }
  }
  const cluster: Cluster = {
    name,
    layout: 'seed',
    clusterDomain,
    podCIDR,
    podSubnetLength,
    serviceCIDR,
    kubernetesServiceIP: parseCidr(serviceCIDR) ? kubernetesServiceIP(serviceCIDR) : '10.0.0.1',
    apiserver: { port, staticToken },
    flannel: {
      backend,
      vni: fc?.Backend?.VNI ?? 1,
      port: fc?.vxlanPort ?? 8472,
      etcdPrefix: flanneld?.flannel?.etcdPrefix ?? '/coreos.com/network',
    },
    dns: { upstreams, ...(opts.probeName ? { probeName: opts.probeName } : {}) },
    kubelet: reserved ? { systemReserved: { cpu: reserved.cpu ?? '0', memory: reserved.memory ?? '0' } } : {},
    kubeProxy: conntrack !== undefined ? { conntrackMaxPerCore: conntrack } : {},
    containerd: { restrictOomScoreAdj: restrict },
    cniBinDir,
    ...(opts.edge
      ? {
          ingress: {
            hosts: opts.edge.hosts,
            plainHosts: opts.edge.plainHosts,
            acmeServer: opts.edge.acmeServer,
            acmeEmail: opts.edge.acmeEmail,
          },
        }
      : {}),
    masters,
    workers,
  };
  delete (cluster as { layout?: string }).layout;
  return { cluster, sources, problems };
}

function sourceOf(c: ComponentFacts, field: string, flag: string): string {
  const from = c.kubelet?.source[field];
  if (from?.startsWith('flag')) return c.source(flag);
  if (c.kubelet?.configFile) return `${c.host}:${c.kubelet.configFile} ${field}`;
  return `${c.source(flag)} (default)`;
}

/** A config file field the effective views do not carry. */
function kubeletRaw(c: ComponentFacts | undefined, field: string): unknown {
  return c?.configRaw?.[field];
}

const proxyRaw = kubeletRaw;

export { componentOn };
