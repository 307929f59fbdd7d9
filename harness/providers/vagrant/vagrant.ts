// The Vagrant provider: the same topology as the lab, as VMs (libvirt or VirtualBox). It writes the
// Vagrantfile, runs `vagrant up`, learns each VM's SSH host key through `vagrant ssh` (out of band,
// as the lab does through docker exec) and hands the installer root@<address> endpoints.
// Not exercised by this project's CI: its machines reach no Vagrant box catalogue.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2'; // CommonJS: named imports are not available
import { UserFacingError } from '../../cli/errors.ts';
import type { Cluster } from '../../model/cluster.ts';
import { allHosts } from '../../model/cluster.ts';
import { type HostStatus, type ProvisionedHost, type Provider, learnedHost } from '../provider.ts';
import { type LabState, labDir, labNetwork } from '../lab/lab.ts';
import { parseStatus, vagrantfile } from './vagrantfile.ts';

export interface VagrantSettings {
  box: string;
  provider: 'libvirt' | 'virtualbox';
}

export const DEFAULT_VAGRANT: VagrantSettings = {
  box: process.env.HARDWAY_VAGRANT_BOX ?? 'debian/trixie64',
  provider: (process.env.HARDWAY_VAGRANT_PROVIDER as VagrantSettings['provider']) ?? 'libvirt',
};

function vagrant(args: string[], cwd: string, onLine?: (l: string) => void): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('vagrant', args, { cwd, env: { ...process.env, VAGRANT_NO_COLOR: '1' } });
    let out = '';
    const take = (d: Buffer) => {
      out += d.toString();
      for (const l of d
        .toString()
        .split('\n')
        .filter((x) => x.trim()))
        onLine?.(l.trim());
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('error', (e) =>
      reject(
        new UserFacingError(
          `vagrant cannot run (${(e as NodeJS.ErrnoException).code ?? e.message}); fix: apt-get install vagrant vagrant-libvirt (or install VirtualBox and use HARDWAY_VAGRANT_PROVIDER=virtualbox)`,
        ),
      ),
    );
    p.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

export class VagrantProvider implements Provider {
  readonly name = 'vagrant';
  private readonly cluster: Cluster;
  private readonly config: string;
  private readonly settings: VagrantSettings;

  constructor(cluster: Cluster, configPath: string, settings: VagrantSettings = DEFAULT_VAGRANT) {
    this.cluster = cluster;
    this.config = configPath;
    this.settings = settings;
  }

  private get dir(): string {
    return join(labDir(this.cluster.name), 'vagrant');
  }

  async up(progress: (line: string) => void): Promise<ProvisionedHost[]> {
    const { subnet, edge } = labNetwork(this.cluster);
    await this.down(() => undefined);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment: `hardway-vagrant-${this.cluster.name}` });
    const keyPath = join(labDir(this.cluster.name), 'id_ed25519');
    writeFileSync(keyPath, keys.private, { mode: 0o600 });
    const knownHosts = join(labDir(this.cluster.name), 'known_hosts');
    writeFileSync(knownHosts, '', { mode: 0o600 });
    writeFileSync(
      join(this.dir, 'Vagrantfile'),
      vagrantfile(this.cluster, { ...this.settings, memoryMiB: 2048, cpus: 2, authorizedKey: keys.public, edgeAddress: edge }),
    );
    progress(`vagrant up (${this.settings.provider}, box ${this.settings.box}): several minutes the first time`);
    const up = await vagrant(['up', `--provider=${this.settings.provider}`], this.dir, (l) => progress(`  ${l}`));
    if (up.code !== 0) {
      throw new UserFacingError(
        `vagrant up failed (exit ${up.code}): ${up.out.trim().split('\n').slice(-2).join(' | ')}; fix: see ${this.dir} and vagrant's own message, then hardway lab down --provider vagrant`,
      );
    }
    const members = [
      ...allHosts(this.cluster).map((h) => ({ name: h.host, role: h.role as ProvisionedHost['role'], address: h.address })),
      { name: 'edge', role: 'edge' as const, address: edge },
    ];
    const hosts: ProvisionedHost[] = [];
    for (const m of members) {
      const r = await vagrant(['ssh', m.name, '-c', 'sudo cat /etc/ssh/ssh_host_ed25519_key.pub'], this.dir);
      const [type, blob] = r.out.trim().split('\n').pop()!.split(/\s+/);
      if (r.code !== 0 || !type?.startsWith('ssh-') || !blob)
        throw new UserFacingError(`${m.name}: cannot read its SSH host key through vagrant ssh; fix: vagrant ssh ${m.name} in ${this.dir}`);
      const ssh = learnedHost(m, { type, blob }, { knownHosts, privateKey: keyPath });
      hosts.push({ ...m, ssh });
    }
    const state: LabState = {
      name: this.cluster.name,
      config: this.config,
      network: `vagrant:${this.settings.provider}`,
      subnet,
      image: this.settings.box,
      hosts,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(labDir(this.cluster.name), 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    return hosts;
  }

  async down(progress: (line: string) => void): Promise<void> {
    if (!existsSync(join(this.dir, 'Vagrantfile'))) {
      rmSync(labDir(this.cluster.name), { recursive: true, force: true });
      return;
    }
    try {
      const r = await vagrant(['destroy', '-f'], this.dir, (l) => progress(`  ${l}`));
      if (r.code !== 0 && !/not created|No such file|A Vagrant environment or target machine is required/i.test(r.out))
        progress(`vagrant destroy: ${r.out.trim().split('\n').pop()}`);
    } catch (e) {
      if (!(e instanceof UserFacingError)) throw e; // no vagrant: nothing of ours can be running
    }
    rmSync(labDir(this.cluster.name), { recursive: true, force: true });
  }

  async status(): Promise<HostStatus[]> {
    const r = await vagrant(['status', '--machine-readable'], this.dir);
    return parseStatus(r.out).map((s) => ({ name: s.name, state: s.state }));
  }
}
