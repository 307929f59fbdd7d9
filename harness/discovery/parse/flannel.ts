// flanneld's options (flags, after FLANNELD_* from the environment: see flags.ts) with flannel's
// defaults (main.go at v0.28.10), its network config (net-conf.json, or the <prefix>/config key in
// etcd) read the way Go's encoding/json reads it (field names case-insensitive), and the
// subnet.env it writes. Defaults from pkg/subnet/config.go and pkg/backend/vxlan/vxlan.go: no
// Backend means "udp", SubnetLen is 24 for networks up to /22 (else prefix + 2), vxlan VNI 1, port
// 0 = the kernel's default 8472.
import type { FlagSet } from './flags.ts';
import { type Parsed, Problems, errorMessage } from './problem.ts';

export interface FlannelOptions {
  etcdEndpoints: string[];
  etcdPrefix: string;
  etcdCAFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  kubeSubnetMgr: boolean;
  kubeconfigFile?: string;
  iface: string[];
  ifaceRegex: string[];
  publicIP?: string;
  healthzIP: string;
  /** 0: no health server. */
  healthzPort: number;
  subnetFile: string;
  netConfPath: string;
  ipMasq: boolean;
}

export function flannelOptions(flags: FlagSet): FlannelOptions {
  const s = (n: string) => flags.get(n);
  return {
    etcdEndpoints: (s('etcd-endpoints') ?? 'http://127.0.0.1:4001,http://127.0.0.1:2379').split(','),
    etcdPrefix: s('etcd-prefix') ?? '/coreos.com/network',
    ...(s('etcd-cafile') ? { etcdCAFile: s('etcd-cafile')! } : {}),
    ...(s('etcd-certfile') ? { etcdCertFile: s('etcd-certfile')! } : {}),
    ...(s('etcd-keyfile') ? { etcdKeyFile: s('etcd-keyfile')! } : {}),
    kubeSubnetMgr: flags.bool('kube-subnet-mgr') ?? false,
    ...(s('kubeconfig-file') ? { kubeconfigFile: s('kubeconfig-file')! } : {}),
    // -iface may repeat: each is tried in order.
    iface: flags.all('iface'),
    ifaceRegex: flags.all('iface-regex'),
    ...(s('public-ip') ? { publicIP: s('public-ip')! } : {}),
    healthzIP: s('healthz-ip') ?? '0.0.0.0',
    healthzPort: Number(s('healthz-port') ?? 0),
    subnetFile: s('subnet-file') ?? '/run/flannel/subnet.env',
    netConfPath: s('net-config-path') ?? '/etc/kube-flannel/net-conf.json',
    ipMasq: flags.bool('ip-masq') ?? false,
  };
}

export interface FlannelNetConf {
  Network?: string;
  SubnetLen: number;
  EnableIPv6: boolean;
  IPv6Network?: string;
  Backend: { Type: string; VNI?: number; Port?: number; DirectRouting?: boolean; MTU?: number };
  /** The vxlan device flanneld creates ("flannel.<VNI>"), for vxlan backends. */
  vxlanDevice?: string;
  /** vxlan's UDP port in effect (8472 when Port is 0 or unset). */
  vxlanPort?: number;
}

/** Go's encoding/json matches field names case-insensitively. */
function field(o: Record<string, unknown>, name: string): unknown {
  const k = Object.keys(o).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

export function parseFlannelNetConf(text: string, file: string): Parsed<FlannelNetConf | undefined> {
  const p = new Problems(file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    p.add(`not JSON: ${errorMessage(e)}`);
    return { value: undefined, problems: p.list };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    p.add('not a JSON object');
    return { value: undefined, problems: p.list };
  }
  const o = doc as Record<string, unknown>;
  const network = field(o, 'Network');
  const enableIPv6 = field(o, 'EnableIPv6') === true;
  if (network !== undefined && typeof network !== 'string') p.add('Network is not a string');
  if (network === undefined && !enableIPv6) p.add('no Network: flanneld refuses the config ("please define network")');
  const prefix = typeof network === 'string' ? Number(/\/(\d+)$/.exec(network)?.[1]) : NaN;
  let subnetLen = field(o, 'SubnetLen');
  if (subnetLen !== undefined && typeof subnetLen !== 'number') {
    p.add('SubnetLen is not a number');
    subnetLen = undefined;
  }
  const len = (subnetLen as number | undefined) || (Number.isFinite(prefix) ? (prefix <= 22 ? 24 : prefix + 2) : 24);
  if (Number.isFinite(prefix) && (len <= prefix || len > 30)) p.add(`SubnetLen ${len} does not fit Network ${String(network)}`);
  const be = field(o, 'Backend');
  const beo = be && typeof be === 'object' && !Array.isArray(be) ? (be as Record<string, unknown>) : undefined;
  if (be !== undefined && !beo) p.add('Backend is not an object');
  const type = beo ? String(field(beo, 'Type') ?? '') : 'udp';
  if (beo && !type) p.add('Backend has no Type');
  const num = (k: string) => {
    const v = beo ? field(beo, k) : undefined;
    if (v !== undefined && typeof v !== 'number') p.add(`Backend.${k} is not a number`);
    return typeof v === 'number' ? v : undefined;
  };
  const vni = num('VNI');
  const port = num('Port');
  const mtu = num('MTU');
  const dr = beo ? field(beo, 'DirectRouting') : undefined;
  const v: FlannelNetConf = {
    ...(typeof network === 'string' ? { Network: network } : {}),
    SubnetLen: len,
    EnableIPv6: enableIPv6,
    ...(typeof field(o, 'IPv6Network') === 'string' ? { IPv6Network: field(o, 'IPv6Network') as string } : {}),
    Backend: {
      Type: type,
      ...(vni !== undefined ? { VNI: vni } : {}),
      ...(port !== undefined ? { Port: port } : {}),
      ...(typeof dr === 'boolean' ? { DirectRouting: dr } : {}),
      ...(mtu !== undefined ? { MTU: mtu } : {}),
    },
  };
  if (type === 'vxlan') {
    v.vxlanDevice = `flannel.${vni ?? 1}`;
    v.vxlanPort = port || 8472;
  }
  return { value: v, problems: p.list };
}

export interface SubnetEnv {
  network?: string;
  subnet?: string;
  mtu?: number;
  ipMasq?: boolean;
  ipv6Network?: string;
  ipv6Subnet?: string;
}

/** /run/flannel/subnet.env: FLANNEL_NETWORK=..., FLANNEL_SUBNET=..., FLANNEL_MTU=..., FLANNEL_IPMASQ=... */
export function parseSubnetEnv(text: string, file: string): Parsed<SubnetEnv> {
  const p = new Problems(file);
  const kv: Record<string, string> = {};
  text.split('\n').forEach((l, i) => {
    const t = l.trim();
    if (!t || t.startsWith('#')) return;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(t);
    if (!m) p.add(`not NAME=value: ${t.slice(0, 80)}`, i + 1);
    else kv[m[1]!] = m[2]!;
  });
  const v: SubnetEnv = {};
  if (kv.FLANNEL_NETWORK) v.network = kv.FLANNEL_NETWORK;
  if (kv.FLANNEL_SUBNET) v.subnet = kv.FLANNEL_SUBNET;
  if (kv.FLANNEL_MTU) v.mtu = Number(kv.FLANNEL_MTU);
  if (kv.FLANNEL_IPMASQ) v.ipMasq = kv.FLANNEL_IPMASQ === 'true';
  if (kv.FLANNEL_IPV6_NETWORK) v.ipv6Network = kv.FLANNEL_IPV6_NETWORK;
  if (kv.FLANNEL_IPV6_SUBNET) v.ipv6Subnet = kv.FLANNEL_IPV6_SUBNET;
  if (!v.subnet && !v.ipv6Subnet) p.add('no FLANNEL_SUBNET: flanneld has not written its lease');
  return { value: v, problems: p.list };
}
