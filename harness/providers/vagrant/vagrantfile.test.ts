// vagrant/Vagrantfile is Ruby that only vagrant reads: these tests run the real vagrant (no machine
// is created: `vagrant status` and `vagrant validate` only load it) on a spec hardway writes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../model/load.ts';
import { labMembers } from '../common.ts';
import { labNetwork } from '../lab/lab.ts';
import { type VagrantProviderName, vagrantSpec } from './spec.ts';
import { VAGRANTFILE, meaningfulLines, parseProviders, parseStatus, vagrantEnv, vagrantPaths } from './vagrantfile.ts';

const cluster = loadCluster('fixtures/lab-vagrant/cluster.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'hardway-vagrantfile-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A lab folder as hardway lays it out before `vagrant up` (empty key files: nothing boots). */
function labFolder(provider: VagrantProviderName, model = cluster): string {
  const dir = join(tmp, provider);
  const members = labMembers(model, labNetwork(model).edge);
  for (const m of members) {
    mkdirSync(join(dir, 'hostkeys', m.name), { recursive: true });
    writeFileSync(join(dir, 'hostkeys', m.name, 'ssh_host_ed25519_key'), '', { mode: 0o600 });
    writeFileSync(join(dir, 'hostkeys', m.name, 'ssh_host_ed25519_key.pub'), '', { mode: 0o600 });
  }
  writeFileSync(join(dir, 'id_ed25519'), '', { mode: 0o600 });
  writeFileSync(join(dir, 'authorized_keys'), '', { mode: 0o600 });
  const spec = vagrantSpec(model, {
    provider,
    box: 'debian/trixie64',
    network: 'hardway-vagrant',
    subnet: '10.242.0.0/24',
    members,
    images: { systemd: 'hardway-node:test', openrc: 'hardway-node-openrc:test' },
    files: {
      privateKey: join(dir, 'id_ed25519'),
      authorizedKeys: join(dir, 'authorized_keys'),
      hostKey: (h) => join(dir, 'hostkeys', h, 'ssh_host_ed25519_key'),
    },
  });
  writeFileSync(vagrantPaths(dir).spec, JSON.stringify(spec));
  return dir;
}

function vagrant(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('vagrant', args, { cwd: dir, env: { ...vagrantEnv(vagrantPaths(dir)), ...env }, encoding: 'utf8' });
  if (r.error)
    throw new Error(
      `vagrant cannot run (${(r.error as NodeJS.ErrnoException).code}): these tests need it; fix: bin/prepare-machine (apt-get install vagrant)`,
    );
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

describe('vagrant/Vagrantfile, loaded by the real vagrant', () => {
  it("defines the model's hosts and the edge as docker machines (the default provider)", () => {
    const r = vagrant(labFolder('docker'), ['status', '--machine-readable']);
    expect(r.code, r.out).toBe(0);
    expect(parseStatus(r.out)).toEqual(['master', 'node-1', 'node-2', 'edge'].map((name) => ({ name, state: 'not_created' })));
    expect([...parseProviders(r.out).values()]).toEqual(['docker', 'docker', 'docker', 'docker']);
  }, 60_000);

  it('validates (vagrant validate)', () => {
    const dir = labFolder('docker');
    const r = vagrant(dir, ['validate']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('Vagrantfile validated successfully');
  }, 60_000);

  // VirtualBox's provider plugin ships with Vagrant, so its block is validated for real; the
  // libvirt block is checked by Vagrant only where vagrant-libvirt is installed (not on CI).
  it('validates the VirtualBox block (box, private network, provisioning) and refuses OpenRC hosts on VMs', () => {
    const openrc = vagrant(labFolder('libvirt'), ['validate', '--ignore-provider'], { VAGRANT_DEFAULT_PROVIDER: 'libvirt' });
    expect(openrc.code).toBe(1);
    expect(openrc.out).toContain('node-2: init: openrc is not provisioned on libvirt VMs');
    const systemdOnly = loadCluster('fixtures/lab-vagrant/cluster.yaml');
    for (const w of systemdOnly.workers) (w as { init: string }).init = 'systemd';
    const r = vagrant(labFolder('virtualbox', systemdOnly), ['validate', '--ignore-provider'], { VAGRANT_DEFAULT_PROVIDER: 'virtualbox' });
    expect(r.code, r.out).toBe(0);
  }, 60_000);

  it('fails in one line without the spec', () => {
    const r = vagrant(tmp, ['status'], { HARDWAY_VAGRANT_SPEC: '' });
    expect(r.code).not.toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^hardway's Vagrantfile needs HARDWAY_VAGRANT_SPEC .*; fix: /);
  }, 60_000);
});

describe('the spec hardway writes', () => {
  const dir = labFolder('docker');
  const spec = JSON.parse(readFileSync(vagrantPaths(dir).spec, 'utf8'));

  it("gives each host its address, init, node image and hardway's host key", () => {
    expect(
      spec.hosts.map((h: { name: string; address: string; init: string; image: string }) => [h.name, h.address, h.init, h.image]),
    ).toEqual([
      ['master', '10.242.0.10', 'systemd', 'hardway-node:test'],
      ['node-1', '10.242.0.21', 'systemd', 'hardway-node:test'],
      ['node-2', '10.242.0.22', 'openrc', 'hardway-node-openrc:test'],
      ['edge', '10.242.0.2', 'systemd', 'hardway-node:test'],
    ]);
    expect(spec.hosts[0].hostKey).toBe(join(dir, 'hostkeys', 'master', 'ssh_host_ed25519_key'));
    expect(spec).toMatchObject({ lab: 'vagrant', provider: 'docker', subnet: '10.242.0.0/24', docker: { network: 'hardway-vagrant' } });
  });

  it("carries the containers provider's docker flags (node-container.ts) for the docker machines", () => {
    const args: string[] = spec.docker.createArgs;
    const pairs = args.flatMap((a, i) => (a.startsWith('--') ? [`${a} ${args[i + 1]}`] : []));
    for (const want of [
      '--cap-add ALL',
      '--cap-drop SYS_RESOURCE',
      '--security-opt seccomp=unconfined',
      '--security-opt apparmor=unconfined',
      '--security-opt systempaths=unconfined',
      '--tmpfs /run:rw,mode=755',
      '--device-cgroup-rule a *:* rmw',
      '--cgroupns private',
      '--volume /var/lib/containerd',
    ])
      expect(pairs).toContain(want);
    expect(args).not.toContain('--privileged');
  });

  it("lists the node image recipe's packages for the VM providers", () => {
    expect(spec.vm.packages).toEqual(expect.arrayContaining(['containerd', 'etcd-server', 'openssh-server']));
  });
});

describe("vagrant's machine-readable output", () => {
  const recorded = readFileSync('fixtures/recorded/vagrant/status-running.txt', 'utf8');

  it('reads the states of a running docker lab (recorded)', () => {
    expect(parseStatus(recorded)).toEqual(['master', 'node-1', 'node-2', 'edge'].map((name) => ({ name, state: 'running' })));
    expect(parseProviders(recorded).get('node-2')).toBe('docker');
  });

  it('keeps the lines of a failure that say what went wrong', () => {
    const out = [
      '==> master: Creating the container...',
      '    master:   Name: vagrant_master_1',
      'A container named "vagrant_master_1" already exists.',
      '',
      'Stderr: docker: Error response from daemon: Address already in use.',
    ].join('\n');
    expect(meaningfulLines(out, 2)).toEqual([
      'A container named "vagrant_master_1" already exists.',
      'Stderr: docker: Error response from daemon: Address already in use.',
    ]);
  });

  it('points vagrant at the checked-in Vagrantfile and a dotfile folder in the lab', () => {
    const env = vagrantEnv(vagrantPaths('/x/labs/vagrant'), {});
    expect(env).toMatchObject({
      VAGRANT_VAGRANTFILE: VAGRANTFILE,
      VAGRANT_DOTFILE_PATH: '/x/labs/vagrant/vagrant',
      HARDWAY_VAGRANT_SPEC: '/x/labs/vagrant/vagrant-spec.json',
    });
    expect(VAGRANTFILE).toMatch(/\/vagrant\/Vagrantfile$/);
  });
});
