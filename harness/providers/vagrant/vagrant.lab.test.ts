// The Vagrant provider, end to end (vitest project lab-vagrant, after the other labs): the real CLI
// boots lab "vagrant" (fixtures/lab-vagrant/cluster.yaml, 10.242.0.0/24) with real `vagrant up`
// through Vagrant's docker provider, verify is green on it, and `lab down` leaves nothing behind.
// It boots and removes its own lab (also when a test fails), and never touches the other labs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../model/load.ts';
import type { ReportDocument } from '../../report/document.ts';
import { docker } from '../lab/docker.ts';
import { labDir, labNetwork, readLabState } from '../lab/lab.ts';
import { LAB_LABEL } from '../lab/node-container.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const CONFIG = 'fixtures/lab-vagrant/cluster.yaml';
const cluster = loadCluster(join(ROOT, CONFIG));
const { edge } = labNetwork(cluster);
const MACHINES = [...cluster.masters, ...cluster.workers].map((h) => ({ name: h.host, address: h.address, init: h.init }));
MACHINES.push({ name: 'edge', address: edge, init: 'systemd' });
const NETWORK = `hardway-${cluster.name}`;
const log = (l: string) => process.stderr.write(`[vagrant ${new Date().toISOString().slice(11, 19)}] ${l}\n`);

function hardway(args: string[], opts: { echo?: boolean } = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(join(ROOT, 'bin/hardway'), args, { cwd: ROOT, env: process.env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => {
      err += d;
      if (opts.echo) process.stderr.write(d);
    });
    p.on('close', (code) => res({ code: code ?? -1, out, err }));
  });
}

async function ours() {
  const d = (await docker()).container.dockerode;
  return d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${cluster.name}`] } });
}
async function ourNetworks() {
  const d = (await docker()).container.dockerode;
  return (await d.listNetworks({ filters: { name: [NETWORK] } })).filter((n) => n.Name === NETWORK);
}

const down = () => hardway(['lab', 'down', '--provider', 'vagrant', '--config', CONFIG], { echo: true });
const onSignal = () => void down().finally(() => process.exit(130));
let volumes: string[] = [];
/** Set once the guard passed: afterAll (which vitest runs after a failed beforeAll too) must not
 * remove a lab this test did not make. */
let booted = false;

beforeAll(async () => {
  if (readLabState(cluster.name))
    throw new Error(
      `a lab named "${cluster.name}" is already running; this test would replace it and remove it. fix: hardway lab down --config ${CONFIG}`,
    );
  booted = true;
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  const up = await hardway(['lab', 'up', '--provider', 'vagrant', '--config', CONFIG], { echo: true });
  log(`hardway lab up --provider vagrant: exit ${up.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (up.code !== 0)
    throw new Error(`hardway lab up --provider vagrant failed (exit ${up.code}): ${up.err.trim().split('\n').slice(-3).join(' | ')}`);
}, 1_800_000);

afterAll(async () => {
  if (!booted) return;
  log('removing the vagrant lab');
  await down();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}, 300_000);

describe('hardway lab up --provider vagrant (docker provider)', () => {
  it("made every host through Vagrant: containers named and recorded by Vagrant, at the model's addresses on hardway's network", async () => {
    const state = readLabState(cluster.name)!;
    expect(state.network).toBe('vagrant:docker');
    const containers = await ours();
    expect(containers.map((c) => c.Labels['hardway.host']).sort()).toEqual(MACHINES.map((m) => m.name).sort());
    for (const m of MACHINES) {
      const c = containers.find((x) => x.Labels['hardway.host'] === m.name)!;
      // Vagrant's docker provider names a container <root folder>_<machine>_<time> and keeps its id
      // in the machine's folder under VAGRANT_DOTFILE_PATH.
      expect(c.Names[0]).toMatch(new RegExp(`^/vagrant_${m.name}_\\d+$`));
      expect(readFileSync(join(labDir(cluster.name), 'vagrant', 'machines', m.name, 'docker', 'id'), 'utf8').trim()).toBe(c.Id);
      expect(c.Labels['hardway.provider']).toBe('vagrant');
      expect(c.State).toBe('running');
      expect(Object.keys(c.NetworkSettings?.Networks ?? {})).toEqual([NETWORK]);
      expect(c.NetworkSettings?.Networks?.[NETWORK]?.IPAddress).toBe(m.address);
    }
    volumes = containers.flatMap((c) => (c.Mounts ?? []).filter((x) => x.Type === 'volume').map((x) => x.Name!));
    expect(volumes.length).toBe(MACHINES.length); // /var/lib/containerd, one per machine
  });

  it("serves the SSH host key hardway made for each machine (known_hosts is hardway's own)", async () => {
    const knownHosts = readFileSync(join(labDir(cluster.name), 'known_hosts'), 'utf8');
    for (const c of await ours()) {
      const name = c.Labels['hardway.host']!;
      const made = readFileSync(join(labDir(cluster.name), 'hostkeys', name, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ');
      const served = execFileSync('docker', ['exec', c.Id, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'], { encoding: 'utf8' });
      expect(served.split(' ').slice(0, 2)).toEqual(made.slice(0, 2));
      const address = MACHINES.find((m) => m.name === name)!.address;
      expect(knownHosts).toContain(`${address} ${made[0]} ${made[1]}`);
    }
  });

  it('boots node-2 on OpenRC when the model says so, and lab ssh reaches it', async () => {
    const node2 = MACHINES.find((m) => m.name === 'node-2')!;
    const r = await hardway(['lab', 'ssh', '--config', CONFIG, 'node-2', '--', 'cat /proc/1/comm; hostname']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split('\n')).toEqual([node2.init === 'openrc' ? 'init' : 'systemd', 'node-2']);
  });

  it('lab status lists the machines as Vagrant sees them', async () => {
    const r = await hardway(['lab', 'status', '--config', CONFIG]);
    expect(r.code, r.err).toBe(0);
    for (const m of MACHINES) expect(r.out).toMatch(new RegExp(`^${m.name}\\s+${m.address.replace(/\./g, '\\.')}\\s+running$`, 'm'));
  });

  it('verify --target lab:vagrant is green: exit 0, no failed check', async () => {
    const t0 = Date.now();
    const r = await hardway(['verify', '--target', `lab:${cluster.name}`, '--reporter', 'json']);
    const doc = JSON.parse(r.out) as ReportDocument;
    log(`verify --target lab:${cluster.name}: exit ${r.code} in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${JSON.stringify(doc.counts)}`);
    expect(doc.suites.flatMap((s) => s.checks.filter((c) => c.status === 'failed').map((c) => `${s.name}/${c.id}`))).toEqual([]);
    expect(doc.counts?.failed).toBe(0);
    expect(doc.counts?.passed).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  });

  it('lab down leaves no container, volume, network or lab folder', async () => {
    const r = await down();
    expect(r.code, r.err).toBe(0);
    expect(await ours()).toEqual([]);
    expect(await ourNetworks()).toEqual([]);
    expect(existsSync(labDir(cluster.name))).toBe(false);
    const d = (await docker()).container.dockerode;
    const left = ((await d.listVolumes()).Volumes ?? []).map((v) => v.Name).filter((n) => volumes.includes(n));
    expect(left).toEqual([]);
    const status = await hardway(['lab', 'status', '--provider', 'vagrant', '--config', CONFIG]);
    expect(status.code, status.err).toBe(0);
    expect(status.out).toBe('no lab containers\n');
  });
});
