// The Vagrant provider: the lab's topology as Vagrant machines, made by real `vagrant up` on
// hardway's checked-in Vagrantfile (vagrant/Vagrantfile), which reads the spec hardway writes into
// the lab's folder. Providers (HARDWAY_VAGRANT_PROVIDER): docker (the default; the lab's node
// images on hardway's own Docker network, booted as the containers provider boots them) or
// libvirt / virtualbox (a Debian box per host, for machines with VMs). hardway makes every host's
// SSH host key itself, the Vagrantfile installs it, so known_hosts is exact before the first
// connection; `vagrant ssh-config` says where Vagrant reaches each machine, checked against the
// model. See docs/vagrant.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2'; // CommonJS: named imports are not available
import { UserFacingError } from '../../cli/errors.ts';
import type { Cluster } from '../../model/cluster.ts';
import { SshSession } from '../../ssh/session.ts';
import {
  type LabMember,
  createLabNetwork,
  labNetworkName,
  ensureInotifyInstances,
  labMembers,
  removeLabDocker,
  shapeHosts,
  createOrRemove,
} from '../common.ts';
import { type LabState, labDir, labNetwork } from '../lab/lab.ts';
import { ensureNodeImages } from '../lab/node-image.ts';
import { type HostStatus, type ProvisionedHost, type Provider, learnedHost } from '../provider.ts';
import { checkSshConfig, parseSshConfig } from './ssh-config.ts';
import { type VagrantProviderName, type VagrantSpec, vagrantSpec } from './spec.ts';
import { RUBY_TRACE, type VagrantPaths, meaningfulLines, parseStatus, vagrantEnv, vagrantPaths } from './vagrantfile.ts';

export interface VagrantSettings {
  provider: VagrantProviderName;
  /** The Debian box of the VM providers. */
  box: string;
}

const PROVIDERS: VagrantProviderName[] = ['docker', 'libvirt', 'virtualbox'];

export function vagrantSettings(env: NodeJS.ProcessEnv = process.env): VagrantSettings {
  const provider = (env.HARDWAY_VAGRANT_PROVIDER || 'docker') as VagrantProviderName;
  if (!PROVIDERS.includes(provider))
    throw new UserFacingError(`HARDWAY_VAGRANT_PROVIDER must be ${PROVIDERS.join(', ')} (default docker), got "${provider}"`);
  return { provider, box: env.HARDWAY_VAGRANT_BOX || 'debian/trixie64' };
}

/** vagrant processes still running, per lab folder: `lab down` (Ctrl-C) stops them before destroying. */
const running = new Map<string, Set<ChildProcess>>();

/** Runs vagrant on the lab's Vagrantfile and spec (p), or outside any environment (no p: --version). */
function runVagrant(args: string[], p: VagrantPaths | undefined, onLine?: (l: string) => void): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const cwd = p?.dir ?? '/';
    const env = p ? vagrantEnv(p) : { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' };
    // Its own process group: a terminal's Ctrl-C reaches hardway only, and stopVagrant sends the
    // one SIGINT (a second one makes Vagrant exit without its clean-up).
    const child = spawn('vagrant', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const mine = running.get(cwd) ?? new Set();
    running.set(cwd, mine.add(child));
    let out = '';
    let partial = '';
    const take = (d: Buffer) => {
      out += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() && !RUBY_TRACE.test(l)) onLine?.(l.trimEnd());
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => {
      mine.delete(child);
      reject(
        new UserFacingError(
          `vagrant is not installed or cannot run (spawn vagrant: ${(e as NodeJS.ErrnoException).code ?? e.message}); fix: apt-get install vagrant (bin/prepare-machine installs it)`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      mine.delete(child);
      if (partial.trim() && !RUBY_TRACE.test(partial)) onLine?.(partial.trimEnd());
      resolve({ code: code ?? (signal ? 128 : 1), out });
    });
  });
}

/** `down` calls in flight, per lab folder. */
const downs = new Map<string, Promise<void>>();

function pruneIndex(): Promise<void> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['VAGRANT_VAGRANTFILE', 'VAGRANT_DOTFILE_PATH', 'HARDWAY_VAGRANT_SPEC']) delete env[k];
    const child = spawn('vagrant', ['global-status', '--prune'], { cwd: '/', env, stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/** Stops this lab's vagrant processes (an interrupted `vagrant up`): SIGINT, then SIGKILL after 30 s. */
async function stopVagrant(dir: string, progress: (l: string) => void): Promise<void> {
  const mine = [...(running.get(dir) ?? [])].filter((c) => c.exitCode === null && c.signalCode === null);
  if (!mine.length) return;
  progress(`stopping ${mine.length} running vagrant process(es)`);
  await Promise.all(
    mine.map(
      (c) =>
        new Promise<void>((resolve) => {
          const signal = (s: NodeJS.Signals) => {
            try {
              process.kill(-c.pid!, s); // the group: vagrant and what it started
            } catch {
              c.kill(s);
            }
          };
          const kill = setTimeout(() => signal('SIGKILL'), 30_000);
          c.once('close', () => {
            clearTimeout(kill);
            resolve();
          });
          signal('SIGINT');
        }),
    ),
  );
}

export class VagrantProvider implements Provider {
  readonly name = 'vagrant';
  private readonly cluster: Cluster;
  private readonly config: string;
  private readonly settings: VagrantSettings;

  constructor(cluster: Cluster, configPath: string, settings: VagrantSettings = vagrantSettings()) {
    this.cluster = cluster;
    this.config = configPath;
    this.settings = settings;
  }

  private get paths(): VagrantPaths {
    return vagrantPaths(labDir(this.cluster.name));
  }

  /** hardway's Docker network for the docker provider's machines (the containers provider's name for the lab). */
  private get networkName(): string {
    return labNetworkName(this.cluster.name);
  }

  up(progress: (line: string) => void): Promise<ProvisionedHost[]> {
    return createOrRemove(
      () => this.create(progress),
      (p) => this.down(p),
      progress,
    );
  }

  private async create(progress: (line: string) => void): Promise<ProvisionedHost[]> {
    const { subnet, gateway, edge } = labNetwork(this.cluster);
    const { provider, box } = this.settings;
    const onDocker = provider === 'docker';
    // vagrant first: without it, nothing else is worth doing.
    const version = await runVagrant(['--version'], undefined);
    if (version.code !== 0)
      throw new UserFacingError(
        `vagrant --version failed (exit ${version.code}): ${meaningfulLines(version.out, 1).join('')}; fix: apt-get install vagrant`,
      );
    progress(`${version.out.trim()}, provider ${provider}`);
    await this.down(() => undefined); // a crashed earlier run leaves machines behind: start clean
    const members = labMembers(this.cluster, edge);
    let images: { systemd: string; openrc?: string } = { systemd: '' };
    if (onDocker) {
      // Containers share this machine's kernel (and its inotify limit); VMs do not.
      ensureInotifyInstances(members.length, progress);
      images = await ensureNodeImages(
        progress,
        members.some((m) => m.init === 'openrc'),
      );
    }
    const dir = this.paths.dir;
    mkdirSync(join(dir, 'hostkeys'), { recursive: true, mode: 0o700 });
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment: `hardway-vagrant-${this.cluster.name}` });
    const privateKey = join(dir, 'id_ed25519');
    writeFileSync(privateKey, keys.private, { mode: 0o600 });
    const authorizedKeys = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, `${keys.public}\n`, { mode: 0o600 });
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, '', { mode: 0o600 });
    // Each host's SSH host key, made here: known_hosts holds exactly these, SSH is strict from the start.
    const hostKey = (name: string) => join(dir, 'hostkeys', name, 'ssh_host_ed25519_key');
    const hosts: ProvisionedHost[] = members.map((m) => {
      const k = ssh2.utils.generateKeyPairSync('ed25519', { comment: `root@${m.name}` });
      mkdirSync(join(dir, 'hostkeys', m.name), { mode: 0o700 });
      writeFileSync(hostKey(m.name), k.private, { mode: 0o600 });
      writeFileSync(`${hostKey(m.name)}.pub`, `${k.public}\n`, { mode: 0o600 });
      const [type, blob] = k.public.split(/\s+/) as [string, string];
      return { name: m.name, role: m.role, address: m.address, ssh: learnedHost(m, { type, blob }, { knownHosts, privateKey }) };
    });
    const spec: VagrantSpec = vagrantSpec(this.cluster, {
      provider,
      box,
      network: this.networkName,
      subnet,
      members,
      images,
      files: { privateKey, authorizedKeys, hostKey },
    });
    writeFileSync(this.paths.spec, `${JSON.stringify(spec, null, 2)}\n`);
    if (onDocker) {
      progress(`network ${this.networkName} ${subnet}`);
      await createLabNetwork(this.cluster.name, this.networkName, subnet, gateway);
    }

    const t0 = Date.now();
    progress(
      `vagrant up --provider=${provider}: ${members.length} machines (${members.map((m) => m.name).join(', ')}), in parallel where the provider can${onDocker ? '' : `, box ${box}: several minutes the first time`}`,
    );
    const up = await runVagrant(['up', `--provider=${provider}`], this.paths, (l) => progress(`  ${l}`));
    if (up.code !== 0)
      throw new UserFacingError(
        `vagrant up failed (exit ${up.code}): ${meaningfulLines(up.out).join(' | ')}; fix: see the vagrant output above${onDocker ? ` and docker logs of the machine's container (docker ps -a --filter label=hardway.lab=${this.cluster.name})` : ''}, then hardway lab down --provider vagrant`,
      );
    progress(`vagrant up: ${members.length} machines in ${Math.round((Date.now() - t0) / 1000)} s`);

    await this.checkSshConfig(members, onDocker);
    await this.shape(members, hosts, edge, progress);

    const state: LabState = {
      name: this.cluster.name,
      config: this.config,
      network: `vagrant:${provider}`,
      subnet,
      image: onDocker ? [...new Set(spec.hosts.map((h) => h.image))].join(', ') : box,
      hosts,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    return hosts;
  }

  /** Where Vagrant reaches each machine (`vagrant ssh-config`): the model's address, port 22 (root on docker). */
  private async checkSshConfig(members: LabMember[], onDocker: boolean): Promise<void> {
    const r = await runVagrant(['ssh-config'], this.paths);
    if (r.code !== 0)
      throw new UserFacingError(
        `vagrant ssh-config failed (exit ${r.code}): ${meaningfulLines(r.out).join(' | ')}; fix: vagrant status in ${this.paths.dir}`,
      );
    writeFileSync(join(this.paths.dir, 'vagrant-ssh-config'), r.out);
    checkSshConfig(members, parseSshConfig(r.out), onDocker ? 'root' : undefined);
  }

  /** The layout's /etc/hosts and resolver, over SSH (strict: the host keys are hardway's). */
  private async shape(members: LabMember[], hosts: ProvisionedHost[], edge: string, progress: (l: string) => void): Promise<void> {
    const sessions = await Promise.all(
      hosts.map((h) =>
        SshSession.connect(h.ssh).catch((e: Error) => {
          throw new UserFacingError(
            `${h.name}: no SSH as root at ${h.address} with hardway's host key (${e.message.split('\n')[0]}); fix: vagrant ssh ${h.name} in ${this.paths.dir}, or hardway lab down --provider vagrant`,
          );
        }),
      ),
    );
    try {
      await shapeHosts(
        this.cluster,
        members,
        edge,
        async (_m, i, command) => {
          const r = await sessions[i]!.exec(command, { timeoutMs: 60_000 });
          return { code: r.code, output: `${r.stdout}${r.stderr}` };
        },
        progress,
      );
    } finally {
      for (const s of sessions) s.close();
    }
  }

  private readSpec(): VagrantSpec | undefined {
    try {
      return JSON.parse(readFileSync(this.paths.spec, 'utf8')) as VagrantSpec;
    } catch {
      return undefined;
    }
  }

  /** vagrant destroy, then what Docker still holds of the lab (a machine being created when
   * interrupted, the network), then the lab's folder. Safe to call twice, and mid-way: calls for
   * one lab run one after another (Ctrl-C's and the failed `up`'s would otherwise race for
   * Vagrant's machine locks). */
  down(progress: (line: string) => void): Promise<void> {
    const dir = this.paths.dir;
    const next = (downs.get(dir) ?? Promise.resolve()).catch(() => undefined).then(() => this.removeAll(progress));
    downs.set(dir, next);
    return next.finally(() => {
      if (downs.get(dir) === next) downs.delete(dir);
    });
  }

  private async removeAll(progress: (line: string) => void): Promise<void> {
    const p = this.paths;
    await stopVagrant(p.dir, progress);
    const spec = this.readSpec();
    let destroyed = true;
    if (spec && existsSync(join(p.dir, 'vagrant'))) {
      const r = await runVagrant(['destroy', '-f'], p, (l) => progress(`  ${l}`)).catch((e: Error) => ({ code: 1, out: e.message }));
      destroyed = r.code === 0;
      if (!destroyed)
        progress(`vagrant destroy failed (exit ${r.code}): ${meaningfulLines(r.out, 2).join(' | ')}; removing the rest directly`);
    }
    if ((spec?.provider ?? this.settings.provider) === 'docker') await removeLabDocker(this.cluster.name, this.networkName, progress);
    rmSync(p.dir, { recursive: true, force: true });
    // Machines removed without vagrant destroy stay in Vagrant's global index (~/.vagrant.d);
    // --prune drops entries whose folder is gone (with a plain environment: not our Vagrantfile).
    if (!destroyed) await pruneIndex();
  }

  async status(): Promise<HostStatus[]> {
    const spec = this.readSpec();
    if (!spec) return [];
    const r = await runVagrant(['status', '--machine-readable'], this.paths);
    if (r.code !== 0) throw new UserFacingError(`vagrant status failed (exit ${r.code}): ${meaningfulLines(r.out, 2).join(' | ')}`);
    const address = new Map(spec.hosts.map((h) => [h.name, h.address]));
    return parseStatus(r.out).map((s) => ({
      name: s.name,
      state: s.state,
      ...(address.has(s.name) ? { address: address.get(s.name)! } : {}),
    }));
  }
}
