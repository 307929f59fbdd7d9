// Inventories: the hardway format, Ansible imports, spec resolution, the model agreement and the
// SSH endpoints they produce (no network: these are pure).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jumpFromSshArgs, expandHostRange } from './ansible.ts';
import { expandPath, inventoryCluster, inventoryEndpoints, parseInventory, readInventory, resolveInventorySpec } from './inventory.ts';
import { loadTargetCluster } from './open.ts';
import { assertFaultInjectionAllowed } from './guard.ts';

const FIX = resolve(import.meta.dirname, '../../fixtures/inventory');
const tmp = mkdtempSync(join(tmpdir(), 'hardway-inventory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(tmp, name);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, text);
  return f;
}

const MODEL = `name: t
masters: [{ host: master, address: 10.9.0.10 }]
workers: [{ host: node-1, address: 10.9.0.21 }, { host: node-2, address: 10.9.0.22, internalAddress: 192.168.9.22 }]
`;
write('cluster.yaml', MODEL);

const HOSTS = `hosts:
  - { name: master, role: master, address: 10.9.0.10 }
  - { name: node-1, role: worker, address: 10.9.0.21 }
  - { name: node-2, role: worker, address: 192.168.9.22 }
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('the hardway inventory format', () => {
  it('reads the example: defaults, jump host, per-host overrides, accept and domains', () => {
    const inv = readInventory({ file: join(FIX, 'prod.example.yaml'), ansible: false });
    expect(inv.format).toBe('hardway');
    expect(inv.name).toBe('prod');
    expect(inv.cluster).toEqual({ file: join(FIX, 'cluster.yaml') });
    expect(inv.hosts.map((h) => `${h.name}:${h.role}:${h.address}:${h.port ?? ''}`)).toEqual([
      'master:master:10.0.0.10:',
      'node-1:worker:10.0.0.21:',
      'node-2:worker:10.0.0.22:2222',
    ]);
    expect(inv.defaults).toMatchObject({ user: 'deploy', port: 22, sudo: true, jump: 'bastion', connectTimeoutMs: 15_000, maxSessions: 8 });
    expect(inv.jumpHosts.get('bastion')).toMatchObject({ address: '198.51.100.7', user: 'jump' });
    expect(inv.domains).toEqual(['app.example.org', 'no-https.app.example.org']);
    expect(inventoryCluster(inv)!.name).toBe('prod');
  });

  it('expands ~, $VAR and ${VAR:-default} in paths, relative to the inventory', () => {
    expect(expandPath('${X:-~/k}', 'f', '/base', {})).toBe(join(homedir(), 'k'));
    expect(expandPath('$X/id', 'f', '/base', { X: '/secrets' })).toBe('/secrets/id');
    expect(expandPath('keys/a', 'f', '/base', {})).toBe('/base/keys/a');
    expect(errorOf(() => expandPath('${NOPE}/id', 'inv.yaml:3:6: ssh.key', '/b', {}))).toBe(
      'inv.yaml:3:6: ssh.key: "${NOPE}/id" uses $NOPE, which is not set; fix: export NOPE=<path>, or write ${NOPE:-<default>}',
    );
  });

  it('takes the cluster model inline as well', () => {
    const f = write(
      'inline.yaml',
      `cluster:\n${MODEL.split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}\n${HOSTS}`,
    );
    expect(inventoryCluster(readInventory({ file: f, ansible: false }))!.workers.map((w) => w.host)).toEqual(['node-1', 'node-2']);
  });

  it('a malformed inventory is one line with file, line, column and the fix', () => {
    const f = write('broken.yaml', 'cluster: cluster.yaml\nhosts:\n  - name: master\n    role: [master\n');
    const msg = errorOf(() => readInventory({ file: f, ansible: false }));
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(new RegExp(`^${f}:\\d+:\\d+: not a valid YAML inventory: .*; fix: correct the syntax`));
  });

  it('names unknown keys, bad roles and ports, missing fields and duplicates precisely', () => {
    const f = write(
      'bad.yaml',
      `cluster: cluster.yaml
hosts:
  - { name: master, role: boss, address: 10.9.0.10 }
  - { name: node-1, role: worker, port: 70000 }
  - { name: node-1, role: worker, adress: 10.9.0.22 }
  - { role: worker }
`,
    );
    const lines = errorOf(() => readInventory({ file: f, ansible: false })).split('\n');
    expect(lines).toEqual([
      `${f}:3:27: hosts[0].role: expected "master" or "worker", got "boss"`,
      `${f}:4:41: hosts[1].port: expected an integer from 1 to 65535, got 70000`,
      `${f}:5:35: hosts[2].adress: unknown key "adress" (known keys: name, role, address, user, port, key, agent, jump, sudo, connectTimeout, maxSessions); fix: see docs/inventory.md`,
      `${f}:6:5: hosts[3].name: is required (the host's name in the cluster model)`,
      `${f}:5:5: hosts[2].name: duplicate host "node-1" (also hosts[1])`,
    ]);
  });

  it('requires at least one host; the cluster model is optional (discovery reads it)', () => {
    const f = write('empty.yaml', 'name: x\n');
    expect(errorOf(() => readInventory({ file: f, ansible: false })).split('\n')).toEqual([
      `${f}:1:1: hosts: expected a list of hosts (name, role, address), at least one; fix: see docs/inventory.md`,
    ]);
    const g = write('modelless.yaml', 'hosts:\n  - { name: server, address: 10.9.0.10 }\n  - { name: node-0, address: 10.9.0.20 }\n');
    const inv = readInventory({ file: g, ansible: false });
    expect(inv.cluster).toBeUndefined();
    expect(inventoryCluster(inv)).toBeUndefined();
    expect(inv.hosts.map((h) => h.name)).toEqual(['server', 'node-0']);
  });

  it('a host needs a role only when the inventory gives a model', () => {
    const f = write('norole.yaml', 'cluster: cluster.yaml\nhosts:\n  - { name: master, address: 10.9.0.10 }\n');
    expect(errorOf(() => readInventory({ file: f, ansible: false }))).toMatch(/hosts\[0\]\.role: is required with a cluster model/);
  });
});

describe('the model and the inventory must agree', () => {
  it('a host missing from the inventory, an extra host, a wrong role and a wrong address', () => {
    const f = write(
      'disagree.yaml',
      `cluster: cluster.yaml
hosts:
  - { name: master, role: worker, address: 10.9.0.10 }
  - { name: node-1, role: worker, address: 10.9.0.99 }
  - { name: node-3, role: worker, address: node-3.example.org }
`,
    );
    const lines = errorOf(() => inventoryCluster(readInventory({ file: f, ansible: false }))).split('\n');
    const model = join(tmp, 'cluster.yaml');
    expect(lines).toEqual([
      `${f}:3:5: host "master" is a worker in the inventory but a master in ${model}; fix: make the roles agree`,
      `${f}:4:5: host "node-1" has address 10.9.0.99 in the inventory but 10.9.0.21 in ${model}; fix: correct one of them (an inventory address must be the model's address, its internal address, a DNS name or an ~/.ssh/config alias)`,
      `${f}: host "node-2" (worker in ${model}) is not in the inventory; fix: add it under hosts: with role: worker`,
      `${f}:5:5: host "node-3" is not in ${model} (hosts there: master, node-1, node-2); fix: remove it from the inventory or add it to the model`,
    ]);
  });

  it('accepts the internal address and DNS names', () => {
    const f = write('agree.yaml', `cluster: cluster.yaml\n${HOSTS}`);
    expect(inventoryCluster(readInventory({ file: f, ansible: false }))!.name).toBe('t');
  });
});

describe('--target resolution', () => {
  it('"prod" is targets/prod.yaml in the current folder; paths are files; ansible: forces the import', () => {
    const cwd = join(tmp, 'work');
    write('work/targets/prod.yaml', `cluster: ../../cluster.yaml\n${HOSTS}`);
    write('work/hosts.ini', '[masters]\nmaster\n');
    expect(resolveInventorySpec('prod', cwd)).toEqual({ file: join(cwd, 'targets/prod.yaml'), ansible: false });
    expect(resolveInventorySpec('./targets/prod.yaml', cwd)).toEqual({ file: join(cwd, 'targets/prod.yaml'), ansible: false });
    expect(resolveInventorySpec('ansible:hosts.ini', cwd)).toEqual({ file: join(cwd, 'hosts.ini'), ansible: true });
    expect(loadTargetCluster('prod', { cwd })!.name).toBe('t');
  });

  it('an unknown name says where it looked and what to do', () => {
    expect(errorOf(() => resolveInventorySpec('staging', tmp))).toBe(
      `unknown target "staging": no ${join(tmp, 'targets/staging.yaml')}; fix: write the inventory there (see docs/inventory.md), or use lab, dir:<rendered tree> or a path to an inventory file`,
    );
    expect(errorOf(() => resolveInventorySpec('./nope.yaml', tmp))).toBe(
      `./nope.yaml: no inventory file at ${join(tmp, 'nope.yaml')}; fix: check the path, or write one (see docs/inventory.md and fixtures/inventory/)`,
    );
  });
});

describe('SSH endpoints from an inventory', () => {
  it('applies defaults, per-host settings and the jump host', () => {
    const inv = readInventory({ file: join(FIX, 'prod.example.yaml'), ansible: false });
    delete inv.sshConfig; // no ~/.ssh/config of this machine in a unit test
    const eps = inventoryEndpoints(inv, {
      HOME: '/home/op',
      HARDWAY_SSH_KEY_FILE: '/run/secrets/id',
      HARDWAY_KNOWN_HOSTS_FILE: '/run/secrets/kh',
    });
    const n2 = eps.find((e) => e.name === 'node-2')!;
    expect(n2).toMatchObject({ host: '10.0.0.22', port: 2222, user: 'deploy', sudo: true, connectTimeoutMs: 15_000, maxSessions: 8 });
    expect(n2.jump).toMatchObject({ name: 'bastion', host: '198.51.100.7', user: 'jump', port: 22 });
    expect(n2.jump!.jump).toBeUndefined();
    expect(n2.jump!.sudo).toBeUndefined();
  });

  it('resolves ~/.ssh/config aliases: HostName, User, Port, IdentityFile, ProxyJump chains', () => {
    const key = write('keys/alias', 'x');
    const cfg = write(
      'ssh_config',
      `Host prod-*
  User admin
  IdentityFile ${key}
Host prod-master
  HostName 10.9.0.10
  Port 2200
  ProxyJump gw1,gw2:2022
Host gw1
  HostName 198.51.100.1
  User hop
`,
    );
    const f = write(
      'alias.yaml',
      `cluster: cluster.yaml
sshConfig: ${cfg}
knownHosts: ${join(tmp, 'kh')}
hosts:
  - { name: master, role: master, address: prod-master }
  - { name: node-1, role: worker, address: 10.9.0.21, user: root, jump: none }
  - { name: node-2, role: worker, address: 10.9.0.22, jump: "ops@gw3:2200" }
`,
    );
    const inv = readInventory({ file: f, ansible: false });
    const [m, n1, n2] = inventoryEndpoints(inv, { HOME: join(tmp, 'nohome') });
    expect(m).toMatchObject({ host: '10.9.0.10', port: 2200, user: 'admin', privateKeyPath: key, knownHostsPath: join(tmp, 'kh') });
    // ProxyJump gw1,gw2: gw1 first, then gw2 through it, then the host through gw2.
    expect(m!.jump).toMatchObject({ name: 'gw2:2022', host: 'gw2', port: 2022 });
    expect(m!.jump!.jump).toMatchObject({ name: 'gw1', host: '198.51.100.1', user: 'hop' });
    expect(n1).toMatchObject({ host: '10.9.0.21', user: 'root' });
    expect(n1!.jump).toBeUndefined();
    expect(n2!.jump).toMatchObject({ host: 'gw3', port: 2200, user: 'ops' });
  });

  it('uses the agent when no key is named, and refuses jump loops', () => {
    const f = write(
      'agent.yaml',
      `cluster: cluster.yaml
sshConfig: none
jumpHosts:
  a: { address: 10.1.1.1, jump: b }
  b: { address: 10.1.1.2, jump: a }
hosts:
  - { name: master, role: master, address: 10.9.0.10, agent: true }
  - { name: node-1, role: worker, address: 10.9.0.21, jump: a }
  - { name: node-2, role: worker, address: 10.9.0.22 }
`,
    );
    const inv = readInventory({ file: f, ansible: false });
    expect(errorOf(() => inventoryEndpoints(inv, { HOME: '/nohome', SSH_AUTH_SOCK: '/run/agent.sock' }))).toMatch(
      /jump host loop node-1 -> a -> b -> a; fix: check the jump settings in /,
    );
    inv.hosts[1]!.jump = 'none';
    const [m] = inventoryEndpoints(inv, { HOME: '/nohome', SSH_AUTH_SOCK: '/run/agent.sock' });
    expect(m).toMatchObject({ agent: '/run/agent.sock', user: 'root', port: 22, knownHostsPath: '/nohome/.ssh/known_hosts' });
    expect(m!.privateKeyPath).toBeUndefined();
  });
});

describe('Ansible inventories', () => {
  it('INI: groups, children, ranges, group vars, ProxyCommand bastion and hardway_* vars', () => {
    const inv = readInventory({ file: join(FIX, 'ansible/hosts.ini'), ansible: true });
    expect(inv.format).toBe('ansible-ini');
    expect(inv.hosts.map((h) => `${h.name}:${h.role}:${h.address}`).sort()).toEqual([
      'master:master:10.0.0.10',
      'node-1:worker:node-1',
      'node-2:worker:node-2',
    ]);
    const n1 = inv.hosts.find((h) => h.name === 'node-1')!;
    expect(n1).toMatchObject({ user: 'deploy', sudo: true, jump: 'jump@198.51.100.7', key: join(homedir(), '.ssh/prod_nodes') });
    expect(inv.hosts.find((h) => h.name === 'master')!.key).toBeUndefined();
    expect(inv.cluster).toEqual({ file: join(FIX, 'cluster.yaml') });
    expect(inv.knownHosts).toBe(join(homedir(), '.ssh/known_hosts'));
    // node-1 and node-2 are DNS names here (no ansible_host): accepted; the model has them.
    expect(inventoryCluster(inv)!.name).toBe('prod');
  });

  it('YAML: nested children, host and group vars, auto-detected from the contents', () => {
    const inv = parseInventory(readInventoryText('ansible/hosts.yaml'), join(FIX, 'ansible/hosts.yaml'));
    expect(inv.format).toBe('ansible-yaml');
    const by = Object.fromEntries(inv.hosts.map((h) => [h.name, h]));
    expect(by.master).toMatchObject({ role: 'master', address: '203.0.113.10', user: 'deploy', port: 22 });
    expect(by.master!.sudo).toBeUndefined();
    expect(by['node-2']).toMatchObject({ role: 'worker', port: 2222, sudo: true, key: join(FIX, 'ansible/keys/node-2') });
    delete inv.sshConfig;
    const eps = inventoryEndpoints(inv, { HOME: '/nohome' });
    expect(eps.find((e) => e.name === 'node-1')).toMatchObject({ host: '203.0.113.21', user: 'deploy', sudo: true });
  });

  it('a host in both master and worker groups is a master; other groups are ignored', () => {
    const inv = parseInventory(
      '[kube_control_plane]\nmaster\n[kube_node]\nmaster\nnode-1\nnode-2\n[etcd]\nmaster\n[all:vars]\nhardway_cluster=cluster.yaml\n',
      join(tmp, 'both.ini'),
    );
    expect(inv.hosts.map((h) => `${h.name}:${h.role}`).sort()).toEqual(['master:master', 'node-1:worker', 'node-2:worker']);
  });

  it('clear one-line errors: no groups, passwords, other connections, no cluster model', () => {
    expect(errorOf(() => parseInventory('[web]\nweb1\n', '/x/hosts.ini'))).toMatch(
      /^\/x\/hosts\.ini: no cluster hosts: the Ansible inventory has no masters\/.* groups; fix: /,
    );
    expect(errorOf(() => parseInventory('[masters]\nm ansible_ssh_pass=hunter2\n', '/x/hosts.ini'))).toBe(
      '/x/hosts.ini:2: m: ansible_ssh_pass is set, but hardway authenticates with keys or the ssh-agent only; fix: install a key on m and set ansible_ssh_private_key_file (or load it into ssh-agent)',
    );
    expect(errorOf(() => parseInventory('[masters]\nm ansible_connection=docker\n', '/x/hosts.ini'))).toMatch(
      /^\/x\/hosts\.ini:2: m: ansible_connection=docker; hardway reaches hosts over SSH only/,
    );
    expect(errorOf(() => parseInventory('[masters]\n[bad header\n', '/x/hosts.ini'))).toMatch(
      /^\/x\/hosts\.ini:2: "\[bad header" is not a group header/,
    );
    // Without hardway_cluster (or a cluster.yaml beside it) the model is what discovery finds.
    const inv = parseInventory('[masters]\nmaster\n', join(tmp, 'nomodel', 'hosts.ini'));
    expect(inventoryCluster(inv)).toBeUndefined();
  });

  it('host ranges and ssh argument forms', () => {
    expect(expandHostRange('node-[1:3]')).toEqual(['node-1', 'node-2', 'node-3']);
    expect(expandHostRange('web[08:10].x')).toEqual(['web08.x', 'web09.x', 'web10.x']);
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(jumpFromSshArgs('-o ProxyJump=ops@bastion:2222')).toBe('ops@bastion:2222');
    expect(jumpFromSshArgs('-J bastion')).toBe('bastion');
    expect(jumpFromSshArgs('-o ProxyCommand="ssh -W %h:%p -p 2200 -i ~/.ssh/k jump@1.2.3.4"')).toBe('jump@1.2.3.4:2200');
    expect(jumpFromSshArgs('-o StrictHostKeyChecking=no')).toBeUndefined();
  });
});

describe('fault injection guard', () => {
  it('allows only live targets hardway created', () => {
    expect(() => assertFaultInjectionAllowed({ name: 'lab', live: true, ownedByHardway: true })).not.toThrow();
    expect(errorOf(() => assertFaultInjectionAllowed({ name: 'prod', live: true, ownedByHardway: false }))).toBe(
      'prod: fault injection refused: hardway did not create it; fix: inject faults only into a lab hardway made (--target lab, or lab:<name> after hardway lab up)',
    );
    expect(errorOf(() => assertFaultInjectionAllowed({ name: 'dir:/x', live: false, ownedByHardway: false }))).toMatch(
      /^dir:\/x: fault injection refused: it is an offline tree/,
    );
  });
});

function readInventoryText(rel: string): string {
  return readFileSync(join(FIX, rel), 'utf8');
}
