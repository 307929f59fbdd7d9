// Import of an Ansible inventory (INI or YAML) as a hardway inventory: many hand-built clusters
// already have one. Groups give roles (masters/kube_control_plane -> master, workers/kube_node ->
// worker; a host in both is a master), the usual connection variables give SSH settings, and
// hardway_* variables in the `all` group give what Ansible does not know (the cluster model,
// the kubeconfig, known_hosts). The mapping is documented in docs/inventory.md.
//
// When Ansible is installed, `ansible-inventory --list` reads the file (Ansible's own parser,
// host_vars/ and group_vars/ included); otherwise a defensive parser of our own does, which is
// bounded whatever the file says: ranges and host counts are capped, a step of 0 is refused and
// a group that is its own (grand)child is named, each in one line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Role } from '../model/cluster.ts';
import { TargetError } from './target.ts';
import { DEFAULT_SSH_CONFIG, type Inventory, type InventoryHost, type SshSettings, expandPath } from './inventory.ts';

type Vars = Record<string, unknown>;

interface Group {
  hosts: Set<string>;
  children: Set<string>;
  vars: Vars;
  /** From group_vars/<group>: merged after every group's inventory-file vars, as Ansible does. */
  fileVars?: Vars;
}

export interface Parsed {
  groups: Map<string, Group>;
  hostVars: Map<string, Vars>;
  /** From host_vars/<host>: over the inventory file's host vars. */
  hostFileVars?: Map<string, Vars>;
  /** file:line (INI) or file (host X) (YAML) of each host's first mention. */
  where: Map<string, string>;
  /** Where hardway_* settings are read from (default: the all group's vars). */
  settings?: Vars;
}

/** More hosts than any hand-built cluster has: an inventory past this is refused in one line. */
export const MAX_HOSTS = 1000;

export const MASTER_GROUPS = [
  'masters',
  'master',
  'kube_control_plane',
  'kube-master',
  'kube_master',
  'control_plane',
  'control-plane',
  'controlplane',
];
export const WORKER_GROUPS = ['workers', 'worker', 'kube_node', 'kube-node', 'kube_nodes', 'nodes', 'node'];

function group(p: Parsed, name: string): Group {
  let g = p.groups.get(name);
  if (!g) {
    g = { hosts: new Set(), children: new Set(), vars: {} };
    p.groups.set(name, g);
  }
  return g;
}

function addHost(p: Parsed, groupName: string, host: string, vars: Vars, where: string): void {
  if (!p.hostVars.has(host) && p.hostVars.size >= MAX_HOSTS) {
    throw new TargetError(
      `${where}: more than ${MAX_HOSTS} hosts in the inventory (at ${host}); hardway verifies hand-built clusters of a few hosts; fix: point it at an inventory of this cluster only`,
    );
  }
  group(p, groupName).hosts.add(host);
  p.hostVars.set(host, { ...(p.hostVars.get(host) ?? {}), ...vars });
  if (!p.where.has(host)) p.where.set(host, where);
}

/** Ansible host patterns with ranges: node-[1:3], web[01:10], db-[a:c], node-[1:9:2]; bounded. */
export function expandHostRange(pattern: string, where = pattern, max = MAX_HOSTS): string[] {
  const m = /^(.*?)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/i.exec(pattern);
  if (!m) return [pattern];
  const [, pre, from, to, step, post] = m as unknown as [string, string, string, string, string | undefined, string];
  const inc = step ? Number(step) : 1;
  if (inc < 1)
    throw new TargetError(
      `${where}: host range "${pattern}" has step ${step}, which never ends; fix: use a step of 1 or more (node-[1:9:2])`,
    );
  const numeric = /^\d+$/.test(from) && /^\d+$/.test(to);
  if (!numeric && (from.length !== 1 || to.length !== 1))
    throw new TargetError(
      `${where}: host range "${pattern}" mixes letters and digits or has more than one letter; fix: write [1:9] or [a:f]`,
    );
  const [a, b] = numeric ? [Number(from), Number(to)] : [from.charCodeAt(0), to.charCodeAt(0)];
  if (b < a) throw new TargetError(`${where}: host range "${pattern}" runs backwards; fix: write the smaller end first`);
  const count = Math.floor((b - a) / inc) + 1;
  if (count > max)
    throw new TargetError(
      `${where}: host range "${pattern}" expands to ${count} hosts, more than the ${max} hardway reads; fix: point it at an inventory of this cluster only`,
    );
  const out: string[] = [];
  const width = numeric && from.startsWith('0') ? from.length : 0;
  for (let i = a; i <= b; i += inc) {
    const part = numeric ? String(i).padStart(width, '0') : String.fromCharCode(i);
    out.push(...expandHostRange(`${pre}${part}${post}`, where, Math.max(1, Math.floor(max / count))));
  }
  return out;
}

/** key=value tokens, with '...' and "..." quoting; a token starting with # ends the line. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = '';
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else if (ch === '#' && !cur && !any) break;
    else cur += ch;
  }
  if (cur || any) out.push(cur);
  return out;
}

/** A value of key=value as Ansible's INI plugin reads it (Python literals: True, 22), else a string. */
function iniValue(v: string): unknown {
  if (v === 'True') return true;
  if (v === 'False') return false;
  if (/^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  return v;
}

function parseIni(text: string, file: string): Parsed {
  const p: Parsed = { groups: new Map(), hostVars: new Map(), where: new Map() };
  group(p, 'all');
  group(p, 'ungrouped');
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const at = `${file}:${i + 1}`;
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (head) {
      section = head[1]!;
      kind = (head[2] as 'vars' | 'children' | undefined) ?? 'hosts';
      group(p, section);
      return;
    }
    if (line.startsWith('['))
      throw new TargetError(
        `${at}: "${line}" is not a group header ([name], [name:vars] or [name:children]); fix: correct the Ansible inventory`,
      );
    const t = tokens(line);
    if (kind === 'vars') {
      const m = /^([^=\s]+)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new TargetError(`${at}: expected key=value in [${section}:vars], got "${line}"; fix: correct the Ansible inventory`);
      group(p, section).vars[m[1]!] = iniValue(tokens(m[2]!).join(' '));
      return;
    }
    if (kind === 'children') {
      group(p, section).children.add(t[0]!);
      group(p, t[0]!);
      return;
    }
    const [hostSpec, ...assignments] = t;
    const vars: Vars = {};
    for (const a of assignments) {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new TargetError(`${at}: host ${hostSpec}: expected key=value, got "${a}"; fix: correct the Ansible inventory`);
      vars[a.slice(0, eq)] = iniValue(a.slice(eq + 1));
    }
    // host:port is Ansible's short form for ansible_port.
    const hp = /^([^:\s]+):(\d+)$/.exec(hostSpec!);
    const name = hp ? hp[1]! : hostSpec!;
    if (hp && vars.ansible_port === undefined) vars.ansible_port = Number(hp[2]);
    for (const h of expandHostRange(name, at)) addHost(p, section, h, vars, at);
  });
  return p;
}

function parseYamlGroups(value: unknown, file: string): Parsed {
  const p: Parsed = { groups: new Map(), hostVars: new Map(), where: new Map() };
  group(p, 'all');
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  const visit = (name: string, body: unknown, path: string, stack: string[] = []) => {
    const g = group(p, name);
    if (body === null || body === undefined) return;
    if (stack.includes(name))
      throw new TargetError(
        `${file}: group "${name}" is its own child (${[...stack, name].join(' -> ')}); fix: remove the loop from children:`,
      );
    if (stack.length > 50) throw new TargetError(`${file}: ${path}: groups nested more than 50 deep; fix: flatten the children: tree`);
    if (!isObj(body))
      throw new TargetError(
        `${file}: ${path}: expected a group (hosts:, children:, vars:), got ${JSON.stringify(body).slice(0, 60)}; fix: correct the Ansible inventory`,
      );
    for (const k of Object.keys(body)) {
      if (!['hosts', 'children', 'vars'].includes(k))
        throw new TargetError(
          `${file}: ${path}.${k}: unknown key (a group has hosts:, children: and vars:); fix: correct the Ansible inventory`,
        );
    }
    if (body.hosts !== undefined && body.hosts !== null) {
      if (!isObj(body.hosts))
        throw new TargetError(
          `${file}: ${path}.hosts: expected a mapping of host names to their variables; fix: correct the Ansible inventory`,
        );
      for (const [h, vars] of Object.entries(body.hosts)) {
        if (vars !== null && !isObj(vars))
          throw new TargetError(
            `${file}: ${path}.hosts.${h}: expected the host's variables as a mapping; fix: correct the Ansible inventory`,
          );
        for (const x of expandHostRange(h, `${file}: ${path}.hosts`)) addHost(p, name, x, (vars ?? {}) as Vars, `${file} (host ${x})`);
      }
    }
    if (body.vars !== undefined && body.vars !== null) {
      if (!isObj(body.vars)) throw new TargetError(`${file}: ${path}.vars: expected a mapping; fix: correct the Ansible inventory`);
      Object.assign(g.vars, body.vars);
    }
    if (body.children !== undefined && body.children !== null) {
      if (!isObj(body.children))
        throw new TargetError(`${file}: ${path}.children: expected a mapping of group names; fix: correct the Ansible inventory`);
      for (const [child, cbody] of Object.entries(body.children)) {
        g.children.add(child);
        visit(child, cbody, `${path}.children.${child}`, [...stack, name]);
      }
    }
  };
  if (!isObj(value)) throw new TargetError(`${file}: not an Ansible YAML inventory (expected groups such as all:); fix: correct the file`);
  for (const [name, body] of Object.entries(value)) visit(name, body, name);
  return p;
}

export function membersOf(p: Parsed, name: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(name)) return out;
  seen.add(name);
  const g = p.groups.get(name);
  if (!g) return out;
  for (const h of g.hosts) out.add(h);
  for (const c of g.children) for (const h of membersOf(p, c, seen)) out.add(h);
  return out;
}

/** Refuses a group that is its own (grand)child, naming the loop: Ansible refuses it too. */
export function checkGroupCycles(p: Parsed, file: string): void {
  const state = new Map<string, 'open' | 'done'>();
  const walk = (n: string, path: string[]) => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'open') {
      const loop = [...path.slice(path.indexOf(n)), n];
      throw new TargetError(
        `${file}: group "${n}" is its own ${loop.length === 2 ? 'child' : 'descendant'} (${loop.join(' -> ')}); fix: remove the loop from the [${loop[loop.length - 2]}:children] section (or children:)`,
      );
    }
    state.set(n, 'open');
    for (const c of p.groups.get(n)?.children ?? []) walk(c, [...path, n]);
    state.set(n, 'done');
  };
  for (const n of p.groups.keys()) walk(n, []);
}

/** Group depth for variable precedence: all 0, top-level groups 1, children one deeper. */
export function depths(p: Parsed): Map<string, number> {
  const d = new Map<string, number>([['all', 0]]);
  const childOf = new Set([...p.groups.values()].flatMap((g) => [...g.children]));
  const queue = [...p.groups.keys()].filter((n) => n !== 'all' && !childOf.has(n)).map((n) => [n, 1] as [string, number]);
  for (const c of p.groups.get('all')?.children ?? []) queue.push([c, 1]);
  while (queue.length) {
    const [n, depth] = queue.shift()!;
    if ((d.get(n) ?? -1) >= depth) continue;
    d.set(n, depth);
    for (const c of p.groups.get(n)?.children ?? []) queue.push([c, depth + 1]);
  }
  return d;
}

/**
 * A host's variables as Ansible merges them (VariableManager.get_vars): the inventory file's group
 * vars (all, then groups by depth and name), then group_vars/ files in the same order, then the
 * file's host vars, then host_vars/.
 */
export function hostVars(p: Parsed, host: string, d: Map<string, number>): Vars {
  const groups = [
    'all',
    ...[...p.groups.keys()]
      .filter((g) => g !== 'all' && membersOf(p, g).has(host))
      .sort((a, b) => (d.get(a) ?? 1) - (d.get(b) ?? 1) || a.localeCompare(b)),
  ]
    .map((g) => p.groups.get(g))
    .filter((g) => !!g);
  return Object.assign(
    {},
    ...groups.map((g) => g.vars),
    ...groups.map((g) => g.fileVars ?? {}),
    p.hostVars.get(host) ?? {},
    p.hostFileVars?.get(host) ?? {},
  );
}

const truthy = (v: unknown) => v === true || v === 1 || (typeof v === 'string' && /^(true|yes|on|1)$/i.test(v));

/** The jump host in ansible_ssh_common_args / ansible_ssh_extra_args: -J, ProxyJump or `ssh -W` ProxyCommand. */
export function jumpFromSshArgs(args: string): string | undefined {
  const j = /(?:^|\s)-J\s*(\S+)/.exec(args) ?? /ProxyJump[= ]\s*([^\s'"]+)/i.exec(args);
  if (j) return j[1];
  const pc = /ProxyCommand[= ]\s*["']?\s*ssh\s+([^"']*)/i.exec(args);
  if (pc && /-W\s*%h:%p/.test(pc[1]!)) {
    const words = pc[1]!.trim().split(/\s+/);
    let port: string | undefined;
    let dest: string | undefined;
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === '-p') port = words[++i];
      else if (['-W', '-i', '-o', '-l', '-F'].includes(w)) i++;
      else if (!w.startsWith('-')) dest = w;
    }
    return dest ? `${dest}${port ? `:${port}` : ''}` : undefined;
  }
  return undefined;
}

const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

// ---------------------------------------------------------------------------------------------
// host_vars/ and group_vars/ next to the inventory (where real inventories keep ansible_host)

const VAR_EXT = ['', '.yml', '.yaml', '.json'];

function varsFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const ext of VAR_EXT) {
    const f = join(dir, name + ext);
    if (!existsSync(f)) continue;
    if (statSync(f).isDirectory()) {
      // A folder of files, merged in name order (Ansible reads it the same way).
      const walk = (d: string): string[] =>
        readdirSync(d)
          .sort()
          .flatMap((e) => {
            const x = join(d, e);
            if (statSync(x).isDirectory()) return walk(x);
            return VAR_EXT.includes(extname(e)) && !e.startsWith('.') ? [x] : [];
          });
      out.push(...walk(f));
    } else if (ext || !existsSync(`${f}.yml`)) out.push(f);
  }
  return out;
}

function readVarsFile(f: string): Vars {
  const text = readFileSync(f, 'utf8');
  if (text.startsWith('$ANSIBLE_VAULT'))
    throw new TargetError(
      `${f}: encrypted with ansible-vault, which hardway does not read; fix: keep connection variables (ansible_host, ansible_user, ...) in an unencrypted file`,
    );
  let v: unknown;
  try {
    v = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new TargetError(`${f}: not valid YAML (${(e as Error).message.split('\n')[0]}); fix: correct the file`);
  }
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new TargetError(`${f}: expected a mapping of variables; fix: correct the file`);
  return v as Vars;
}

/** Merges group_vars/<group> and host_vars/<host> over the inventory file's own variables. */
export function readVarsDirs(p: Parsed, file: string): void {
  const base = dirname(file);
  for (const [name, g] of p.groups)
    for (const f of varsFiles(join(base, 'group_vars'), name)) g.fileVars = Object.assign(g.fileVars ?? {}, readVarsFile(f));
  p.hostFileVars ??= new Map();
  for (const host of p.hostVars.keys()) {
    for (const f of varsFiles(join(base, 'host_vars'), host))
      p.hostFileVars.set(host, Object.assign(p.hostFileVars.get(host) ?? {}, readVarsFile(f)));
  }
}

/** The defensive parser: the file alone, then its vars folders; bounded, loops refused. */
export function parseAnsibleFallback(input: { kind: 'ini'; text: string } | { kind: 'yaml'; value: unknown }, file: string): Parsed {
  const p = input.kind === 'ini' ? parseIni(input.text, file) : parseYamlGroups(input.value, file);
  checkGroupCycles(p, file);
  readVarsDirs(p, file);
  return p;
}

// ---------------------------------------------------------------------------------------------
// ansible-inventory, when installed

interface AnsibleList {
  _meta?: { hostvars?: Record<string, Vars> };
  [group: string]: { hosts?: string[]; children?: string[]; vars?: Vars } | { hostvars?: Record<string, Vars> } | undefined;
}

/** `ansible-inventory --list` as Parsed: its merged host variables, its groups. */
export function fromAnsibleList(list: AnsibleList, file: string): Parsed {
  const p: Parsed = { groups: new Map(), hostVars: new Map(), where: new Map() };
  group(p, 'all');
  for (const [name, body] of Object.entries(list)) {
    if (name === '_meta' || !body) continue;
    const b = body as { hosts?: string[]; children?: string[] };
    const g = group(p, name);
    for (const c of b.children ?? []) {
      g.children.add(c);
      group(p, c);
    }
    for (const h of b.hosts ?? []) addHost(p, name, h, {}, `${file} (host ${h})`);
  }
  for (const [h, vars] of Object.entries(list._meta?.hostvars ?? {})) {
    if (!p.hostVars.has(h)) addHost(p, 'ungrouped', h, {}, `${file} (host ${h})`);
    p.hostVars.set(h, { ...vars });
  }
  return p;
}

/** Why ansible-inventory is not used, or undefined when it should be. */
function ansibleDisabled(env: NodeJS.ProcessEnv): boolean {
  return env.HARDWAY_ANSIBLE_INVENTORY === 'off';
}

/**
 * Runs ansible-inventory on `file`; undefined when it is not installed (or HARDWAY_ANSIBLE_INVENTORY=off).
 * Only the ini and yaml plugins are enabled: an executable inventory is never run as a script.
 */
export function runAnsibleInventory(file: string, env: NodeJS.ProcessEnv = process.env): Parsed | undefined {
  if (ansibleDisabled(env)) return undefined;
  const bin = env.HARDWAY_ANSIBLE_INVENTORY || 'ansible-inventory';
  // An empty configuration: an ansible.cfg in the current folder must not change what is read.
  const cfg = join(tmpdir(), 'hardway-ansible-empty.cfg');
  if (!existsSync(cfg)) writeFileSync(cfg, '[defaults]\n');
  const r = spawnSync(bin, ['-i', file, '--list'], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
    env: {
      ...env,
      ANSIBLE_CONFIG: cfg,
      ANSIBLE_INVENTORY_ENABLED: 'ini,yaml',
      ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True',
      ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_DEPRECATION_WARNINGS: 'False',
      ANSIBLE_HOST_PATTERN_MISMATCH: 'ignore',
    },
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  if (r.error || r.signal)
    throw new TargetError(
      `${file}: ansible-inventory did not finish (${r.signal ?? (r.error as NodeJS.ErrnoException).code}); fix: check the inventory, or set HARDWAY_ANSIBLE_INVENTORY=off to use hardway's own parser`,
    );
  if (r.status !== 0) {
    const why = r.stderr
      .split('\n')
      .map((l) => l.replace(/^\[(WARNING|ERROR)\]:\s*/, '').trim())
      .filter((l) => l && !/^to see the full traceback/i.test(l));
    throw new TargetError(
      `${file}: ansible-inventory refuses it: ${why.slice(0, 2).join(' ').slice(0, 300) || `exit ${r.status}`}; fix: correct the inventory (ansible-inventory -i ${file} --list shows the same)`,
    );
  }
  let list: AnsibleList;
  try {
    list = JSON.parse(r.stdout) as AnsibleList;
  } catch {
    throw new TargetError(`${file}: ansible-inventory printed no JSON; fix: run ansible-inventory -i ${file} --list and check its output`);
  }
  const p = fromAnsibleList(list, file);
  // --list merges group variables into each host: hardway_* settings of the all group are
  // those every host has; read them from the first host.
  const first = [...p.hostVars.values()][0] ?? {};
  p.settings = Object.fromEntries(Object.entries(first).filter(([k]) => k.startsWith('hardway_')));
  return p;
}

export function parseAnsible(
  input: { kind: 'ini'; text: string } | { kind: 'yaml'; value: unknown } | { kind: 'parsed'; parsed: Parsed; format: 'ini' | 'yaml' },
  file: string,
): Inventory {
  const p = input.kind === 'parsed' ? input.parsed : parseAnsibleFallback(input, file);
  const format = input.kind === 'parsed' ? input.format : input.kind;
  const base = dirname(file);
  const d = depths(p);
  const masters = new Set(MASTER_GROUPS.flatMap((g) => [...membersOf(p, g)]));
  const workers = new Set(WORKER_GROUPS.flatMap((g) => [...membersOf(p, g)]));
  const all = new Set([...p.hostVars.keys()]);
  const hosts: InventoryHost[] = [];
  for (const name of all) {
    const v = hostVars(p, name, d);
    const where = p.where.get(name) ?? file;
    const explicit = str(v.hardway_role);
    if (explicit && explicit !== 'master' && explicit !== 'worker')
      throw new TargetError(`${where}: ${name}: hardway_role must be master or worker, got "${explicit}"`);
    const role: Role | undefined =
      (explicit as Role | undefined) ?? (masters.has(name) ? 'master' : workers.has(name) ? 'worker' : undefined);
    if (!role) continue; // etcd-only, bastion or other hosts: not cluster nodes
    for (const pw of ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password']) {
      if (v[pw] !== undefined)
        throw new TargetError(
          `${where}: ${name}: ${pw} is set, but hardway authenticates with keys or the ssh-agent only; fix: install a key on ${name} and set ansible_ssh_private_key_file (or load it into ssh-agent)`,
        );
    }
    if (v.ansible_become_password !== undefined || v.ansible_become_pass !== undefined) {
      throw new TargetError(
        `${where}: ${name}: a become password is set, but hardway runs sudo -n (no prompts); fix: allow the user passwordless sudo (NOPASSWD in /etc/sudoers.d) and remove the password`,
      );
    }
    const conn = str(v.ansible_connection);
    if (conn && conn !== 'ssh' && conn !== 'paramiko' && conn !== 'smart') {
      throw new TargetError(
        `${where}: ${name}: ansible_connection=${conn}; hardway reaches hosts over SSH only; fix: use ansible_connection=ssh for cluster hosts`,
      );
    }
    const method = str(v.ansible_become_method);
    if (truthy(v.ansible_become) && method && method !== 'sudo')
      throw new TargetError(`${where}: ${name}: ansible_become_method=${method}; hardway becomes root with sudo -n only; fix: use sudo`);
    const s: SshSettings = {};
    const user = str(v.ansible_user ?? v.ansible_ssh_user);
    if (user) s.user = user;
    const port = v.ansible_port ?? v.ansible_ssh_port;
    if (port !== undefined) {
      const n = Number(port);
      if (!Number.isInteger(n) || n < 1 || n > 65535)
        throw new TargetError(`${where}: ${name}: ansible_port must be a port number, got "${String(port)}"`);
      s.port = n;
    }
    const key = str(v.ansible_ssh_private_key_file ?? v.ansible_private_key_file);
    if (key) s.key = expandPath(key, `${where}: ${name}: ansible_ssh_private_key_file`, base);
    if (truthy(v.ansible_become)) s.sudo = true;
    const jump = jumpFromSshArgs(`${str(v.ansible_ssh_common_args) ?? ''} ${str(v.ansible_ssh_extra_args) ?? ''}`);
    if (jump) s.jump = jump;
    hosts.push({ name, role, address: str(v.ansible_host ?? v.ansible_ssh_host) ?? name, where, ...s });
  }
  if (hosts.length === 0) {
    throw new TargetError(
      `${file}: no cluster hosts: the Ansible inventory has no ${MASTER_GROUPS.slice(0, 4).join('/')} or ${WORKER_GROUPS.slice(0, 3).join('/')} groups; fix: put masters and workers into such groups (or set hardway_role on each host)`,
    );
  }
  const allGroup = p.groups.get('all');
  const allVars = p.settings ?? { ...(allGroup?.vars ?? {}), ...(allGroup?.fileVars ?? {}) };
  const list = (v: unknown) =>
    Array.isArray(v)
      ? v.map(String)
      : typeof v === 'string'
        ? v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
        : [];
  const path = (k: string) => (str(allVars[k]) ? expandPath(str(allVars[k])!, `${file}: all vars: ${k}`, base) : undefined);
  const clusterFile = path('hardway_cluster') ?? (existsSync(join(base, 'cluster.yaml')) ? join(base, 'cluster.yaml') : '');
  const inv: Inventory = {
    file,
    format: format === 'ini' ? 'ansible-ini' : 'ansible-yaml',
    name: str(allVars.hardway_name) ?? basename(file, extname(file)),
    cluster: { file: clusterFile },
    domains: list(allVars.hardway_domains),
    accept: list(allVars.hardway_accept),
    defaults: {},
    jumpHosts: new Map(),
    hosts,
  };
  const kubeconfig = path('hardway_kubeconfig');
  if (kubeconfig) inv.kubeconfig = kubeconfig;
  const knownHosts = path('hardway_known_hosts');
  if (knownHosts) inv.knownHosts = knownHosts;
  const sshConfig = str(allVars.hardway_ssh_config);
  if (sshConfig !== 'none')
    inv.sshConfig = sshConfig ? expandPath(sshConfig, `${file}: all vars: hardway_ssh_config`, base) : DEFAULT_SSH_CONFIG();
  const token = path('hardway_apiserver_token_file');
  if (token) inv.apiserverTokenFile = token;
  return inv;
}
