// The KTHW-layout lab, end to end: this file boots the kthw lab itself (vitest project lab-kthw,
// no seed lab needed) and removes it afterwards, also when a test fails. It checks what KTHW's
// chapters promise: both nodes Ready (chapter 09), the routes of chapter 11, etcd over plain http
// on 127.0.0.1 only (chapter 07), the /etc/hosts of chapter 03, and that no node ever had one of
// hardway's pod images (the verifier must bring its own).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { labInventory } from '../../cli/commands/lab.ts';
import { runFaults } from '../../faults/run.ts';
import type { ReportDocument } from '../../report/document.ts';
import type { Cluster } from '../../model/cluster.ts';
import { loadCluster } from '../../model/load.ts';
import { labUp } from '../../providers/lab/bring-up.ts';
import { LabProvider, type LabState, readLabState } from '../../providers/lab/lab.ts';
import { SshSession } from '../../ssh/session.ts';

const CONFIG = resolve(import.meta.dirname, '../../../fixtures/lab-kthw/cluster.yaml');
const cluster: Cluster = loadCluster(CONFIG);
const provider = new LabProvider(cluster, CONFIG);
const log = (l: string) => process.stderr.write(`[kthw ${new Date().toISOString().slice(11, 19)}] ${l}\n`);
let state: LabState;

// Ctrl-C or a kill of the test run: remove the lab before going.
const onSignal = () => void provider.down(() => undefined).finally(() => process.exit(130));

beforeAll(async () => {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const times = await labUp({
    cluster,
    configPath: CONFIG,
    binaries: (process.env.HARDWAY_BINARIES as 'build' | 'download') ?? 'build',
    progress: log,
  });
  log(`kthw lab up in ${(times.total! / 1000).toFixed(1)} s`);
  state = readLabState(cluster.name)!;
}, 1_800_000);

afterAll(async () => {
  log('removing the kthw lab');
  await provider.down(log);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}, 300_000);

async function on(host: string, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const h = state.hosts.find((x) => x.name === host)!;
  const s = await SshSession.connect(h.ssh);
  try {
    return await s.exec(command, { timeoutMs: 120_000 });
  } finally {
    s.close();
  }
}
const must = async (host: string, command: string) => {
  const r = await on(host, command);
  if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
};
const server = cluster.masters[0]!;

describe('the KTHW-layout lab', () => {
  it('has node-0 and node-1 Ready: kubectl get nodes on the server with admin.kubeconfig (chapter 09)', async () => {
    const out = await must(
      server.host,
      `cd /root && kubectl get nodes --kubeconfig admin.kubeconfig -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'`,
    );
    expect(out.trim().split(' ').sort()).toEqual(['node-0=True', 'node-1=True']);
  });

  it("routes each node's pod subnet to it, from the server and from the other nodes (chapter 11)", async () => {
    const routes = async (host: string) =>
      (await must(host, 'ip -4 route show'))
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const serverRoutes = await routes(server.host);
    for (const w of cluster.workers) expect(serverRoutes).toContain(`${w.podSubnet} via ${w.address} dev eth0`);
    for (const w of cluster.workers) {
      const mine = await routes(w.host);
      for (const o of cluster.workers.filter((x) => x !== w)) expect(mine).toContain(`${o.podSubnet} via ${o.address} dev eth0`);
      expect(mine.some((l) => l.startsWith(`${w.podSubnet} via`))).toBe(false);
    }
  });

  it('runs etcd over plain http, answering on 127.0.0.1:2379 only (chapter 07)', async () => {
    expect(await must(server.host, 'etcdctl --endpoints=http://127.0.0.1:2379 member list')).toMatch(
      /, started, controller, http:\/\/127\.0\.0\.1:2380, http:\/\/127\.0\.0\.1:2379, false/,
    );
    const listening = (await must(server.host, "ss -Hltnp | grep '\"etcd\"' | awk '{print $4}' | sort")).trim().split('\n');
    expect(listening).toEqual(['127.0.0.1:2379', '127.0.0.1:2380']);
    const fromNode = await on('node-0', `curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://${server.address}:2379/health`);
    expect(fromNode.code).not.toBe(0); // refused: nothing listens on the server's address
    expect(await must(server.host, 'curl -s http://127.0.0.1:2379/health')).toMatch(/"health":"true"/);
  });

  it('has no hardway image on any node: ctr -n k8s.io images ls lists none (the verifier brings its own)', async () => {
    for (const w of cluster.workers) {
      const refs = (await must(w.host, 'ctr -n k8s.io images ls -q')).trim().split('\n').filter(Boolean);
      expect(refs.filter((r) => r.startsWith('hardway.local/'))).toEqual([]);
      expect(await must(w.host, 'ls /var/lib/hardway/images 2>/dev/null | wc -l')).toBe('0\n');
    }
  });

  it('names the machines as chapter 03 does, through /etc/hosts, and gives the kubernetes service 10.32.0.1', async () => {
    expect((await must(server.host, 'hostname --fqdn')).trim()).toBe('server.kubernetes.local');
    const hosts = await must('node-1', 'cat /etc/hosts');
    expect(hosts).toContain(`127.0.1.1\tnode-1.kubernetes.local node-1\n`);
    expect(hosts).toContain(`# Kubernetes The Hard Way\n${server.address} server.kubernetes.local server\n`);
    expect((await must('node-0', 'getent hosts server.kubernetes.local')).trim().split(/\s+/)).toEqual([
      server.address,
      'server.kubernetes.local',
      'server',
    ]);
    // The lab's fix of KTHW's missing --service-cluster-ip-range (docs/lab.md).
    expect(await must(server.host, "kubectl --kubeconfig /root/admin.kubeconfig get svc kubernetes -o jsonpath='{.spec.clusterIP}'")).toBe(
      '10.32.0.1',
    );
  });

  it("resolves names only through the lab's edge, which answers nothing outside the lab", async () => {
    const edge = state.hosts.find((h) => h.role === 'edge')!;
    expect(await must('node-0', 'cat /etc/resolv.conf')).toBe(`nameserver ${edge.address}\n`);
    expect((await on('node-0', 'getent hosts deb.debian.org')).code).not.toBe(0);
  });

  it('prints an inventory without a cluster: key (the facts come from the hosts)', () => {
    const inv = parseYaml(labInventory(state, cluster)) as Record<string, unknown> & { hosts: { name: string; role: string }[] };
    expect(inv).not.toHaveProperty('cluster');
    expect(inv).not.toHaveProperty('accept');
    expect(inv.hosts.map((h) => `${h.name}:${h.role}`)).toEqual(['server:master', 'node-0:worker', 'node-1:worker']);
    expect(inv.knownHosts).toBe(join(state.hosts[0]!.ssh.knownHostsPath));
  });

  // The brief's way in for a cluster hardway did not build: an inventory of hosts and SSH access,
  // no model; every path, port and name comes from what the hosts run.
  const HARDWAY = resolve(import.meta.dirname, '../../../bin/hardway');
  async function verifyThroughInventory(...args: string[]): Promise<{ doc: ReportDocument; code: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'hardway-kthw-inventory-'));
    try {
      const inv = join(dir, 'kthw.yaml');
      writeFileSync(inv, labInventory(state, cluster));
      const r = await promisify(execFile)(HARDWAY, ['verify', '--target', inv, '--reporter', 'json', ...args], {
        maxBuffer: 64 << 20,
      }).then(
        (x) => ({ ...x, code: 0 }),
        (e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }),
      );
      return { doc: JSON.parse(r.stdout) as ReportDocument, code: r.code };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const statusOf = (doc: ReportDocument) =>
    Object.fromEntries(doc.suites.flatMap((s) => s.checks).map((c) => [c.host ? `${c.id}@${c.host}` : c.id, c.skip ?? c.status]));

  it("verifies through an inventory without a model, read-only: nothing fails, KTHW's parts are examined, the rest is not-applicable", async () => {
    const { doc, code } = await verifyThroughInventory();
    const st = statusOf(doc);
    expect(Object.entries(st).filter(([, v]) => v === 'failed' || v === 'inconclusive' || v === 'blocked')).toEqual([]);
    expect(code).toBe(0);
    for (const k of [
      'hosts.discovered',
      'hosts.services-active@server',
      'certs.chain@server',
      'certs.chain@node-0',
      'certs.kubeconfig@node-1',
      'etcd.health@server',
      'apiserver.readyz@server',
      'controller-manager.kubernetes-service',
      'kubelet.ready@node-0',
      'kubelet.ready@node-1',
      'pod-network.cni-config@node-0',
      'pod-network.routes@server',
      'pod-network.routes@node-0',
      'security.anonymous-auth@server',
      'security.masters-credential-on-workers@node-0',
    ])
      expect(st[k], k).toBe('passed');
    // What KTHW does not have is said so, not passed.
    for (const k of ['flannel.daemon', 'coredns.cluster-names', 'ingress.https@node-0', 'etcd.flannel-config'])
      expect(st[k], k).toBe('not-applicable');
    expect(st['pod-network.pod-to-pod@node-0']).toBe('needs-active');
  });

  it('verifies with --active: pods reach pods across nodes on the bridge network, and the run takes its images and namespace away', async () => {
    const { doc, code } = await verifyThroughInventory('--active');
    const st = statusOf(doc);
    expect(Object.entries(st).filter(([, v]) => v !== 'passed' && v !== 'not-applicable')).toEqual([]);
    expect(code).toBe(0);
    for (const k of [
      'pod-network.pod-to-pod@node-0',
      'pod-network.pod-to-pod@node-1',
      'kubelet.pods-run@node-0',
      'kube-proxy.clusterip-spread@node-1',
      'scheduler.job',
    ])
      expect(st[k], k).toBe('passed');
    for (const w of cluster.workers) {
      const refs = (await must(w.host, 'ctr -n k8s.io images ls -q')).trim().split('\n').filter(Boolean);
      expect(
        refs.filter((r) => r.startsWith('hardway.local/')),
        w.host,
      ).toEqual([]);
    }
    expect((await must(server.host, 'kubectl --kubeconfig /root/admin.kubeconfig get ns -l hardway.io/owner -o name')).trim()).toBe('');
  });

  it("catches a KTHW fault: the server's route to a node's pod subnet deleted (smoke; npm run faults:all-layouts runs them all)", async () => {
    const [r] = await runFaults({ lab: cluster.name, only: ['server-route-to-pods-deleted'], progress: log });
    expect(r!.reasons).toEqual([]);
    expect(r!.failed).toEqual(['pod-network.routes@server']);
  });
});
