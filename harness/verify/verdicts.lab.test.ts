// What verdicts mean, on the real lab: green means every check looked at something and found it
// right (--strict included); a failed prerequisite blocks the suites after it, naming it; a probe
// that cannot tell is inconclusive, which --strict refuses and a plain run does not.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { readLabState } from '../providers/lab/lab.ts';
import { SshSession } from '../ssh/session.ts';
import type { ReportDocument } from '../report/document.ts';

const cluster = loadCluster(inject('labConfig'));
const target = cluster.name === 'lab' ? 'lab' : `lab:${cluster.name}`;
const master = cluster.masters[0]!.host;
const worker = cluster.workers[0]!.host;

function verify(...args: string[]): { code: number; doc: ReportDocument } {
  const r = spawnSync('bin/hardway', ['verify', '--target', target, '--reporter', 'json', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, doc: JSON.parse(r.stdout) as ReportDocument };
}

async function on(host: string, cmd: string, timeoutMs = 120_000): Promise<void> {
  const h = readLabState(cluster.name)!.hosts.find((x) => x.name === host)!;
  const s = await SshSession.connect(h.ssh);
  try {
    const r = await s.exec(cmd, { timeoutMs });
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: ${r.stderr}`);
  } finally {
    s.close();
  }
}

/** On the master, after etcd is back: the control plane's leaders back, the pods in CrashLoopBackOff
 * deleted, then every pod Ready (or done). */
const HEALED = [
  // The controller manager and the scheduler exit when they lose their leader lease (etcd was
  // gone): started again if systemd gave up, then awaited until both renew their leases.
  'systemctl reset-failed kube-controller-manager kube-scheduler 2>/dev/null; systemctl start kube-controller-manager kube-scheduler',
  `for i in $(seq 240); do ok=1; for l in kube-controller-manager kube-scheduler; do t=$(kubectl -n kube-system get lease $l -o jsonpath='{.spec.renewTime}' 2>/dev/null); [ -n "$t" ] && [ $(( $(date +%s) - $(date -d "$t" +%s) )) -lt 10 ] || ok=0; done; [ $ok = 1 ] && break; sleep 1; done; [ $ok = 1 ]`,
  `kubectl get pods -A --no-headers | awk '$4=="CrashLoopBackOff"{print $1" "$2}' | while read -r ns p; do kubectl -n "$ns" delete pod "$p" --wait=false; done`,
  `for i in $(seq 240); do [ -z "$(kubectl get pods -A --no-headers | awk '{split($3,r,"/"); if (r[1]!=r[2] && $4!="Completed") print}')" ] && exit 0; sleep 1; done; exit 1`,
].join(' && ');

const checks = (d: ReportDocument) => d.suites.flatMap((s) => s.checks);

describe('verdicts on the lab', () => {
  afterAll(async () => {
    await on(master, 'systemctl start etcd').catch(() => undefined);
    await on(worker, 'iptables -w 5 -D INPUT -p tcp --dport 10250 -j DROP -m comment --comment hardway-test 2>/dev/null; true').catch(
      () => undefined,
    );
  });

  it('the healthy lab is green with --strict: every passed check examined something, every skip has a kind', () => {
    const { code, doc } = verify('--strict');
    expect(code).toBe(0);
    const all = checks(doc);
    expect(all.length).toBeGreaterThanOrEqual(100);
    expect(all.filter((c) => c.status === 'passed' && !(c.examined >= 1))).toEqual([]);
    expect(all.filter((c) => c.status === 'skipped' && !c.skip)).toEqual([]);
    expect(all.filter((c) => c.status === 'failed')).toEqual([]);
    expect(doc.counts?.skip.inconclusive).toBe(0);
    expect(doc.counts?.skip.blocked).toBe(0);
  });

  it('with etcd stopped, the suites after it are blocked naming etcd; the run exits 1 with and without --strict', async () => {
    await on(master, 'systemctl stop etcd');
    try {
      const plain = verify('--suite', 'etcd,apiserver,kubelet,scheduler');
      expect(plain.code).toBe(1);
      const blocked = checks(plain.doc).filter((c) => c.skip === 'blocked');
      expect(blocked.length).toBeGreaterThan(0);
      for (const c of blocked) expect(c.diagnosis).toMatch(/prerequisite suite etcd|blocked by etcd/);
      expect(checks(plain.doc).find((c) => c.id === 'etcd.health')?.status).toBe('failed');
      expect(verify('--suite', 'etcd,apiserver', '--strict').code).toBe(1);
    } finally {
      // Until etcd is back, /readyz may hang: each probe is bounded (--max-time), the wait generous (a loaded CI).
      await on(
        master,
        'systemctl start etcd && for i in $(seq 240); do curl -sf --max-time 5 --cacert /var/lib/kubernetes/ca.pem https://127.0.0.1:6443/readyz >/dev/null && exit 0; sleep 1; done; exit 1',
        260_000,
      );
      // Controllers that lost their leader lease exit (the gateway's), and the kubelet backs off
      // their restarts for minutes: restarted now, then every pod is Ready again, as the later
      // tests expect (the fault runner does the same after its repairs).
      await on(master, HEALED, 260_000);
    }
  });

  it('a probe that cannot get an answer is inconclusive: --strict exits 1, a plain run exits 0', async () => {
    // kubelet's port swallows every packet: security.kubelet-auth cannot tell whether it asks for
    // credentials (neither from this machine nor from the master).
    await on(worker, 'iptables -w 5 -I INPUT -p tcp --dport 10250 -j DROP -m comment --comment hardway-test');
    try {
      const plain = verify('--suite', 'security');
      const c = checks(plain.doc).find((x) => x.id === 'security.kubelet-auth' && x.host === worker);
      expect(c?.skip).toBe('inconclusive');
      expect(plain.code).toBe(0);
      expect(verify('--suite', 'security', '--strict').code).toBe(1);
    } finally {
      await on(worker, 'iptables -w 5 -D INPUT -p tcp --dport 10250 -j DROP -m comment --comment hardway-test');
    }
  });
});
