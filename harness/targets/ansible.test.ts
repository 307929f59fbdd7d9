// Ansible inventories that never end are one line, fast (ranges with step 0, groups that are their
// own child, 20,000 hosts); host_vars/ and group_vars/ are read; and the defensive parser agrees
// with `ansible-inventory --list` (Debian's ansible-core, installed by bin/prepare-machine) on a
// generated set of inventories: the same groups, hosts and merged variables.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { type Parsed, depths, fromAnsibleList, hostVars, parseAnsibleFallback, runAnsibleInventory } from './ansible.ts';
import { parseInventory, readInventory } from './inventory.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hardway-ansible-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function inventory(text: string, files: Record<string, string> = {}, name = 'hosts.ini'): string {
  const dir = join(tmp, `inv-${n++}`);
  for (const [rel, body] of Object.entries({ [name]: text, ...files })) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return join(dir, name);
}
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('inventories that never end: one line, at once', () => {
  // Ansible expands a range before hardway can count it (20,000 hosts take it a minute): the
  // ansible-inventory rows use ranges just past the cap instead.
  const viaAnsible = (text: string) => text.replace('[1:20000]', '[1:1200]').replace('n[1:100]-[1:100]', 'n[1:40]-[1:40]');
  const table: [what: string, text: string, name: string, fallback: RegExp, ansible: RegExp][] = [
    [
      'a range with step 0',
      '[kube_node]\nnode-[1:2:0]\n',
      'hosts.ini',
      /hosts\.ini:2: host range "node-\[1:2:0\]" has step 0, which never ends; fix: use a step of 1 or more/,
      /ansible-inventory refuses it: .*; fix: correct the inventory/,
    ],
    [
      'a group that is its own child',
      '[kube_node]\nnode-1\n[a:children]\na\nkube_node\n',
      'hosts.ini',
      /group "a" is its own child \(a -> a\); fix: remove the loop/,
      /ansible-inventory refuses it: .*(recursive|loop|itself).*; fix: /i,
    ],
    [
      'two groups that contain each other',
      '[kube_node]\nnode-1\n[a:children]\nb\n[b:children]\na\nkube_node\n',
      'hosts.ini',
      /group "a" is its own descendant \(a -> b -> a\)/,
      /ansible-inventory refuses it: .*(recursive|loop).*; fix: /i,
    ],
    [
      'a range of 20,000 hosts',
      '[kube_node]\nnode-[1:20000]\n',
      'hosts.ini',
      /host range "node-\[1:20000\]" expands to 20000 hosts, more than the 1000 hardway reads; fix: /,
      /more than 1000 hosts in the inventory .*; fix: /,
    ],
    [
      'nested ranges that multiply',
      '[kube_node]\nn[1:100]-[1:100]\n',
      'hosts.ini',
      /expands to .* hosts, more than the .* hardway reads/,
      /more than 1000 hosts in the inventory/,
    ],
    [
      'a YAML group that is its own child',
      'all:\n  children:\n    kube_node:\n      hosts: { node-1: }\n      children:\n        kube_node: { hosts: { node-2: } }\n',
      'hosts.yaml',
      /group "kube_node" is its own child/,
      /ansible-inventory refuses it|kube_node/,
    ],
  ];
  for (const [what, text, name, fallback, ansible] of table) {
    it(`${what}: the defensive parser`, () => {
      const f = inventory(text, {}, name);
      const t0 = Date.now();
      const msg = errorOf(() => parseInventory(text, f, true));
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg).toMatch(fallback);
    });
    it(`${what}: through ansible-inventory`, () => {
      const f = inventory(viaAnsible(text), {}, name);
      const msg = errorOf(() => readInventory({ file: f, ansible: true }));
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg).toMatch(ansible);
    }, 60_000);
  }

  it('a YAML alias loop is one line', () => {
    const text = 'all:\n  children:\n    kube_node: &g\n      hosts: { node-1: }\n      children: { x: *g }\n';
    const msg = errorOf(() => parseInventory(text, inventory(text, {}, 'hosts.yaml'), true));
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(/is its own child|cannot be read as data/);
  });
});

describe('host_vars/ and group_vars/ next to the inventory', () => {
  const text = '[kube_control_plane]\nmaster\n[kube_node]\nnode-[1:2]\n[kube_node:vars]\nansible_user=inline\n';
  const files = {
    'group_vars/all.yml': 'ansible_user: everyone\nhardway_cluster: ../cluster.yaml\n',
    'group_vars/kube_node/10-main.yml': 'ansible_user: nodes\n',
    'group_vars/kube_node/20-more.yaml': 'ansible_become: true\n',
    'host_vars/node-2.yml': 'ansible_host: 10.0.0.22\nansible_port: 2222\n',
    'host_vars/master': 'ansible_host: 10.0.0.10\n',
    'group_vars/kube_node/notes.txt': 'ansible_user: ignored\n',
  };
  const check = (hosts: { name: string; address: string; user?: string; port?: number; sudo?: boolean }[]) => {
    const by = Object.fromEntries(hosts.map((h) => [h.name, h]));
    expect(by.master).toMatchObject({ address: '10.0.0.10', user: 'everyone' });
    expect(by['node-1']).toMatchObject({ address: 'node-1', user: 'nodes', sudo: true });
    expect(by['node-2']).toMatchObject({ address: '10.0.0.22', port: 2222, user: 'nodes', sudo: true });
  };
  it("the defensive parser reads them, files over the inventory's own vars", () => {
    const f = inventory(text, files);
    const inv = parseInventory(text, f, true);
    check(inv.hosts);
    expect(inv.cluster).toEqual({ file: join(f, '../../cluster.yaml') });
  });
  it('ansible-inventory reads them the same way', () => {
    const f = inventory(text, files);
    const inv = readInventory({ file: f, ansible: true });
    check(inv.hosts);
    expect(inv.cluster).toEqual({ file: join(f, '../../cluster.yaml') });
  }, 60_000);
  it('an ansible-vault file is named', () => {
    const f = inventory(text, { 'host_vars/node-1.yml': '$ANSIBLE_VAULT;1.1;AES256\n6162\n' });
    expect(errorOf(() => parseInventory(text, f, true))).toMatch(
      /host_vars\/node-1\.yml: encrypted with ansible-vault, which hardway does not read/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: the defensive parser against ansible-inventory --list

function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const GROUPS = ['kube_control_plane', 'kube_node', 'masters', 'workers', 'etcd', 'k8s_cluster', 'extra'];
const HOSTS = ['master', 'node-1', 'node-2', 'node-3', 'node-[4:5]', 'web[01:03]', 'db-[a:b]'];
const VALUES = ['10.0.0.1', 'deploy', '2222', 'True', 'yes', 'plain words', '7'];

interface Gen {
  groups: Map<string, { hosts: Map<string, Record<string, string>>; children: string[]; vars: Record<string, string> }>;
  groupFiles: Record<string, Record<string, string>>;
  hostFiles: Record<string, Record<string, string>>;
}

function generate(rand: () => number): Gen {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const vars = (k: number) =>
    Object.fromEntries(
      Array.from({ length: k }, () => [pick(['ansible_host', 'ansible_user', 'ansible_port', 'x', 'y', 'ansible_become']), pick(VALUES)]),
    );
  const g: Gen = { groups: new Map(), groupFiles: {}, hostFiles: {} };
  const used = GROUPS.filter(() => rand() < 0.7);
  used.forEach((name, i) => {
    const hosts = new Map<string, Record<string, string>>();
    for (let k = Math.floor(rand() * 3); k > 0; k--) hosts.set(pick(HOSTS), rand() < 0.4 ? vars(1) : {});
    // Children only of later groups: no cycles (those are the table above).
    const children = used.slice(i + 1).filter(() => rand() < 0.25);
    g.groups.set(name, { hosts, children, vars: rand() < 0.5 ? vars(2) : {} });
    if (rand() < 0.3) g.groupFiles[name] = vars(2);
  });
  if (rand() < 0.5) g.groupFiles.all = vars(2);
  for (const h of ['master', 'node-1', 'node-4', 'web02']) if (rand() < 0.3) g.hostFiles[h] = vars(2);
  return g;
}

function asIni(g: Gen): string {
  const out: string[] = [];
  for (const [name, b] of g.groups) {
    out.push(
      `[${name}]`,
      ...[...b.hosts].map(([h, v]) => [h, ...Object.entries(v).map(([k, x]) => `${k}=${/\s/.test(x) ? `"${x}"` : x}`)].join(' ')),
    );
    if (b.children.length) out.push(`[${name}:children]`, ...b.children);
    if (Object.keys(b.vars).length) out.push(`[${name}:vars]`, ...Object.entries(b.vars).map(([k, x]) => `${k}=${x}`));
  }
  return `${out.join('\n')}\n`;
}

function asYaml(g: Gen): string {
  const typed = (v: Record<string, string>) =>
    Object.fromEntries(Object.entries(v).map(([k, x]) => [k, /^\d+$/.test(x) ? Number(x) : x === 'True' ? true : x]));
  const body = (name: string): Record<string, unknown> => {
    const b = g.groups.get(name)!;
    return {
      ...(b.hosts.size ? { hosts: Object.fromEntries([...b.hosts].map(([h, v]) => [h, Object.keys(v).length ? typed(v) : null])) } : {}),
      ...(b.children.length ? { children: Object.fromEntries(b.children.map((c) => [c, null])) } : {}),
      ...(Object.keys(b.vars).length ? { vars: typed(b.vars) } : {}),
    };
  };
  return stringify({ all: { children: Object.fromEntries([...g.groups.keys()].map((n) => [n, body(n)])) } });
}

/** Values as both sides can agree on: Ansible keeps "yes" a string, 2222 an int, True a bool. */
const norm = (v: unknown) => String(v).toLowerCase().replace(/^yes$/, 'true');

function view(p: Parsed): {
  groups: Record<string, { hosts: string[]; children: string[] }>;
  vars: Record<string, Record<string, string>>;
} {
  const d = depths(p);
  const groups: Record<string, { hosts: string[]; children: string[] }> = {};
  for (const [name, g] of [...p.groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (name === 'all' || (!g.hosts.size && !g.children.size)) continue;
    groups[name] = { hosts: [...g.hosts].sort(), children: [...g.children].sort() };
  }
  const vars: Record<string, Record<string, string>> = {};
  for (const h of [...p.hostVars.keys()].sort())
    vars[h] = Object.fromEntries(
      Object.entries(hostVars(p, h, d))
        .map(([k, v]) => [k, norm(v)])
        .sort(),
    );
  return { groups, vars };
}

describe('the defensive parser agrees with ansible-inventory --list (differential)', () => {
  it('ansible-inventory is installed (bin/prepare-machine installs ansible-core)', () => {
    const r = spawnSync('ansible-inventory', ['--version'], { encoding: 'utf8' });
    expect(r.error, 'ansible-inventory is missing: run bin/prepare-machine (apt-get install ansible-core)').toBeUndefined();
    expect(r.status).toBe(0);
  });

  it('on generated INI and YAML inventories with group_vars/ and host_vars/', () => {
    const rand = prng(7);
    const disagreements: string[] = [];
    let hosts = 0;
    for (let i = 0; i < 24; i++) {
      const g = generate(rand);
      const yaml = i % 2 === 1;
      const files: Record<string, string> = {};
      for (const [name, v] of Object.entries(g.groupFiles)) files[`group_vars/${name}.yml`] = stringify(v);
      for (const [name, v] of Object.entries(g.hostFiles)) files[`host_vars/${name}.yml`] = stringify(v);
      const text = yaml ? asYaml(g) : asIni(g);
      const f = inventory(text, files, yaml ? 'hosts.yaml' : 'hosts.ini');
      const ours = view(parseAnsibleFallback(yaml ? { kind: 'yaml', value: parseYaml(text) as unknown } : { kind: 'ini', text }, f));
      const list = JSON.parse(
        execFileSync('ansible-inventory', ['-i', f, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } }),
      );
      const theirs = view(fromAnsibleList(list, f));
      // --list merges every variable into the host: the views compare merged variables.
      const [ourVars, theirVars] = [ours.vars, theirs.vars];
      if (JSON.stringify(ours.groups) !== JSON.stringify(theirs.groups))
        disagreements.push(`${f}: groups: ours ${JSON.stringify(ours.groups)} ansible ${JSON.stringify(theirs.groups)}`);
      if (JSON.stringify(ourVars) !== JSON.stringify(theirVars))
        disagreements.push(`${f}: vars: ours ${JSON.stringify(ourVars)} ansible ${JSON.stringify(theirVars)}`);
      hosts += Object.keys(theirVars).length;
    }
    expect(disagreements).toEqual([]);
    expect(hosts).toBeGreaterThan(60);
  }, 120_000);

  it('runAnsibleInventory is undefined when switched off (the fallback is used)', () => {
    expect(runAnsibleInventory('/nonexistent', { ...process.env, HARDWAY_ANSIBLE_INVENTORY: 'off' })).toBeUndefined();
  });
});
