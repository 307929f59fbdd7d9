// The lab and its installer, end to end on the real lab booted by the lab project's globalSetup.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadCluster, parseCluster } from '../../model/load.ts';
import { SshSession } from '../../ssh/session.ts';
import { DEFAULT_OPTIONS } from '../../verify/check.ts';
import { verify } from '../../verify/verify.ts';
import { Remote } from '../../installer/remote.ts';
import { parseRcStatus } from '../../hostio/openrc-status.ts';
import { docker } from './docker.ts';
import { LabProvider, readLabState } from './lab.ts';
import { LAB_LABEL, LabNodeContainer } from './node-container.ts';
import { nodeImageName } from './node-image.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const cluster = loadCluster(inject('labConfig'));
const state = readLabState(cluster.name)!;
const tmp = mkdtempSync(join(tmpdir(), 'hardway-labtest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function onMaster<T>(fn: (s: SshSession) => Promise<T>): Promise<T> {
  const s = await SshSession.connect(state.hosts.find((h) => h.name === 'master')!.ssh);
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

function hardway(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(join(ROOT, 'bin/hardway'), args, { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => res({ code: code ?? -1, out, err }));
  });
}

describe('the installed cluster', () => {
  it('has both workers Ready under their node names and the kubernetes service at 10.32.0.1', async () => {
    const out = await onMaster(
      async (s) =>
        (
          await s.exec(
            `kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'; echo; kubectl get svc kubernetes -n default -o jsonpath='{.spec.clusterIP}'`,
          )
        ).stdout,
    );
    const [nodes, svc] = out.trim().split('\n');
    expect(nodes!.trim().split(' ').sort()).toEqual(cluster.workers.map((w) => `${w.nodeName}=True`).sort());
    expect(svc).toBe('10.32.0.1');
  });

  it("runs a pod on each worker, on that worker's flannel subnet", async () => {
    const ns = 'hardway-labtest-pods';
    const out = await onMaster(async (s) => {
      const r = new Remote('master', s);
      await r.run(`kubectl create namespace ${ns} && kubectl label namespace ${ns} hardway.io/test=true`);
      try {
        for (const w of cluster.workers) {
          await r.run(
            `kubectl -n ${ns} run p-${w.host} --image=hardway.local/toolbox:1.0 --image-pull-policy=Never --restart=Never --overrides='{"spec":{"nodeName":"${w.nodeName}"}}' -- sleep 600`,
          );
        }
        await r.run(`kubectl -n ${ns} wait --for=condition=Ready pod --all --timeout=90s`, { timeoutMs: 100_000 });
        return await r.run(`kubectl -n ${ns} get pods -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.podIP}{"\\n"}{end}'`);
      } finally {
        await s.exec(`kubectl delete namespace ${ns} --wait=false`);
      }
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(lines.map(([n]) => n).sort()).toEqual(cluster.workers.map((w) => w.nodeName).sort());
    for (const [, ip] of lines) expect(ip).toMatch(/^10\.200\.\d+\.\d+$/);
    expect(new Set(lines.map(([, ip]) => ip!.split('.').slice(0, 3).join('.'))).size).toBe(2);
  });

  it("boots each worker with its model's init system: systemd as PID 1, or sysvinit running OpenRC with the components started", async () => {
    for (const w of cluster.workers) {
      const s = await SshSession.connect(state.hosts.find((h) => h.name === w.host)!.ssh);
      try {
        const pid1 = (await s.exec('cat /proc/1/comm')).stdout.trim();
        if (w.init === 'openrc') {
          expect(pid1, w.host).toBe('init'); // sysvinit's /sbin/init
          expect((await s.exec('test -d /run/systemd/system && echo systemd || echo none')).stdout.trim(), w.host).toBe('none');
          const rc = await s.exec('rc-status default');
          expect(rc.code, w.host).toBe(0);
          const parsed = parseRcStatus(rc.stdout);
          expect(parsed.problems, w.host).toEqual([]);
          const started = parsed.value.filter((e) => e.state === 'started').map((e) => e.service);
          expect(started, w.host).toEqual(expect.arrayContaining(['ssh', 'containerd', 'flanneld', 'kubelet', 'kube-proxy', 'coredns']));
        } else {
          expect(pid1, w.host).toBe('systemd');
          expect((await s.exec('systemctl is-active kubelet containerd')).stdout.trim().split('\n'), w.host).toEqual(['active', 'active']);
        }
      } finally {
        s.close();
      }
    }
    // The lab's model is the seed's topology: one worker of each kind.
    expect(cluster.workers.map((w) => w.init).sort()).toEqual(['openrc', 'systemd']);
  });

  it('passes the certs suite read over SSH from the live hosts', async () => {
    const { doc } = await verify({ target: 'lab', suites: ['certs'], options: DEFAULT_OPTIONS, reporter: 'quiet' });
    const checks = doc.suites.flatMap((s) => s.checks);
    expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(checks.length).toBe(26);
  });
});

describe('SSH to lab hosts', () => {
  const master = state.hosts.find((h) => h.name === 'master')!;

  it('checks host keys strictly: an unknown key is refused with its fingerprint', async () => {
    const kh = join(tmp, 'empty_known_hosts');
    writeFileSync(kh, '');
    await expect(SshSession.connect({ ...master.ssh, knownHostsPath: kh })).rejects.toThrow(
      /master \(root@10\.240\.0\.10:22\): unknown host key SHA256:\S+; fix: .*ssh-keyscan/,
    );
  });

  it('refuses a changed host key and says how to recover', async () => {
    const kh = join(tmp, 'wrong_known_hosts');
    const other = state.hosts.find((h) => h.name === 'node-1')!;
    // node-1's real key recorded under master's address: exactly what a reinstalled master looks like.
    const { readFileSync } = await import('node:fs');
    const line = readFileSync(other.ssh.knownHostsPath, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${other.address} `))!;
    writeFileSync(kh, `${line.replace(other.address, master.address)}\n`);
    await expect(SshSession.connect({ ...master.ssh, knownHostsPath: kh })).rejects.toThrow(
      /HOST KEY CHANGED: presented SHA256:\S+, .* has ssh-ed25519 SHA256:\S+ \(line \d+\); fix: .*ssh-keygen -f .* -R/,
    );
  });

  it('names the fix for a wrong user and a missing key file', async () => {
    await expect(SshSession.connect({ ...master.ssh, user: 'nobody-here' })).rejects.toThrow(
      /authentication refused for user "nobody-here"/,
    );
    await expect(SshSession.connect({ ...master.ssh, privateKeyPath: join(tmp, 'no-such-key') })).rejects.toThrow(
      /private key file .*no-such-key not found; fix:/,
    );
  });

  it('hardway lab ssh runs a command and exits with its exit code', async () => {
    const ok = await hardway(['lab', 'ssh', 'master', '--', 'kubectl get nodes -o name']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('node/node-1');
    const bad = await hardway(['lab', 'ssh', 'node-2', '--', 'echo to-stderr >&2; exit 7']);
    expect(bad.code).toBe(7);
    expect(bad.err).toContain('to-stderr');
  });

  it("hardway lab logs shows a unit's journal", async () => {
    const r = await hardway(['lab', 'logs', 'node-1', 'kubelet', '--lines', '50']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kubelet/i);
  });
});

describe('diagnoses and bad input', () => {
  it('a component that never becomes healthy is reported with its unit state and journal', async () => {
    const s = await SshSession.connect(state.hosts.find((h) => h.name === 'node-1')!.ssh);
    try {
      const err = await new Remote('node-1', s).waitFor('kube-proxy', 'a check that never passes', 'false', 3000).catch((e: Error) => e);
      expect(String(err)).toMatch(/node-1: kube-proxy did not become healthy within 3 s/);
      expect(String(err)).toMatch(/ActiveState=active/);
      expect(String(err)).toMatch(/fix: read the whole journal \(hardway lab logs node-1 kube-proxy/);
    } finally {
      s.close();
    }
  });

  it('an address range already taken is one line naming the network and the fix', async () => {
    const clash = parseCluster(
      `name: clash
masters: [{ host: m, address: 10.240.0.50 }]
workers: [{ host: w, address: 10.240.0.51 }]
`,
      'clash.yaml',
    );
    const err = await new LabProvider(clash, 'clash.yaml').up(() => undefined).catch((e: Error) => e);
    expect(String(err)).toMatch(/address range 10\.240\.0\.0\/24 is already taken by Docker network "hardway-lab"; fix: /);
    const d = (await docker()).container.dockerode;
    expect(await d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=clash`] } })).toEqual([]);
  });

  it('a missing or stopped Docker engine is one line with the fix', async () => {
    const r = await hardway(['lab', 'status'], { DOCKER_HOST: `unix://${join(tmp, 'no-docker.sock')}` });
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/Docker engine is not reachable .*fix: install it \(apt-get install docker\.io\) and start it/);
  });

  it('a second lab up removes what a crashed run left behind', async () => {
    const d = (await docker()).container.dockerode;
    const crashed = parseCluster(
      'name: crashed\nmasters: [{ host: master, address: 10.243.0.10 }]\nworkers: [{ host: node-1, address: 10.243.0.21 }]\n',
      'crashed.yaml',
    );
    const provider = new LabProvider(crashed, 'crashed.yaml');
    try {
      // A leftover of lab "crashed": a node container that a killed run never removed.
      await new LabNodeContainer(nodeImageName(), {
        lab: 'crashed',
        host: 'master',
        network: 'bridge',
        address: '',
        authorizedKey: 'ssh-ed25519 AAAA',
      }).start();
      expect(await d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=crashed`] } })).toHaveLength(1);
      await provider.down(() => undefined); // what up() does first
      expect(await d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=crashed`] } })).toEqual([]);
    } finally {
      await provider.down(() => undefined);
    }
  });

  it('Ctrl-C during lab up removes everything that run created', async () => {
    const cfg = join(tmp, 'interrupted.yaml');
    writeFileSync(
      cfg,
      // 10.244.0.0/24: no other lab's range (the Vagrant lab takes 10.242, the crashed one 10.243).
      'name: interrupted\nmasters: [{ host: master, address: 10.244.0.10 }]\nworkers: [{ host: node-1, address: 10.244.0.21 }]\n',
    );
    const p = spawn(join(ROOT, 'bin/hardway'), ['lab', 'up', '--config', cfg]);
    let err = '';
    const started = new Promise<void>((res) =>
      p.stderr.on('data', (d) => {
        err += d;
        if (/starting \d+ node containers/.test(err)) res();
      }),
    );
    await started;
    await new Promise((r) => setTimeout(r, 1500));
    p.kill('SIGINT');
    const code = await new Promise<number>((res) => p.on('close', (c) => res(c ?? -1)));
    expect(code).toBe(130);
    expect(err).toMatch(/SIGINT: removing the lab/);
    const d = (await docker()).container.dockerode;
    expect(await d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=interrupted`] } })).toEqual([]);
    expect((await d.listNetworks({ filters: { name: ['hardway-interrupted'] } })).filter((n) => n.Name === 'hardway-interrupted')).toEqual(
      [],
    );
    expect(readLabState('interrupted')).toBeUndefined();
  });
});
