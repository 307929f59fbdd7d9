// The security suite against the lab addressed through an inventory (as if it were prod): it
// passes as installed, and each check fails when its weakness is put into the lab. Every change
// is undone in a finally block and the cluster is back to healthy before the next test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { CA_KEY, K8S_DIR } from '../../harness/pki/plan.ts';
import type { ReportDocument } from '../../harness/report/document.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { verify } from '../../harness/verify/verify.ts';
import { clusterHealthy, inventoryDoc, must, onHost, openLab, waitUntil, writeInventory } from '../../harness/testing/lab-inventory.ts';
import { tlsProbe } from './security.ts';

const lab = openLab(inject('labConfig'));
const tmp = mkdtempSync(join(tmpdir(), 'hardway-security-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const master = lab.cluster.masters[0]!;
const [w1, w2] = lab.cluster.workers as [(typeof lab.cluster.workers)[0], (typeof lab.cluster.workers)[0]];
const inventory = writeInventory(join(tmp, 'lab.yaml'), inventoryDoc(lab));

async function security(
  target = inventory,
  expiryWarningDays = DEFAULT_OPTIONS.expiryWarningDays,
): Promise<{ failed: string[]; doc: ReportDocument }> {
  const { doc } = await verify({
    target,
    suites: ['security'],
    options: { ...DEFAULT_OPTIONS, active: false, expiryWarningDays },
    reporter: 'quiet',
  });
  const checks = doc.suites.flatMap((s) => s.checks);
  // Every check of the suite, on each host it applies to, by name (a missing one is named).
  const workers = lab.cluster.workers.map((w) => w.host);
  const all = [master.host, ...workers];
  expect(checks.map((c) => `${c.id}@${c.host}`).sort()).toEqual(
    [
      `security.static-token@${master.host}`,
      `security.anonymous-auth@${master.host}`,
      `security.etcd-client-cert@${master.host}`,
      ...workers.map((w) => `security.kubelet-auth@${w}`),
      ...all.map((h) => `security.cert-expiry@${h}`),
      ...workers.map((w) => `security.ca-key-on-workers@${w}`),
      ...workers.map((w) => `security.masters-credential-on-workers@${w}`),
    ].sort(),
  );
  return {
    failed: checks
      .filter((c) => c.status === 'failed')
      .map((c) => `${c.id}@${c.host}`)
      .sort(),
    doc,
  };
}

function diagnosis(doc: ReportDocument, key: string): string {
  return doc.suites.flatMap((s) => s.checks).find((c) => `${c.id}@${c.host}` === key)?.diagnosis ?? '';
}

/** The codes of the check's failing findings (warnings left out). */
function codes(doc: ReportDocument, key: string): string[] {
  const c = doc.suites.flatMap((s) => s.checks).find((x) => `${x.id}@${x.host}` === key);
  return [...new Set((c?.findings ?? []).filter((f) => f.severity === 'error').map((f) => f.code))].sort();
}

describe('the security suite on the lab (through an inventory)', () => {
  it("passes as installed, the lab's deliberate token accepted by the inventory", async () => {
    const { failed, doc } = await security();
    expect(failed).toEqual([]);
    const checks = doc.suites.flatMap((s) => s.checks);
    expect(checks.filter((c) => c.status === 'skipped')).toEqual([]);
    expect(checks.filter((c) => c.examined < 1).map((c) => `${c.id}@${c.host}`)).toEqual([]);
  });

  it('the static debugging token fails when the inventory does not accept it', async () => {
    const { accept: _accept, ...doc } = inventoryDoc(lab);
    void _accept;
    const { failed, doc: report } = await security(writeInventory(join(tmp, 'no-accept.yaml'), doc));
    expect(failed).toEqual([`security.static-token@${master.host}`]);
    expect(codes(report, `security.static-token@${master.host}`)).toEqual(['static-token']);
    expect(diagnosis(report, `security.static-token@${master.host}`)).toMatch(
      /token\.csv: kube-apiserver accepts static tokens from it \(1 token, 1 in system:masters\).*; fix: remove --token-auth-file/,
    );
  });

  it('anonymous access: a binding that lets system:anonymous list namespaces fails it', async () => {
    try {
      await must(
        lab,
        'master',
        `kubectl create clusterrole hardway-test-anonymous --verb=list --resource=namespaces && kubectl create clusterrolebinding hardway-test-anonymous --clusterrole=hardway-test-anonymous --user=system:anonymous`,
      );
      await waitUntil(
        'anonymous GET /api/v1/namespaces to answer 200',
        30_000,
        async () => (await tlsProbe('test', master.address, lab.cluster.apiserver.port, '/api/v1/namespaces')).status === 200,
      );
      const { failed, doc } = await security();
      expect(failed).toEqual([`security.anonymous-auth@${master.host}`]);
      expect(codes(doc, `security.anonymous-auth@${master.host}`)).toEqual(['anonymous-read']);
      expect(diagnosis(doc, `security.anonymous-auth@${master.host}`)).toMatch(
        /without credentials answered HTTP 200 \(from this machine\): anonymous users can list namespaces; fix: /,
      );
    } finally {
      await must(
        lab,
        'master',
        'kubectl delete clusterrolebinding hardway-test-anonymous --ignore-not-found && kubectl delete clusterrole hardway-test-anonymous --ignore-not-found',
      );
    }
    await waitUntil(
      'anonymous access to be refused again',
      30_000,
      async () => (await tlsProbe('test', master.address, lab.cluster.apiserver.port, '/api/v1/namespaces')).status === 403,
    );
  });

  it('etcd without client certificate authentication fails it', async () => {
    const dropIn = '/etc/systemd/system/etcd.service.d/hardway-security-test.conf';
    try {
      // A drop-in with etcd's command line minus --client-cert-auth and --trusted-ca-file (which
      // alone already makes etcd ask for client certificates).
      await must(
        lab,
        'master',
        `mkdir -p ${dropIn.replace(/\/[^/]+$/, '')} && { printf '[Service]\\nExecStart=\\n'; sed -n '/^ExecStart=/,/[^\\\\]$/p' /etc/systemd/system/etcd.service | grep -v -e '--client-cert-auth \\\\$' -e '--trusted-ca-file='; } > ${dropIn} && systemctl daemon-reload && systemctl restart etcd`,
      );
      await waitUntil(
        'etcd to answer without a client certificate',
        60_000,
        async () => (await tlsProbe('test', master.internalAddress, 2379, '/version')).status === 200,
      );
      await clusterHealthy(lab);
      const { failed, doc } = await security();
      expect(failed).toEqual([`security.etcd-client-cert@${master.host}`]);
      expect(codes(doc, `security.etcd-client-cert@${master.host}`)).toEqual(['etcd-no-client-cert']);
      expect(diagnosis(doc, `security.etcd-client-cert@${master.host}`)).toMatch(
        new RegExp(
          `https://${master.internalAddress.replace(/\./g, '\\.')}:2379: etcd answered HTTP 200 \\(from this machine\\), HTTP 200 \\(from ${w1.host}\\) to a client without a certificate: .*; fix: add --client-cert-auth=true and --trusted-ca-file=\\S+ to etcd's ExecStart in /etc/systemd/system/etcd\\.service\\.d/hardway-security-test\\.conf on ${master.host}`,
        ),
      );
    } finally {
      await must(lab, 'master', `rm -f ${dropIn} && systemctl daemon-reload && systemctl restart etcd`);
      await waitUntil(
        'etcd to refuse clients without a certificate again',
        60_000,
        async () => !!(await tlsProbe('test', master.internalAddress, 2379, '/version')).refused,
      );
      await clusterHealthy(lab);
    }
  });

  it('a kubelet with anonymous access and AlwaysAllow fails it on that worker', async () => {
    const cfg = `${K8S_DIR}/kubelet/kubelet-config.yaml`;
    const backup = '/root/kubelet-config.hardway-security-test';
    const url = (w: typeof w1) => tlsProbe('test', w.internalAddress, 10250, '/pods');
    try {
      await must(
        lab,
        w1.host,
        `cp -p ${cfg} ${backup} && sed -i '/^  anonymous:/,/^  [a-z]/ s/enabled: false/enabled: true/; s/^  mode: Webhook/  mode: AlwaysAllow/' ${cfg} && grep -A1 '^  anonymous:' ${cfg} | grep -q 'enabled: true' && grep -q 'mode: AlwaysAllow' ${cfg} && systemctl restart kubelet`,
      );
      await waitUntil(`${w1.host}'s kubelet to answer anonymously`, 60_000, async () => (await url(w1)).status === 200);
      const { failed, doc } = await security();
      expect(failed).toEqual([`security.kubelet-auth@${w1.host}`]);
      expect(codes(doc, `security.kubelet-auth@${w1.host}`)).toEqual(['kubelet-anonymous-access']);
      expect(diagnosis(doc, `security.kubelet-auth@${w1.host}`)).toMatch(
        /answered HTTP 200 \(from this machine\) without credentials: .*\(authentication\.anonymous\.enabled is true, authorization\.mode AlwaysAllow\); fix: in \/var\/lib\/kubernetes\/kubelet\/kubelet-config\.yaml/,
      );
    } finally {
      await must(lab, w1.host, `if [ -f ${backup} ]; then mv -f ${backup} ${cfg}; fi && systemctl restart kubelet`);
      await waitUntil(`${w1.host}'s kubelet to refuse anonymous requests again`, 60_000, async () => (await url(w1)).status === 401);
      await clusterHealthy(lab);
    }
  });

  it('certificates expiring within the warning window fail it (a window longer than their life)', async () => {
    const { failed, doc } = await security(inventory, 100_000);
    expect(failed).toEqual([master.host, w1.host, w2.host].map((h) => `security.cert-expiry@${h}`).sort());
    expect(codes(doc, `security.cert-expiry@${w2.host}`)).toEqual(['expires-soon']);
    expect(diagnosis(doc, `security.cert-expiry@${w2.host}`)).toMatch(/expires in \d+ days .* \(within 100000 days\); fix: re-issue it/);
  });

  it('a copy of the CA key on a worker, under another name, fails it', async () => {
    const copy = `${K8S_DIR}/hardway-security-test-backup.pem`;
    try {
      const key = await must(lab, 'master', `cat ${CA_KEY}`);
      const h = lab.state.hosts.find((x) => x.name === w2.host)!;
      const { SshSession } = await import('../../harness/ssh/session.ts');
      const s = await SshSession.connect(h.ssh);
      try {
        await s.writeFile(copy, key, 0o600);
      } finally {
        s.close();
      }
      const { failed, doc } = await security();
      expect(failed).toEqual([`security.ca-key-on-workers@${w2.host}`]);
      expect(codes(doc, `security.ca-key-on-workers@${w2.host}`)).toEqual(['ca-key-on-worker']);
      // The finding names the copy and the CA it is the key of (the subject, not the prose, is asserted).
      const f = doc.suites.flatMap((x) => x.checks).find((c) => `${c.id}@${c.host}` === `security.ca-key-on-workers@${w2.host}`)
        ?.findings?.[0];
      expect([f?.host, f?.subject]).toEqual([w2.host, copy]);
      expect(f?.message).toContain('master:/var/lib/kubernetes/ca.pem');
    } finally {
      await onHost(lab, w2.host, `rm -f ${copy}`);
    }
  });
});
