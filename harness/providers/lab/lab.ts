// The lab provider: the seed's topology as containers (systemd or OpenRC as the model says) on a
// Docker network of their own,
// plus an "edge" host that plays the outside world (DNS for the app's names, the ACME CA).
// Everything carries the label hardway.lab=<name>, so a later run removes leftovers of a crashed one.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2'; // CommonJS: named imports are not available
import type { StartedTestContainer } from 'testcontainers';
import { CACHE_DIR } from '../../cache.ts';
import { UserFacingError } from '../../cli/errors.ts';
import { type Cluster, allHosts } from '../../model/cluster.ts';
import { parseCidr, nthAddress } from '../../model/net.ts';
import { type HostStatus, type ProvisionedHost, type Provider, learnedHost } from '../provider.ts';
import {
  createLabNetwork,
  ensureInotifyInstances,
  labMembers,
  labNetworkName,
  removeLabDocker,
  shapeHosts,
  createOrRemove,
} from '../common.ts';
import { docker } from './docker.ts';
import { LAB_LABEL, HOST_LABEL, LabNodeContainer } from './node-container.ts';
import { ensureNodeImages } from './node-image.ts';

export interface LabState {
  name: string;
  config: string;
  network: string;
  subnet: string;
  image: string;
  hosts: ProvisionedHost[];
  createdAt: string;
}

export function labDir(name: string): string {
  return join(CACHE_DIR, 'labs', name);
}

export function readLabState(name: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(labDir(name), 'state.json'), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** The lab network: the /24 of the first master's address; .1 is Docker's gateway, .2 the edge. */
export function labNetwork(c: Cluster): { subnet: string; gateway: string; edge: string } {
  const m = c.masters[0]!.address;
  const subnet = m.replace(/\.\d+$/, '.0/24');
  const cidr = parseCidr(subnet);
  if (cidr?.family !== 4) throw new UserFacingError(`the lab needs IPv4 host addresses; ${m} is not one`);
  const outside = allHosts(c).filter((h) => !h.address.startsWith(m.replace(/\.\d+$/, '.')));
  if (outside.length)
    throw new UserFacingError(
      `lab hosts must share the master's /24 (${subnet}); ${outside.map((h) => `${h.host} ${h.address}`).join(', ')} lie outside`,
    );
  const taken = allHosts(c).find((h) => /\.(0|1|2|255)$/.test(h.address));
  if (taken)
    throw new UserFacingError(
      `${taken.host}: ${taken.address} is reserved in the lab (.1 is the gateway, .2 the edge host); pick another address`,
    );
  return { subnet, gateway: nthAddress(cidr, 1), edge: nthAddress(cidr, 2) };
}

export class LabProvider implements Provider {
  readonly name = 'lab';
  private readonly cluster: Cluster;
  private readonly config: string;
  private readonly lab: string;
  private started: StartedTestContainer[] = [];
  /** The model as YAML when it is not the file at `config` (lab up --workers): kept in the lab's folder. */
  private readonly modelYaml: string | undefined;

  constructor(cluster: Cluster, configPath: string, opts: { modelYaml?: string } = {}) {
    this.cluster = cluster;
    this.config = configPath;
    this.lab = cluster.name;
    this.modelYaml = opts.modelYaml;
  }

  private get networkName(): string {
    return labNetworkName(this.lab);
  }

  /** Removes containers (with their volumes) and the network of this lab, whoever created them. */
  async down(progress: (line: string) => void): Promise<void> {
    await removeLabDocker(this.lab, this.networkName, progress);
    rmSync(labDir(this.lab), { recursive: true, force: true });
    this.started = [];
  }

  async status(): Promise<HostStatus[]> {
    const d = (await docker()).container.dockerode;
    const containers = await d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${this.lab}`] } });
    return containers.map((c) => ({
      name: c.Labels[HOST_LABEL] ?? c.Names[0] ?? c.Id,
      state: c.State === 'running' ? c.Status : c.State,
      ...(c.NetworkSettings?.Networks?.[this.networkName]?.IPAddress
        ? { address: c.NetworkSettings.Networks[this.networkName]!.IPAddress }
        : {}),
    }));
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
    await this.down(() => undefined); // a crashed earlier run leaves containers behind: start clean
    ensureInotifyInstances(allHosts(this.cluster).length + 1, progress);
    // Hosts with init: openrc boot the OpenRC variant (the seed's node-2); the edge stays systemd.
    const { systemd: image, openrc: openrcImage } = await ensureNodeImages(
      progress,
      allHosts(this.cluster).some((h) => h.init === 'openrc'),
    );
    const dir = labDir(this.lab);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment: `hardway-lab-${this.lab}` });
    const keyPath = join(dir, 'id_ed25519');
    writeFileSync(keyPath, keys.private, { mode: 0o600 });
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, '', { mode: 0o600 });
    // The lab's own model (lab up --workers): what verify, inventory and faults read from the state.
    const config = this.modelYaml === undefined ? this.config : join(dir, 'cluster.yaml');
    if (this.modelYaml !== undefined) writeFileSync(config, this.modelYaml);

    progress(`network ${this.networkName} ${subnet}`);
    await createLabNetwork(this.lab, this.networkName, subnet, gateway);
    const members = labMembers(this.cluster, edge);
    const t0 = Date.now();
    progress(`starting ${members.length} node containers (${members.map((m) => m.name).join(', ')})`);
    this.started = await Promise.all(
      members.map(async (m) => {
        try {
          const c = await new LabNodeContainer(m.init === 'openrc' ? openrcImage! : image, {
            lab: this.lab,
            host: m.name,
            network: this.networkName,
            address: m.address,
            authorizedKey: keys.public,
            init: m.init,
          }).start();
          progress(`  ${m.name} ${m.address}: ${m.init} and sshd up`);
          return c;
        } catch (e) {
          const msg = (e as Error).message.split('\n')[0]!;
          if (/Address already in use|address .* in use/i.test(msg)) {
            throw new UserFacingError(
              `${m.name}: address ${m.address} is already in use on ${this.networkName}; fix: hardway lab down, or pick another address`,
            );
          }
          throw new UserFacingError(
            `${m.name}: the node container did not become ready (${msg}); fix: see its log with docker logs hardway-${this.lab}-${m.name}, then hardway lab down`,
          );
        }
      }),
    );
    progress(`node containers ready in ${Math.round((Date.now() - t0) / 1000)} s`);
    await shapeHosts(
      this.cluster,
      members,
      edge,
      async (_m, i, command) => {
        const r = await this.started[i]!.exec(['sh', '-c', command]);
        return { code: r.exitCode, output: r.output };
      },
      progress,
    );

    // Host keys learned out of band (docker exec), so that SSH checks them strictly from the start.
    const hosts: ProvisionedHost[] = [];
    for (const [i, m] of members.entries()) {
      const r = await this.started[i]!.exec(['cat', '/etc/ssh/ssh_host_ed25519_key.pub']);
      const [type, blob] = r.output.trim().split(/\s+/);
      if (r.exitCode !== 0 || !type || !blob)
        throw new UserFacingError(`${m.name}: no SSH host key after boot; fix: docker logs hardway-${this.lab}-${m.name}`);
      const ssh = learnedHost(m, { type, blob }, { knownHosts, privateKey: keyPath });
      hosts.push({ name: m.name, role: m.role, address: m.address, ssh });
    }
    const state: LabState = {
      name: this.lab,
      config,
      network: this.networkName,
      subnet,
      image,
      hosts,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    return hosts;
  }
}
