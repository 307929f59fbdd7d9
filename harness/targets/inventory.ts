// Inventories: the hosts of a cluster hardway did not create, and how to reach them over SSH.
// A hardway inventory is a YAML file (docs/inventory.md, fixtures/inventory/); an Ansible inventory
// (INI or YAML) is imported into the same shape by ansible.ts. `--target prod` resolves to
// targets/prod.yaml; any other spec that is not dir: or lab is a path to an inventory file.
// Every problem is one line: file:line:col, the field, what is wrong and the fix.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, stringify } from 'yaml';
import { type Cluster, type Role, allHosts } from '../model/cluster.ts';
import { isIpAddress } from '../model/net.ts';
import { loadCluster, parseCluster } from '../model/load.ts';
import { loadSshConfig, parseJumpSpec, resolveSshHost, type SshConfigEntry } from '../ssh/config.ts';
import type { SshEndpoint } from '../ssh/session.ts';
import { TargetError } from './target.ts';
import { parseAnsible, runAnsibleInventory } from './ansible.ts';

/** SSH settings of a host, a jump host, or the defaults for all hosts (`ssh:`). */
export interface SshSettings {
  user?: string;
  port?: number;
  /** Private key file (already expanded and absolute). */
  key?: string;
  /** true: the agent at $SSH_AUTH_SOCK; a string: that agent socket. */
  agent?: string | true;
  /** A jumpHosts name, an inventory host name, or [user@]host[:port]; "none" for no jump. */
  jump?: string;
  sudo?: boolean;
  connectTimeoutMs?: number;
  maxSessions?: number;
}

export interface InventoryHost extends SshSettings {
  name: string;
  role: Role;
  /** What to connect to: an address, a DNS name or an ~/.ssh/config alias. */
  address: string;
  /** "file:line:col" of the host's entry, for messages. */
  where: string;
}

export interface JumpHost extends SshSettings {
  name: string;
  address: string;
  where: string;
}

export type InventoryFormat = 'hardway' | 'ansible-ini' | 'ansible-yaml';

export interface Inventory {
  file: string;
  format: InventoryFormat;
  name: string;
  /** The cluster model: a file, or inline YAML text (the `cluster:` mapping). Absent: the model
   * is what discovery finds running on the hosts. */
  cluster?: { file: string } | { text: string; label: string };
  /** Images the cluster can pull for hardway's test workloads (instead of hardway's own). */
  images?: { toolbox: string; demoApp: string };
  /** A name outside the cluster that its DNS must resolve through the upstream (coredns suite). */
  probeName?: string;
  /** Admin kubeconfig on this machine; absent: the first master's /root/.kube/config over SSH. */
  kubeconfig?: string;
  /** known_hosts given explicitly (otherwise ~/.ssh/config's UserKnownHostsFile, then ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** ~/.ssh/config to resolve aliases with; undefined when disabled ("none"). */
  sshConfig?: string;
  apiserverTokenFile?: string;
  domains: string[];
  /** Security findings the owner keeps deliberately: reported as warnings, not failures. */
  accept: string[];
  defaults: SshSettings;
  jumpHosts: Map<string, JumpHost>;
  hosts: InventoryHost[];
}

export const DEFAULT_SSH_CONFIG = () => join(homedir(), '.ssh', 'config');

const FIX_DOC = 'see docs/inventory.md';
const MAX_LINES = 20;

// ---------------------------------------------------------------------------------------------
// Spec resolution

export interface InventorySpec {
  file: string;
  /** Forced by "ansible:<path>"; otherwise detected from the contents. */
  ansible: boolean;
}

/** Whether a --target spec names an inventory (anything but dir: and lab). */
export function resolveInventorySpec(spec: string, cwd: string): InventorySpec {
  if (spec.startsWith('ansible:')) {
    const file = resolve(cwd, expandPath(spec.slice(8), 'ansible:'));
    if (!existsSync(file))
      throw new TargetError(
        `${spec}: no Ansible inventory at ${file}; fix: give the path of your inventory file (hosts.ini or hosts.yaml)`,
      );
    return { file, ansible: true };
  }
  const looksLikePath = spec.includes('/') || /\.(ya?ml|ini|cfg|txt)$/i.test(spec) || spec === 'hosts';
  if (looksLikePath || existsSync(resolve(cwd, spec))) {
    const file = resolve(cwd, expandPath(spec, 'target'));
    if (!existsSync(file))
      throw new TargetError(
        `${spec}: no inventory file at ${file}; fix: check the path, or write one (see docs/inventory.md and fixtures/inventory/)`,
      );
    if (statSync(file).isDirectory())
      throw new TargetError(`${spec}: ${file} is a folder, not an inventory file; fix: for a rendered tree use --target dir:${spec}`);
    return { file, ansible: false };
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(spec))
    throw new TargetError(
      `unknown target "${spec}"; use dir:<rendered tree>, lab, <name> (targets/<name>.yaml) or a path to an inventory file`,
    );
  for (const ext of ['.yaml', '.yml']) {
    const file = join(cwd, 'targets', spec + ext);
    if (existsSync(file)) return { file, ansible: false };
  }
  throw new TargetError(
    `unknown target "${spec}": no ${join(cwd, 'targets', `${spec}.yaml`)}; fix: write the inventory there (see docs/inventory.md), or use lab, dir:<rendered tree> or a path to an inventory file`,
  );
}

// ---------------------------------------------------------------------------------------------
// Paths: ~, $VAR, ${VAR}, ${VAR:-default}; relative to the inventory's folder

export function expandPath(value: string, field: string, base?: string, env: NodeJS.ProcessEnv = process.env): string {
  let missing: string | undefined;
  let v = value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a: string | undefined, def: string | undefined, b: string | undefined) => {
      const name = (a ?? b)!;
      const got = env[name];
      if (got !== undefined && got !== '') return got;
      if (def !== undefined) return def;
      missing ??= name;
      return '';
    },
  );
  if (missing)
    throw new TargetError(
      `${field}: "${value}" uses $${missing}, which is not set; fix: export ${missing}=<path>, or write \${${missing}:-<default>}`,
    );
  if (v === '~') v = homedir();
  else if (v.startsWith('~/')) v = join(homedir(), v.slice(2));
  return base && !isAbsolute(v) ? resolve(base, v) : v;
}

// ---------------------------------------------------------------------------------------------
// Parsing the hardway format

class Problems {
  readonly list: string[] = [];
  private readonly file: string;
  private readonly lines: LineCounter;
  private readonly doc: Document.Parsed | undefined;
  constructor(file: string, lines: LineCounter, doc?: Document.Parsed) {
    this.file = file;
    this.lines = lines;
    this.doc = doc;
  }
  /** An alias (*name) read as its anchor's node. */
  resolve(node: Node | null | undefined): Node | undefined {
    if (!isAlias(node) || !this.doc) return node ?? undefined;
    try {
      return (node.resolve(this.doc) as Node | undefined) ?? node;
    } catch {
      return node;
    }
  }
  at(node: Node | null | undefined): string {
    const off = node?.range?.[0];
    if (off === undefined) return this.file;
    const { line, col } = this.lines.linePos(off);
    return `${this.file}:${line}:${col}`;
  }
  add(node: Node | null | undefined, path: string, msg: string): void {
    this.list.push(`${this.at(node)}: ${path || '(top level)'}: ${msg}`);
  }
}

const TOP_KEYS = [
  'name',
  'cluster',
  'kubeconfig',
  'knownHosts',
  'sshConfig',
  'apiserverTokenFile',
  'domains',
  'accept',
  'ssh',
  'jumpHosts',
  'hosts',
  'images',
  'probeName',
];
const SSH_KEYS = ['user', 'port', 'key', 'agent', 'jump', 'sudo', 'connectTimeout', 'maxSessions'];
const HOST_KEYS = ['name', 'role', 'address', ...SSH_KEYS];
const JUMP_KEYS = ['address', ...SSH_KEYS.filter((k) => k !== 'sudo')];
const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOST_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function keyName(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k);
}

/** Typed field access over a YAML mapping, reporting unknown keys and wrong types. */
class Fields {
  readonly node: Node | null | undefined;
  private readonly p: Problems;
  private readonly path: string;
  private readonly base: string;
  constructor(p: Problems, node: Node | null | undefined, path: string, allowed: string[], base: string) {
    this.p = p;
    this.node = node;
    this.path = path;
    this.base = base;
    if (node === undefined || node === null) return;
    if (!isMap(node)) {
      p.add(node, path, 'expected a mapping of keys to values');
      return;
    }
    for (const pair of node.items) {
      const k = keyName(pair.key);
      if (!allowed.includes(k))
        p.add(pair.key as Node, this.sub(k), `unknown key "${k}" (known keys: ${allowed.join(', ')}); fix: ${FIX_DOC}`);
    }
  }
  sub(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }
  get(k: string): Node | undefined {
    return isMap(this.node) ? this.p.resolve(this.node.get(k, true) as Node | undefined) : undefined;
  }
  private scalar(k: string): { node?: Node; value?: unknown } {
    const node = this.get(k);
    if (node === undefined || node === null) return {};
    if (!isScalar(node)) {
      this.p.add(node, this.sub(k), 'expected a single value, got a list or mapping');
      return { node };
    }
    return { node, value: node.value };
  }
  string(k: string, test?: (s: string) => string | undefined): string | undefined {
    const { node, value } = this.scalar(k);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') {
      this.p.add(node, this.sub(k), `expected a string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    const s = String(value);
    const err = test?.(s);
    if (err) this.p.add(node, this.sub(k), err);
    return s;
  }
  path_(k: string): string | undefined {
    const s = this.string(k);
    if (s === undefined) return undefined;
    try {
      return expandPath(s, `${this.p.at(this.get(k))}: ${this.sub(k)}`, this.base);
    } catch (e) {
      this.p.list.push((e as Error).message);
      return undefined;
    }
  }
  int(k: string, min: number, max: number): number | undefined {
    const { node, value } = this.scalar(k);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.p.add(node, this.sub(k), `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }
  bool(k: string): boolean | undefined {
    const { node, value } = this.scalar(k);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.p.add(node, this.sub(k), `expected true or false, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }
  strings(k: string, test?: (s: string) => string | undefined): string[] {
    const node = this.get(k);
    if (node === undefined || node === null) return [];
    if (!isSeq(node)) {
      this.p.add(node, this.sub(k), 'expected a list');
      return [];
    }
    const out: string[] = [];
    (node.items as Node[])
      .map((n) => this.p.resolve(n)!)
      .forEach((item, i) => {
        if (!isScalar(item) || typeof item.value !== 'string') {
          this.p.add(item, `${this.sub(k)}[${i}]`, `expected a string, got ${JSON.stringify(isScalar(item) ? item.value : item)}`);
          return;
        }
        const err = test?.(item.value);
        if (err) this.p.add(item, `${this.sub(k)}[${i}]`, err);
        out.push(item.value);
      });
    return out;
  }
  ssh(): SshSettings {
    const s: SshSettings = {};
    const user = this.string('user', (v) => (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v) ? undefined : `expected a user name, got "${v}"`));
    if (user) s.user = user;
    const port = this.int('port', 1, 65535);
    if (port) s.port = port;
    const key = this.path_('key');
    if (key) s.key = key;
    const agentNode = this.get('agent');
    if (agentNode !== undefined && agentNode !== null) {
      if (isScalar(agentNode) && agentNode.value === true) s.agent = true;
      else if (isScalar(agentNode) && agentNode.value === false) {
        /* no agent */
      } else {
        const a = this.path_('agent');
        if (a) s.agent = a;
      }
    }
    const jump = this.string('jump');
    if (jump) s.jump = jump;
    const sudo = this.bool('sudo');
    if (sudo !== undefined) s.sudo = sudo;
    const t = this.int('connectTimeout', 1, 600);
    if (t) s.connectTimeoutMs = t * 1000;
    const m = this.int('maxSessions', 1, 64);
    if (m) s.maxSessions = m;
    return s;
  }
}

function parseHardway(file: string, doc: Document.Parsed, lines: LineCounter): Inventory {
  const base = dirname(file);
  const p = new Problems(file, lines, doc);
  const root = new Fields(p, doc.contents as Node, '', TOP_KEYS, base);
  const name =
    root.string('name', (s) => (/^[A-Za-z0-9_.-]+$/.test(s) ? undefined : `expected letters, digits, '.', '_' or '-', got "${s}"`)) ??
    basename(file, extname(file));

  let cluster: Inventory['cluster'] | undefined;
  const clusterNode = root.get('cluster');
  if (clusterNode === undefined || clusterNode === null) {
    // No model: discovery reads it from the hosts (hardway discover prints it).
  } else if (isMap(clusterNode)) {
    cluster = { text: stringify(clusterNode), label: `${p.at(clusterNode)} (inline cluster model)` };
  } else {
    const f = root.path_('cluster');
    if (f) {
      if (!existsSync(f))
        p.add(
          clusterNode,
          'cluster',
          `${f} does not exist; fix: point cluster: at the cluster model (cluster.yaml, docs/cluster-model.md)`,
        );
      cluster = { file: f };
    }
  }

  const sshConfigNode = root.get('sshConfig');
  const sshConfig =
    isScalar(sshConfigNode) && (sshConfigNode.value === 'none' || sshConfigNode.value === false)
      ? undefined
      : (root.path_('sshConfig') ?? DEFAULT_SSH_CONFIG());

  const defaults = new Fields(p, root.get('ssh'), 'ssh', SSH_KEYS, base).ssh();

  const jumpHosts = new Map<string, JumpHost>();
  const jumpNode = root.get('jumpHosts');
  if (jumpNode !== undefined && jumpNode !== null) {
    if (!isMap(jumpNode)) p.add(jumpNode, 'jumpHosts', 'expected a mapping of names to jump hosts');
    else {
      for (const pair of jumpNode.items) {
        const jname = keyName(pair.key);
        const f = new Fields(p, p.resolve(pair.value as Node), `jumpHosts.${jname}`, JUMP_KEYS, base);
        const address = f.string('address');
        if (!address) p.add((pair.value as Node) ?? (pair.key as Node), `jumpHosts.${jname}.address`, 'is required');
        jumpHosts.set(jname, { name: jname, address: address ?? '', where: p.at(pair.key as Node), ...f.ssh() });
      }
    }
  }

  const hosts: InventoryHost[] = [];
  const hostsNode = root.get('hosts');
  if (!isSeq(hostsNode) || hostsNode.items.length === 0) {
    p.add(hostsNode ?? root.node, 'hosts', `expected a list of hosts (name, role, address), at least one; fix: ${FIX_DOC}`);
  } else {
    (hostsNode.items as Node[])
      .map((n) => p.resolve(n)!)
      .forEach((item, i) => {
        const path = `hosts[${i}]`;
        const f = new Fields(p, item, path, HOST_KEYS, base);
        const hname = f.string('name', (s) => (HOST_NAME.test(s) ? undefined : `expected a host name, got "${s}"`));
        if (!hname) p.add(item, `${path}.name`, "is required (the host's name in the cluster model)");
        const role = f.string('role', (s) => (s === 'master' || s === 'worker' ? undefined : `expected "master" or "worker", got "${s}"`));
        if (!role && cluster)
          p.add(
            item,
            `${path}.role`,
            "is required with a cluster model: master or worker (without cluster:, discovery finds each host's role)",
          );
        const address = f.string('address') ?? hname;
        hosts.push({
          name: hname ?? `#${i}`,
          role: role === 'master' ? 'master' : 'worker',
          address: address ?? '',
          where: p.at(item),
          ...f.ssh(),
        });
      });
    const seen = new Map<string, number>();
    hosts.forEach((h, i) => {
      const prev = seen.get(h.name);
      if (prev !== undefined) p.add((hostsNode.items as Node[])[i], `hosts[${i}].name`, `duplicate host "${h.name}" (also hosts[${prev}])`);
      else seen.set(h.name, i);
    });
  }

  const inv: Inventory = {
    file,
    format: 'hardway',
    name,
    ...(cluster ? { cluster } : {}),
    domains: root.strings('domains', (s) => (DNS_NAME.test(s) ? undefined : `expected a DNS name, got "${s}"`)),
    accept: root.strings('accept', (s) =>
      /^security\.[a-z-]+$/.test(s) ? undefined : `expected a security check id such as security.static-token, got "${s}"`,
    ),
    defaults,
    jumpHosts,
    hosts,
  };
  const kubeconfig = root.path_('kubeconfig');
  if (kubeconfig) inv.kubeconfig = kubeconfig;
  const knownHosts = root.path_('knownHosts');
  if (knownHosts) inv.knownHosts = knownHosts;
  if (sshConfig) inv.sshConfig = sshConfig;
  const token = root.path_('apiserverTokenFile');
  if (token) inv.apiserverTokenFile = token;
  const imagesNode = root.get('images');
  if (imagesNode !== undefined && imagesNode !== null) {
    const f = new Fields(p, imagesNode as Node, 'images', ['toolbox', 'demoApp'], base);
    const toolbox = f.string('toolbox');
    const demoApp = f.string('demoApp');
    if (!toolbox || !demoApp)
      p.add(
        imagesNode as Node,
        'images',
        'needs both toolbox: (an image with sh, ping, nc, wget and netrelay) and demoApp: (answers /status/ on port 8000)',
      );
    else inv.images = { toolbox, demoApp };
  }
  const probeName = root.string('probeName', (s) => (DNS_NAME.test(s) ? undefined : `expected a DNS name, got "${s}"`));
  if (probeName) inv.probeName = probeName;
  checkJumpNames(inv, p);
  if (p.list.length) throw new TargetError(p.list.join('\n'));
  return inv;
}

/** A jump naming neither a jump host nor an inventory host must look like [user@]host[:port]. */
function checkJumpNames(inv: Inventory, p: Problems): void {
  const check = (jump: string | undefined, where: string, what: string) => {
    if (!jump || jump === 'none' || inv.jumpHosts.has(jump) || inv.hosts.some((h) => h.name === jump)) return;
    if (!/^(ssh:\/\/)?([A-Za-z0-9_.-]+@)?(\[[^\]]+\]|[A-Za-z0-9_.:-]+?)(:\d+)?$/.test(jump)) {
      p.list.push(
        `${where}: ${what}.jump: "${jump}" is neither a jumpHosts name, an inventory host nor [user@]host[:port]; fix: ${FIX_DOC}`,
      );
    }
  };
  check(inv.defaults.jump, inv.file, 'ssh');
  for (const h of inv.hosts) check(h.jump, h.where, h.name);
  for (const j of inv.jumpHosts.values()) check(j.jump, j.where, `jumpHosts.${j.name}`);
}

/** Reads an inventory file of either kind (hardway YAML, Ansible INI or YAML). */
export function readInventory(spec: InventorySpec): Inventory {
  let text: string;
  try {
    text = readFileSync(spec.file, 'utf8');
  } catch (e) {
    throw new TargetError(
      `${spec.file}: cannot read the inventory (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix: check the path and its permissions`,
    );
  }
  return parseInventory(text, spec.file, spec.ansible, { ansibleInventory: true });
}

/** `ansibleInventory`: an Ansible inventory is read by ansible-inventory when it is installed. */
export function parseInventory(text: string, file: string, forceAnsible = false, opts: { ansibleInventory?: boolean } = {}): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yamlOk = doc.errors.length === 0;
  const contents = yamlOk ? doc.contents : undefined;
  const iniHeaders = /^\s*\[[^\]\s]+\]\s*$/m.test(text);
  const ansibleYaml =
    isMap(contents) &&
    !contents.has('hosts') &&
    (contents.has('all') ||
      contents.items.every(
        (pair) => isMap(pair.value) && ['hosts', 'children', 'vars'].some((k) => (pair.value as { has(k: string): boolean }).has(k)),
      ));
  if (forceAnsible || ansibleYaml || (!isMap(contents) && iniHeaders)) {
    const kind = isMap(contents) ? 'yaml' : iniHeaders || forceAnsible ? 'ini' : undefined;
    if (kind) {
      const parsed = opts.ansibleInventory ? runAnsibleInventory(file) : undefined;
      if (parsed) return parseAnsible({ kind: 'parsed', parsed, format: kind }, file);
      if (kind === 'ini') return parseAnsible({ kind: 'ini', text }, file);
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 }) as unknown;
      } catch (e) {
        throw new TargetError(
          `${file}: the YAML cannot be read as data (${(e as Error).message.split('\n')[0]}); fix: use fewer aliases (*name), or write the values out`,
        );
      }
      return parseAnsible({ kind: 'yaml', value }, file);
    }
  }
  if (!yamlOk) {
    const e = doc.errors[0]!;
    const { line, col } = lines.linePos(e.pos[0]);
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new TargetError(`${file}:${line}:${col}: not a valid YAML inventory: ${msg}; fix: correct the syntax (${FIX_DOC})`);
  }
  if (!isMap(contents))
    throw new TargetError(
      `${file}: not an inventory: expected a YAML mapping with cluster: and hosts:, or an Ansible inventory; fix: ${FIX_DOC}`,
    );
  return parseHardway(file, doc, lines);
}

// ---------------------------------------------------------------------------------------------
// The cluster model and its agreement with the inventory

/** The inventory's cluster model (or --config's), checked against its hosts; undefined when it
 * has none (discovery then reads the model from the hosts). */
export function inventoryCluster(inv: Inventory, configOverride?: string): Cluster | undefined {
  if (!configOverride && (!inv.cluster || ('file' in inv.cluster && !inv.cluster.file))) return undefined;
  const cluster = configOverride
    ? loadCluster(configOverride)
    : 'file' in inv.cluster!
      ? loadCluster(inv.cluster.file)
      : parseCluster(inv.cluster!.text, inv.cluster!.label);
  const problems = modelDisagreements(inv, cluster, configOverride);
  // A huge inventory would print a line per host: the first ones say enough.
  const shown =
    problems.length > MAX_LINES
      ? [...problems.slice(0, MAX_LINES - 1), `${inv.file}: ... and ${problems.length - MAX_LINES + 1} more disagreements like these`]
      : problems;
  if (problems.length) throw new TargetError(shown.join('\n'));
  return cluster;
}

const modelName = (inv: Inventory, configOverride?: string) =>
  configOverride ?? (inv.cluster && 'file' in inv.cluster ? inv.cluster.file : 'the inline cluster model');

/** Model hosts and inventory hosts must be the same set, with the same roles; IP addresses must be the model's. */
export function modelDisagreements(inv: Inventory, c: Cluster, configOverride?: string): string[] {
  const model = modelName(inv, configOverride);
  const out: string[] = [];
  for (const h of allHosts(c)) {
    const ih = inv.hosts.find((x) => x.name === h.host);
    if (!ih) {
      out.push(
        `${inv.file}: host "${h.host}" (${h.role} in ${model}) is not in the inventory; fix: add it${inv.format === 'hardway' ? ` under hosts: with role: ${h.role}` : ` to a ${h.role === 'master' ? 'masters/kube_control_plane' : 'workers/kube_node'} group`}`,
      );
      continue;
    }
    if (ih.role !== h.role)
      out.push(`${ih.where}: host "${h.host}" is a ${ih.role} in the inventory but a ${h.role} in ${model}; fix: make the roles agree`);
    if (isIpAddress(ih.address) && ih.address !== h.address && ih.address !== h.internalAddress) {
      out.push(
        `${ih.where}: host "${h.host}" has address ${ih.address} in the inventory but ${h.address}${h.internalAddress !== h.address ? ` (internal ${h.internalAddress})` : ''} in ${model}; fix: correct one of them (an inventory address must be the model's address, its internal address, a DNS name or an ~/.ssh/config alias)`,
      );
    }
  }
  for (const ih of inv.hosts) {
    if (!allHosts(c).some((h) => h.host === ih.name)) {
      out.push(
        `${ih.where}: host "${ih.name}" is not in ${model} (hosts there: ${allHosts(c)
          .map((h) => h.host)
          .join(', ')}); fix: remove it from the inventory or add it to the model`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SSH endpoints: inventory settings > ~/.ssh/config > defaults

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

interface EndpointCtx {
  inv: Inventory;
  sshConfig: SshConfigEntry[];
  env: NodeJS.ProcessEnv;
  /** Jump chain so far, to refuse loops. */
  stack: string[];
}

function endpoint(name: string, address: string, own: SshSettings, inherit: SshSettings, x: EndpointCtx, where: string): SshEndpoint {
  if (x.stack.includes(name))
    throw new TargetError(`${where}: jump host loop ${[...x.stack, name].join(' -> ')}; fix: check the jump settings in ${x.inv.file}`);
  const cfg = resolveSshHost(x.sshConfig, address);
  const s: SshSettings = { ...inherit, ...own };
  const user = own.user ?? cfg.user ?? inherit.user ?? 'root';
  const port = own.port ?? cfg.port ?? inherit.port ?? 22;
  const home = x.env.HOME ?? homedir();
  let key = own.key ?? cfg.identityFiles.find((f) => existsSync(f)) ?? inherit.key;
  let agent: string | undefined;
  if (s.agent === true) agent = x.env.SSH_AUTH_SOCK;
  else if (typeof s.agent === 'string') agent = s.agent;
  else if (!key) agent = cfg.identityAgent || x.env.SSH_AUTH_SOCK || undefined;
  if (!key && !agent) key = DEFAULT_KEYS.map((k) => join(home, '.ssh', k)).find((f) => existsSync(f));
  const ep: SshEndpoint = {
    name,
    host: cfg.hostName ?? address,
    port,
    user,
    knownHostsPath: x.inv.knownHosts ?? cfg.userKnownHostsFile ?? join(home, '.ssh', 'known_hosts'),
    ...(key ? { privateKeyPath: key } : {}),
    ...(agent ? { agent } : {}),
    ...(s.sudo && user !== 'root' ? { sudo: true } : {}),
    ...(s.connectTimeoutMs ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
    ...(s.maxSessions ? { maxSessions: s.maxSessions } : {}),
  };
  const jumpSpec = own.jump ?? (cfg.proxyJump ? cfg.proxyJump.join(',') || 'none' : undefined) ?? inherit.jump;
  if (jumpSpec && jumpSpec !== 'none') {
    const nx = { ...x, stack: [...x.stack, name] };
    const hops = jumpSpec
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    // ProxyJump a,b: connect to a, through it to b, through b to the host.
    let prev: SshEndpoint | undefined;
    for (const hop of hops) {
      const e = jumpEndpoint(hop, nx, where);
      prev = prev ? withInnermostJump(e, prev) : e;
    }
    if (prev) ep.jump = prev;
  }
  return ep;
}

/** Sets `via` as the jump of the first hop of `ep`'s chain (the hop connected to first). */
function withInnermostJump(ep: SshEndpoint, via: SshEndpoint): SshEndpoint {
  return ep.jump ? { ...ep, jump: withInnermostJump(ep.jump, via) } : { ...ep, jump: via };
}

function jumpEndpoint(hop: string, x: EndpointCtx, where: string): SshEndpoint {
  const { jump: _ignored, sudo: _s, ...defaults } = x.inv.defaults;
  void _ignored;
  void _s;
  const named = x.inv.jumpHosts.get(hop);
  if (named) return endpoint(hop, named.address, named, defaults, x, named.where);
  const host = x.inv.hosts.find((h) => h.name === hop);
  if (host) {
    const { sudo: _hs, ...own } = host;
    void _hs;
    return endpoint(hop, host.address, own, defaults, x, host.where);
  }
  const j = parseJumpSpec(hop);
  return endpoint(hop, j.host, { ...(j.user ? { user: j.user } : {}), ...(j.port ? { port: j.port } : {}) }, defaults, x, where);
}

/** One SSH endpoint per inventory host (jump chains resolved, ~/.ssh/config applied). */
export function inventoryEndpoints(inv: Inventory, env: NodeJS.ProcessEnv = process.env): SshEndpoint[] {
  const x: EndpointCtx = { inv, sshConfig: inv.sshConfig ? loadSshConfig(inv.sshConfig) : [], env, stack: [] };
  return inv.hosts.map((h) => {
    const { name, role: _r, address, where, ...own } = h;
    void _r;
    return endpoint(name, address, own, inv.defaults, x, where);
  });
}
