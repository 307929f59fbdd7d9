// Reads and validates cluster.yaml. Every error names the file, line, field path and what was
// expected, so a wrong model is fixed in one look instead of surfacing as a broken unit later.
import { readFileSync } from 'node:fs';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { type Cluster, type Host, type LayoutName, type Role, LAYOUTS, kubernetesServiceIP } from './cluster.ts';
import {
  cidrContains,
  cidrWithHostBits,
  cidrsOverlap,
  hostBits,
  isIpAddress,
  nthAddress,
  parseCidr,
  subnetCount,
  upstreamProblem,
} from './net.ts';

export class ModelError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ModelError';
    this.problems = problems;
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Field specs: what keys a section accepts, so unknown keys are reported instead of ignored. */
const KEYS: Record<string, string[]> = {
  '': [
    'name',
    'clusterDomain',
    'podCIDR',
    'podSubnetLength',
    'serviceCIDR',
    'apiserver',
    'flannel',
    'dns',
    'kubelet',
    'kubeProxy',
    'containerd',
    'cniBinDir',
    'layout',
    'ingress',
    'masters',
    'workers',
  ],
  apiserver: ['port', 'staticToken'],
  flannel: ['backend', 'vni', 'port', 'etcdPrefix'],
  dns: ['upstreams', 'probeName'],
  kubelet: ['systemReserved'],
  'kubelet.systemReserved': ['cpu', 'memory'],
  kubeProxy: ['conntrackMaxPerCore'],
  containerd: ['restrictOomScoreAdj'],
  ingress: ['hosts', 'plainHosts', 'acmeServer', 'acmeEmail'],
  host: ['host', 'nodeName', 'address', 'internalAddress', 'init'],
  worker: ['host', 'nodeName', 'address', 'internalAddress', 'init', 'podSubnet'],
};

interface Ctx {
  /** For YAML aliases (*name): they stand for their anchor's node. */
  doc?: Document.Parsed;
  file: string;
  lines: LineCounter;
  problems: string[];
}

function where(ctx: Ctx, node: Node | null | undefined): string {
  const off = node?.range?.[0];
  if (off === undefined) return ctx.file;
  const { line, col } = ctx.lines.linePos(off);
  return `${ctx.file}:${line}:${col}`;
}

function problem(ctx: Ctx, node: Node | null | undefined, path: string, msg: string): void {
  ctx.problems.push(`${where(ctx, node)}: ${path || '(top level)'}: ${msg}`);
}

/** An alias (*name) read as its anchor's node, so `port: *p` is a number, not "a list or mapping". */
function resolveAlias(ctx: Ctx, node: Node | undefined): Node | undefined {
  if (!isAlias(node) || !ctx.doc) return node;
  try {
    return (node.resolve(ctx.doc) as Node | undefined) ?? node;
  } catch {
    return node;
  }
}

/** A view over a YAML map that reads typed fields and reports precise problems. */
class Section {
  readonly ctx: Ctx;
  readonly node: Node | null | undefined;
  readonly path: string;
  constructor(ctx: Ctx, node: Node | null | undefined, path: string, keysOf: string) {
    this.ctx = ctx;
    this.node = node;
    this.path = path;
    if (node === undefined || node === null) return;
    if (!isMap(node)) {
      problem(ctx, node, path, 'expected a mapping of keys to values');
      return;
    }
    const allowed = KEYS[keysOf]!;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!allowed.includes(key)) {
        problem(
          ctx,
          pair.key as Node,
          this.sub(key),
          key === '<<'
            ? 'YAML merge keys (<<: *anchor) are not read; fix: write the keys out (aliases of single values and lists are fine)'
            : `unknown key "${key}" (known keys: ${allowed.join(', ')})`,
        );
      }
    }
  }
  sub(key: string | number): string {
    return typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
  }
  get(key: string): Node | undefined {
    return isMap(this.node) ? resolveAlias(this.ctx, this.node.get(key, true) as Node | undefined) : undefined;
  }
  section(key: string, keysOf: string): Section {
    return new Section(this.ctx, this.get(key), this.sub(key), keysOf);
  }
  private scalar(key: string): { node?: Node; value?: unknown } {
    const node = this.get(key);
    if (node === undefined) return {};
    if (!isScalar(node)) {
      problem(this.ctx, node, this.sub(key), 'expected a single value, got a list or mapping');
      return { node };
    }
    return { node, value: node.value };
  }
  string(key: string, opts: { required?: boolean; def?: string; test?: (s: string) => string | undefined } = {}): string {
    const { node, value } = this.scalar(key);
    if (value === undefined || value === null) {
      if (opts.required) problem(this.ctx, node ?? this.node, this.sub(key), 'is required');
      return opts.def ?? '';
    }
    if (typeof value !== 'string') {
      problem(this.ctx, node, this.sub(key), `expected a string, got ${JSON.stringify(value)}`);
      return opts.def ?? '';
    }
    const err = opts.test?.(value);
    if (err) problem(this.ctx, node, this.sub(key), err);
    return value;
  }
  int(key: string, def: number, min: number, max: number): number {
    const { node, value } = this.scalar(key);
    if (value === undefined || value === null) return def;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problem(this.ctx, node, this.sub(key), `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return def;
    }
    return value;
  }
  bool(key: string, def: boolean): boolean {
    const { node, value } = this.scalar(key);
    if (value === undefined || value === null) return def;
    if (typeof value !== 'boolean') {
      problem(this.ctx, node, this.sub(key), `expected true or false, got ${JSON.stringify(value)}`);
      return def;
    }
    return value;
  }
  list(key: string): Node[] | undefined {
    const node = this.get(key);
    if (node === undefined || node === null) return undefined;
    if (!isSeq(node)) {
      problem(this.ctx, node, this.sub(key), 'expected a list');
      return undefined;
    }
    return (node.items as Node[]).map((n) => resolveAlias(this.ctx, n)!);
  }
  strings(key: string, def: string[], test?: (s: string) => string | undefined): string[] {
    const items = this.list(key);
    if (!items) return def;
    const out: string[] = [];
    items.forEach((item, i) => {
      const p = `${this.sub(key)}[${i}]`;
      if (!isScalar(item) || typeof item.value !== 'string') {
        problem(this.ctx, item, p, `expected a string, got ${JSON.stringify(isScalar(item) ? item.value : item)}`);
        return;
      }
      const err = test?.(item.value);
      if (err) problem(this.ctx, item, p, err);
      out.push(item.value);
    });
    return out;
  }
}

const ipTest = (s: string) =>
  isIpAddress(s)
    ? undefined
    : /^\[.*\]$/.test(s) && isIpAddress(s.slice(1, -1))
      ? `expected an address without brackets, got "${s}"; fix: write ${s.slice(1, -1)} (hardway brackets IPv6 where URLs need it)`
      : `expected an IPv4 or IPv6 address, got "${s}"`;
const cidrTest = (s: string) => {
  if (!parseCidr(s)) return `expected a CIDR such as 10.200.0.0/16, got "${s}"`;
  const net = cidrWithHostBits(s);
  return net ? `${s} has host bits set (the address is not the network's first); fix: write ${net}` : undefined;
};
/** CoreDNS's forward plugin: "The number of upstreams is limited to 15" (plugin/forward README). */
const MAX_UPSTREAMS = 15;
const dnsNameTest = (s: string) =>
  DNS_NAME.test(s) ? undefined : `expected a DNS name (lower case letters, digits, '-' and '.'), got "${s}"`;
const labelTest = (s: string) => (DNS_LABEL.test(s) ? undefined : `expected a host name (lower case letters, digits and '-'), got "${s}"`);
const upstreamTest = (s: string) => {
  const why = upstreamProblem(s);
  return why
    ? `${why === 'expected a resolv.conf path or an address' ? why : `expected a resolv.conf path or an address: ${why}`}, got "${s}"`
    : undefined;
};

function readHosts(root: Section, key: 'masters' | 'workers', role: Role): Host[] {
  const items = root.list(key);
  if (!items || items.length === 0) {
    problem(root.ctx, root.get(key) ?? root.node, key, `at least one ${role} is required`);
    return [];
  }
  return items.map((item, i) => {
    const s = new Section(root.ctx, item, `${key}[${i}]`, role === 'worker' ? 'worker' : 'host');
    const host = s.string('host', { required: true, test: labelTest });
    const address = s.string('address', { required: true, test: ipTest });
    const init = s.string('init', {
      def: 'systemd',
      test: (v) => (v === 'systemd' || v === 'openrc' ? undefined : `expected "systemd" or "openrc", got "${v}"`),
    });
    return {
      host,
      role,
      nodeName: s.string('nodeName', { def: host, test: dnsNameTest }),
      address,
      internalAddress: s.string('internalAddress', { def: address, test: ipTest }),
      init: init as Host['init'],
      ...(role === 'worker' && s.get('podSubnet') !== undefined ? { podSubnet: s.string('podSubnet', { test: cidrTest }) } : {}),
    };
  });
}

/** The i-th subnet of prefix length `len` inside `cidr` (10.200.0.0/16, 24, 1 -> 10.200.1.0/24). */
function nthSubnet(cidr: string, len: number, i: number): string | undefined {
  const c = parseCidr(cidr);
  if (c?.family !== 4 || len < c.prefix || BigInt(i) >= subnetCount(c, len)) return undefined;
  return `${nthAddress(c, i * 2 ** (32 - len))}/${len}`;
}

/**
 * What each layout needs of the model. kthw: KTHW's one server (etcd named "controller", plain
 * http on loopback), systemd hosts, no HTTPS edge or static token, and a pod subnet per worker
 * (machines.txt's 4th column; by default the i-th /podSubnetLength of podCIDR, as KTHW numbers
 * node-0 10.200.0.0/24, node-1 10.200.1.0/24). seed: flannel leases the subnets itself.
 */
function layoutRules(ctx: Ctx, root: Section, c: Cluster): void {
  const workerNode = (i: number, f: string) => {
    const n = root.list('workers')?.[i];
    return (isMap(n) ? (n.get(f, true) as Node | undefined) : undefined) ?? n;
  };
  if (c.layout !== 'kthw') {
    c.workers.forEach((w, i) => {
      if (w.podSubnet)
        problem(
          ctx,
          workerNode(i, 'podSubnet'),
          `workers[${i}].podSubnet`,
          "only the kthw layout takes a pod subnet per worker (the seed layout's flannel leases them); fix: remove it, or set layout: kthw",
        );
    });
    return;
  }
  if (c.masters.length !== 1)
    problem(
      ctx,
      root.get('masters'),
      'masters',
      `the kthw layout has exactly one server (KTHW's etcd runs one member on 127.0.0.1), got ${c.masters.length}`,
    );
  [
    ...c.masters.map((h, i) => [h, `masters[${i}]`, root.list('masters')?.[i]] as const),
    ...c.workers.map((h, i) => [h, `workers[${i}]`, root.list('workers')?.[i]] as const),
  ].forEach(([h, p, n]) => {
    if (h.init !== 'systemd')
      problem(ctx, isMap(n) ? (n.get('init', true) as Node) : n, `${p}.init`, 'the kthw layout runs systemd units only');
  });
  if (c.ingress)
    problem(ctx, root.get('ingress'), 'ingress', 'the kthw layout has no HTTPS edge (KTHW installs none); fix: remove the ingress section');
  const apiserver = root.get('apiserver');
  if (c.apiserver.staticToken && isMap(apiserver) && apiserver.has('staticToken')) {
    problem(
      ctx,
      apiserver.get('staticToken', true) as Node,
      'apiserver.staticToken',
      "KTHW's apiserver has no token file; fix: remove it (the kthw layout defaults to false)",
    );
  }
  if (c.apiserver.port !== 6443)
    problem(
      ctx,
      isMap(apiserver) ? (apiserver.get('port', true) as Node) : apiserver,
      'apiserver.port',
      "KTHW's apiserver listens on 6443 (its unit sets no --secure-port)",
    );
  c.workers.forEach((w, i) => {
    if (w.nodeName !== w.host)
      problem(
        ctx,
        workerNode(i, 'nodeName'),
        `workers[${i}].nodeName`,
        "KTHW's kubelets register under their host name (no --hostname-override); fix: remove nodeName",
      );
  });
  const pod = parseCidr(c.podCIDR);
  const seen: { cidr: NonNullable<ReturnType<typeof parseCidr>>; at: string }[] = [];
  c.workers.forEach((w, i) => {
    const p = `workers[${i}].podSubnet`;
    if (w.podSubnet === undefined) {
      const d = nthSubnet(c.podCIDR, c.podSubnetLength, i);
      if (d) w.podSubnet = d;
      return;
    }
    const sub = parseCidr(w.podSubnet);
    if (!sub || !pod) return;
    if (sub.family !== pod.family || sub.prefix < pod.prefix || !cidrContains(pod, nthAddress(sub, 0))) {
      problem(ctx, workerNode(i, 'podSubnet'), p, `${w.podSubnet} lies outside podCIDR ${c.podCIDR}`);
      return;
    }
    const clash = seen.find((x) => cidrsOverlap(x.cidr, sub));
    if (clash) problem(ctx, workerNode(i, 'podSubnet'), p, `${w.podSubnet} overlaps ${clash.at}; each worker needs its own pod subnet`);
    seen.push({ cidr: sub, at: p });
  });
}

/** Cross-field rules: overlapping CIDRs, duplicate names and addresses, addresses inside cluster ranges. */
function crossCheck(ctx: Ctx, root: Section, c: Cluster): void {
  const pod = parseCidr(c.podCIDR);
  const svc = parseCidr(c.serviceCIDR);
  if (pod && svc && cidrsOverlap(pod, svc)) {
    problem(ctx, root.get('serviceCIDR'), 'serviceCIDR', `${c.serviceCIDR} overlaps podCIDR ${c.podCIDR}; pick disjoint ranges`);
  }
  // The kubernetes service takes the first address after the network's; Kubernetes keeps the
  // network (and IPv4 broadcast) address back, so /31 and /32 (/127, /128) hold no service at all.
  if (svc && hostBits(svc) < 2) {
    problem(
      ctx,
      root.get('serviceCIDR'),
      'serviceCIDR',
      `${c.serviceCIDR} is too small to hold the kubernetes service address (${c.kubernetesServiceIP || 'the first address'}) and any other service; fix: use at least a /${svc.family === 4 ? 30 : 126}, e.g. the seed's 10.32.0.0/24`,
    );
  }
  if (pod && subnetCount(pod, c.podSubnetLength) < BigInt(c.workers.length)) {
    problem(
      ctx,
      root.get('podSubnetLength'),
      'podSubnetLength',
      `podCIDR ${c.podCIDR} has room for fewer than ${c.workers.length} /${c.podSubnetLength} worker subnets`,
    );
  }
  const seen = new Map<string, string>();
  const hostNodes = (key: 'masters' | 'workers') => root.list(key) ?? [];
  const dup = (kind: string, value: string, path: string, node: Node | undefined) => {
    const k = `${kind}:${value}`;
    const prev = seen.get(k);
    if (prev) problem(ctx, node, path, `duplicate ${kind} "${value}" (also at ${prev})`);
    else seen.set(k, path);
  };
  for (const key of ['masters', 'workers'] as const) {
    const hosts = key === 'masters' ? c.masters : c.workers;
    hosts.forEach((h, i) => {
      const node = hostNodes(key)[i];
      const field = (f: string) => (isMap(node) ? (node.get(f, true) as Node | undefined) : undefined) ?? node;
      const p = `${key}[${i}]`;
      if (h.host) dup('host name', h.host, `${p}.host`, field('host'));
      // A nodeName left out defaults to the host name: say so, the path names no written field.
      const nodeNamePath = isMap(node) && !node.has('nodeName') ? `${p}.nodeName (not set, defaults to host)` : `${p}.nodeName`;
      if (h.nodeName) dup('node name', h.nodeName, nodeNamePath, field('nodeName'));
      if (h.address) dup('address', h.address, `${p}.address`, field('address'));
      for (const [f, cidr, name] of [
        ['address', pod, 'podCIDR'],
        ['address', svc, 'serviceCIDR'],
        ['internalAddress', pod, 'podCIDR'],
        ['internalAddress', svc, 'serviceCIDR'],
      ] as const) {
        const ip = h[f];
        // internalAddress defaulted to (or equal to) address: already reported for address.
        if (f === 'internalAddress' && ip === h.address) continue;
        if (cidr && ip && cidrContains(cidr, ip)) {
          problem(ctx, field(f), `${p}.${f}`, `${ip} lies inside ${name} ${cidr.text}; host addresses must be outside cluster ranges`);
        }
      }
    });
  }
}

export interface ParseOptions {
  /** Overrides the file's layout field (hardway render --layout). */
  layout?: LayoutName;
}

export function parseCluster(text: string, file = 'cluster.yaml', opts: ParseOptions = {}): Cluster {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const ctx: Ctx = { file, lines, problems: [], doc };
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    ctx.problems.push(`${file}:${line}:${col}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  if (ctx.problems.length) throw new ModelError(ctx.problems);
  const root = new Section(ctx, doc.contents as Node, '', '');
  if (!isMap(doc.contents)) throw new ModelError(ctx.problems.length ? ctx.problems : [`${file}: expected a mapping at the top level`]);

  const serviceCIDR = root.string('serviceCIDR', { def: '10.32.0.0/24', test: cidrTest });
  const layout =
    opts.layout ??
    (root.string('layout', {
      def: 'seed',
      test: (v) => ((LAYOUTS as string[]).includes(v) ? undefined : `expected ${LAYOUTS.map((l) => `"${l}"`).join(' or ')}, got "${v}"`),
    }) as LayoutName);
  const apiserver = root.section('apiserver', 'apiserver');
  const flannel = root.section('flannel', 'flannel');
  const dns = root.section('dns', 'dns');
  const kubelet = root.section('kubelet', 'kubelet');
  const reserved = kubelet.get('systemReserved') ? kubelet.section('systemReserved', 'kubelet.systemReserved') : undefined;
  const kubeProxy = root.section('kubeProxy', 'kubeProxy');
  const containerd = root.section('containerd', 'containerd');
  const ingress = root.get('ingress') ? root.section('ingress', 'ingress') : undefined;
  const backend = flannel.string('backend', {
    def: 'vxlan',
    test: (v) => (v === 'vxlan' || v === 'host-gw' ? undefined : `expected "vxlan" or "host-gw", got "${v}"`),
  });
  const upstreamsNode = dns.get('upstreams');
  if (isSeq(upstreamsNode) && upstreamsNode.items.length === 0) {
    // CoreDNS refuses `forward .` without a destination: the whole DNS service would not start.
    problem(ctx, upstreamsNode, 'dns.upstreams', 'expected at least one upstream (leave the key out for /etc/resolv.conf)');
  } else if (isSeq(upstreamsNode) && upstreamsNode.items.length > MAX_UPSTREAMS) {
    problem(
      ctx,
      upstreamsNode,
      'dns.upstreams',
      `${upstreamsNode.items.length} upstreams, but CoreDNS's forward plugin takes at most ${MAX_UPSTREAMS} (it would not start); fix: keep ${MAX_UPSTREAMS} or fewer`,
    );
  }
  const maxPerCore = kubeProxy.get('conntrackMaxPerCore') !== undefined ? kubeProxy.int('conntrackMaxPerCore', 0, 0, 1 << 24) : undefined;

  const cluster: Cluster = {
    name: root.string('name', { required: true, test: labelTest }),
    layout,
    clusterDomain: root.string('clusterDomain', { def: 'cluster.local', test: dnsNameTest }),
    podCIDR: root.string('podCIDR', { def: '10.200.0.0/16', test: cidrTest }),
    podSubnetLength: root.int('podSubnetLength', 24, 8, 30),
    serviceCIDR,
    kubernetesServiceIP: parseCidr(serviceCIDR) ? kubernetesServiceIP(serviceCIDR) : '',
    apiserver: { port: apiserver.int('port', 6443, 1, 65535), staticToken: apiserver.bool('staticToken', layout === 'seed') },
    flannel: {
      backend: backend as Cluster['flannel']['backend'],
      vni: flannel.int('vni', 1, 1, 16777215),
      port: flannel.int('port', 8472, 1, 65535),
      etcdPrefix: flannel.string('etcdPrefix', { def: '/coreos.com/network' }),
    },
    dns: {
      upstreams: dns.strings('upstreams', ['/etc/resolv.conf'], upstreamTest),
      ...(dns.get('probeName') ? { probeName: dns.string('probeName', { test: dnsNameTest }) } : {}),
    },
    kubelet: reserved
      ? { systemReserved: { cpu: reserved.string('cpu', { def: '200m' }), memory: reserved.string('memory', { def: '600Mi' }) } }
      : {},
    kubeProxy: maxPerCore !== undefined ? { conntrackMaxPerCore: maxPerCore } : {},
    containerd: { restrictOomScoreAdj: containerd.bool('restrictOomScoreAdj', false) },
    cniBinDir: root.string('cniBinDir', {
      def: '/opt/cni/bin',
      test: (s) => (s.startsWith('/') ? undefined : 'expected an absolute path'),
    }),
    ...(ingress
      ? {
          ingress: {
            hosts: ingress.strings('hosts', [], dnsNameTest),
            plainHosts: ingress.strings('plainHosts', [], dnsNameTest),
            acmeServer: ingress.string('acmeServer', {
              required: true,
              test: (s) => (/^https:\/\/\S+$/.test(s) ? undefined : `expected an https:// ACME directory URL, got "${s}"`),
            }),
            acmeEmail: ingress.string('acmeEmail', { def: 'admin@example.org' }),
          },
        }
      : {}),
    masters: readHosts(root, 'masters', 'master'),
    workers: readHosts(root, 'workers', 'worker'),
  };
  crossCheck(ctx, root, cluster);
  layoutRules(ctx, root, cluster);
  if (ctx.problems.length) throw new ModelError(ctx.problems);
  return cluster;
}

export function loadCluster(file: string, opts: ParseOptions = {}): Cluster {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError([`${file}: cannot read the cluster model (${code ?? String(e)}); pass --config <path to cluster.yaml>`]);
  }
  return parseCluster(text, file, opts);
}
