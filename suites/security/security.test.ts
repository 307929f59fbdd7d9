// The security suite's judgement, its parsers of host output (recorded shapes in fixtures/), the
// checks through the engine on a fake host and on a rendered tree, and the TLS probe on loopback.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/model/cluster.ts';
import { loadCluster } from '../../harness/model/load.ts';
import { issueCa } from '../../harness/pki/issue.ts';
import { renderToDir } from '../../harness/render/render.ts';
import { initSystem } from '../../harness/system/init-system.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import type { HostAccess, Target } from '../../harness/targets/target.ts';
import { DEFAULT_OPTIONS, type Outcome, type VerifyOptions } from '../../harness/verify/check.ts';
import { makeContext, runCheck, runSuite } from '../../harness/verify/engine.ts';
import {
  UNIT_STATE_MARK, applyAccepted, curlOutcome, judgeAnonymous, judgeEtcd, judgeKubelet, judgeStaticToken, kubeletConfigOf,
  parseUnitRead, securitySuite, tlsErrorProbe, tlsProbe, tlsReason, unitFlags, unitUnread, withoutUnit,
} from './security.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const master = { name: 'master', init: initSystem('systemd') };
const node1 = { name: 'node-1', init: initSystem('systemd') };
const codes = (o: Outcome) => o.findings.map((f) => f.code);
const warningCodes = (o: Outcome) => (o.warnings ?? []).map((f) => f.code);

const UNIT = `# /etc/systemd/system/kube-apiserver.service
[Service]
ExecStart=/usr/local/bin/kube-apiserver \\
  --advertise-address=10.240.0.10 \\
  --authorization-mode=Node,RBAC \\
  --token-auth-file=/var/lib/kubernetes/token.csv \\
  --enable-bootstrap-token-auth \\
  --v=1
# --anonymous-auth=false (a comment, not a flag)
`;

describe('flags of a unit', () => {
  it('reads --name=value and bare --name across continuation lines, not from comments', () => {
    const f = unitFlags(UNIT);
    expect(f.get('authorization-mode')).toBe('Node,RBAC');
    expect(f.get('token-auth-file')).toBe('/var/lib/kubernetes/token.csv');
    expect(f.get('enable-bootstrap-token-auth')).toBe('true');
    expect(f.has('anonymous-auth')).toBe(false);
    expect(unitFlags('command_args="--anonymous-auth=false --authorization-mode=AlwaysAllow"').get('authorization-mode')).toBe('AlwaysAllow');
  });

  it('reads systemctl cat of the installed kube-apiserver unit', () => {
    const f = unitFlags(fixture('systemctl-cat-kube-apiserver.txt'));
    expect(f.get('authorization-mode')).toBe('Node,RBAC');
    expect(f.get('token-auth-file')).toBe('/var/lib/kubernetes/token.csv');
    expect(f.get('secure-port')).toBe('6443');
    expect(f.get('allow-privileged')).toBe('true');
    expect(f.has('anonymous-auth')).toBe(false);
  });

  it('takes the command line in effect: a drop-in that resets ExecStart= replaces the unit\'s', () => {
    const f = unitFlags(fixture('systemctl-cat-kube-apiserver-dropin.txt'));
    expect(f.has('token-auth-file')).toBe(false);
    expect(f.get('authorization-mode')).toBe('Node,RBAC');
  });

  it('reads an OpenRC init script followed by its conf.d, and the kthw kubelet unit', () => {
    expect(unitFlags(fixture('openrc-kubelet.txt')).get('config')).toBe('/var/lib/kubernetes/kubelet/kubelet-config.yaml');
    expect(unitFlags(fixture('systemctl-cat-kubelet-kthw.txt')).get('config')).toBe('/var/lib/kubelet/kubelet-config.yaml');
  });
});

describe('reading a unit: definition and state', () => {
  const text = fixture('systemctl-cat-kube-apiserver.txt');

  it('splits the definition from the state line', () => {
    const u = parseUnitRead('kube-apiserver', `${text}${UNIT_STATE_MARK}\nkube-apiserver|active|enabled|on-failure\n`);
    expect(u.text).toBe(text);
    expect(u.state).toEqual({ name: 'kube-apiserver', active: 'active', enabled: 'enabled', restart: 'on-failure' });
    expect(unitUnread(master, u)).toBeUndefined();
  });

  it('no definition and not running: the unit is missing (a finding)', () => {
    // systemd for a unit that does not exist: is-active "inactive", is-enabled nothing on stdout.
    const u = parseUnitRead('kube-apiserver', `${UNIT_STATE_MARK}\nkube-apiserver|inactive||no\n`);
    expect(u).toEqual({ unit: 'kube-apiserver', text: '', state: { name: 'kube-apiserver', active: 'inactive', enabled: 'not-found', restart: 'no' } });
    const o = unitUnread(master, u)!;
    expect(codes(o)).toEqual(['unit-missing']);
    expect(o.findings[0]).toMatchObject({ host: 'master', subject: 'kube-apiserver' });
    // OpenRC without the script: rc-service prints no status.
    expect(codes(unitUnread({ name: 'node-2', init: initSystem('openrc') }, parseUnitRead('kubelet', `${UNIT_STATE_MARK}\nkubelet|inactive|disabled|no\n`))!))
      .toEqual(['unit-missing']);
  });

  it('no definition while it runs, or no answer from the init system: inconclusive', () => {
    expect(unitUnread(master, parseUnitRead('kube-apiserver', `${UNIT_STATE_MARK}\nkube-apiserver|active|enabled|on-failure\n`))).toMatchObject({ findings: [], inconclusive: expect.stringMatching(/runs, but systemctl cat/) });
    // Recorded: systemctl on a host whose systemd is not PID 1 prints nothing on stdout.
    expect(unitUnread(master, parseUnitRead('kube-apiserver', `${UNIT_STATE_MARK}\nkube-apiserver|||\n`))?.inconclusive).toMatch(/gave no state/);
    expect(unitUnread(master, parseUnitRead('kube-apiserver', ''))?.inconclusive).toMatch(/gave no state/);
  });

  it('withoutUnit: keeps the probes\' findings, otherwise the check cannot pass', () => {
    const unread = unitUnread(master, parseUnitRead('kube-apiserver', `${UNIT_STATE_MARK}\nkube-apiserver|active|enabled|on-failure\n`))!;
    const fine = judgeAnonymous(master, 'https://10.240.0.10:6443/api/v1/namespaces', undefined, [{ from: 'this machine', status: 403 }]);
    expect(fine.findings).toEqual([]);
    expect(withoutUnit(unread, fine)).toMatchObject({ findings: [], inconclusive: expect.any(String) });
    const open = judgeAnonymous(master, 'https://10.240.0.10:6443/api/v1/namespaces', undefined, [{ from: 'this machine', status: 200 }]);
    expect(codes(withoutUnit(unread, open))).toEqual(['anonymous-read']);
  });
});

describe('judgements', () => {
  it('static token: failed on targets hardway did not create, a warning in the lab, accepted by the inventory', () => {
    const facts = { file: '/var/lib/kubernetes/token.csv', tokens: 1, admins: 1, modelStaticToken: true, ownedByHardway: false };
    const prod = judgeStaticToken(master, facts);
    expect(codes(prod)).toEqual(['static-token']);
    expect(prod.examined).toBe(2);
    expect(prod.findings[0]).toEqual({
      code: 'static-token',
      host: 'master',
      subject: '/var/lib/kubernetes/token.csv',
      message: 'kube-apiserver accepts static tokens from it (1 token, 1 in system:masters): the seed\'s debugging token never expires and makes its holder cluster-admin',
      fix: 'remove --token-auth-file from kube-apiserver\'s unit and delete /var/lib/kubernetes/token.csv on master, then systemctl daemon-reload && systemctl restart kube-apiserver ' +
        '(set apiserver.staticToken: false in cluster.yaml); if you keep it on purpose, list security.static-token under accept: in the inventory',
    });
    const lab = judgeStaticToken(master, { ...facts, ownedByHardway: true });
    expect(lab.findings).toEqual([]);
    expect(warningCodes(lab)).toEqual(['static-token']);
    expect(codes(judgeStaticToken(master, { ...facts, modelStaticToken: false, ownedByHardway: true }))).toEqual(['static-token-not-in-model']);
    const accepted = applyAccepted('security.static-token', ['security.static-token'], prod);
    expect(accepted.findings).toEqual([]);
    expect(warningCodes(accepted)).toEqual(['static-token']);
    expect(accepted.warnings![0]!.message).toMatch(/^accepted by the inventory \(accept: security\.static-token\): kube-apiserver accepts/);
    expect(accepted.warnings![0]!.fix).toMatch(/cluster\.yaml\)$/);
    expect(applyAccepted('security.static-token', ['security.other'], prod)).toBe(prod);
    expect(judgeStaticToken(master, { modelStaticToken: false, ownedByHardway: false })).toEqual({ findings: [], examined: 1, notes: ['no --token-auth-file: static tokens are off'] });
  });

  it('anonymous access: 401/403 pass, 200 fails, AlwaysAllow fails, no telling answer is inconclusive', () => {
    const flags = unitFlags(UNIT);
    const url = 'https://10.240.0.10:6443/api/v1/namespaces';
    const refused = judgeAnonymous(master, url, flags, [{ from: 'this machine', status: 403 }]);
    expect(refused).toMatchObject({ findings: [], examined: 2 });
    expect(refused.inconclusive).toBeUndefined();
    const open = judgeAnonymous(master, url, flags, [{ from: 'this machine', status: 200 }]);
    expect(codes(open)).toEqual(['anonymous-read']);
    expect(open.findings[0]).toMatchObject({ subject: url, message: 'without credentials answered HTTP 200 (from this machine): anonymous users can list namespaces' });
    expect(codes(judgeAnonymous(master, url, new Map([['authorization-mode', 'AlwaysAllow']]), [{ from: 'this machine', status: 401 }]))).toEqual(['authorization-always-allow']);
    expect(codes(judgeAnonymous(master, url, new Map(), [{ from: 'this machine', status: 401 }]))).toEqual(['authorization-always-allow']);
    const silent = judgeAnonymous(master, url, flags, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }, { from: 'master', unreachable: 'no curl on the host' }]);
    expect(silent).toMatchObject({ findings: [], inconclusive: expect.stringMatching(/gave no answer that tells/) });
    // An apiserver in trouble (etcd down) answers 5xx: that says nothing about anonymous access.
    expect(judgeAnonymous(master, url, flags, [{ from: 'this machine', status: 503 }]).inconclusive).toMatch(/gave no answer that tells \(this machine: HTTP 503\)/);
  });

  it('etcd: any HTTP answer without a client certificate fails; refusals pass; no connection is inconclusive', () => {
    const url = 'https://10.240.0.10:2379';
    const ok = judgeEtcd(master, url, [{ from: 'this machine', refused: 'tlsv13 alert certificate required' }, { from: 'node-1', refused: 'curl exit 56' }]);
    expect(ok).toMatchObject({ findings: [], examined: 2 });
    expect(ok.inconclusive).toBeUndefined();
    const open = judgeEtcd(master, url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }, { from: 'node-1', status: 404 }]);
    expect(open.findings).toEqual([{
      code: 'etcd-no-client-cert',
      host: 'master',
      subject: url,
      message: 'etcd answered HTTP 404 (from node-1) to a client without a certificate: whoever reaches port 2379 reads and writes the whole cluster state, Secrets included',
      fix: '--client-cert-auth=true and --trusted-ca-file=/var/lib/kubernetes/ca.pem in etcd\'s unit on master, then systemctl daemon-reload && systemctl restart etcd ' +
        '(and firewall 2379 to the masters and workers)',
    }]);
    expect(judgeEtcd(master, url, [{ from: 'this machine', unreachable: 'ECONNREFUSED' }])).toMatchObject({ findings: [], examined: 0, inconclusive: expect.stringMatching(/cannot tell whether it requires client certificates/) });
  });

  it('kubelet: 200 fails naming the config; AlwaysAllow fails; anonymous with Webhook authorization warns', () => {
    const url = 'https://10.240.0.21:10250/pods';
    const cfgPath = '/var/lib/kubernetes/kubelet/kubelet-config.yaml';
    const open = kubeletConfigOf('authentication:\n  anonymous: { enabled: true }\nauthorization:\n  mode: AlwaysAllow\n');
    expect(open).toEqual({ anonymous: true, mode: 'AlwaysAllow' });
    const served = judgeKubelet(node1, url, [{ from: 'this machine', status: 200 }], open, cfgPath);
    expect(codes(served)).toEqual(['kubelet-anonymous-access']);
    expect(served.findings[0]!.message).toMatch(/\(authentication\.anonymous\.enabled is true, authorization\.mode AlwaysAllow\)$/);
    expect(served.findings[0]!.fix).toBe(`in ${cfgPath} on node-1 set authentication.anonymous.enabled: false, authentication.webhook.enabled: true and authorization.mode: Webhook, then systemctl daemon-reload && systemctl restart kubelet`);
    expect(judgeKubelet(node1, url, [{ from: 'this machine', status: 401 }], { anonymous: false, mode: 'Webhook' }, cfgPath)).toMatchObject({ findings: [], examined: 2 });
    const anon = judgeKubelet(node1, url, [{ from: 'this machine', status: 403 }], { anonymous: true, mode: 'Webhook' }, cfgPath);
    expect(anon.findings).toEqual([]);
    expect(warningCodes(anon)).toEqual(['kubelet-anonymous-enabled']);
    expect(codes(judgeKubelet(node1, url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], { mode: 'AlwaysAllow' }, cfgPath))).toEqual(['kubelet-always-allow']);
    expect(judgeKubelet(node1, url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], undefined, cfgPath).inconclusive).toMatch(/gave no answer that tells/);
    expect(judgeKubelet(node1, url, [{ from: 'this machine', status: 500 }], undefined, cfgPath).inconclusive).toMatch(/gave no answer that tells/);
    // Anonymous enabled but no telling answer: inconclusive, the warning kept.
    const untold = judgeKubelet(node1, url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], { anonymous: true, mode: 'Webhook' }, cfgPath);
    expect(untold.inconclusive).toMatch(/gave no answer that tells/);
    expect(warningCodes(untold)).toEqual(['kubelet-anonymous-enabled']);
  });
});

describe('the kubelet config reader (the configurations hardway installs)', () => {
  it('reads the seed and kthw layouts', () => {
    expect(kubeletConfigOf(fixture('kubelet-config-seed.yaml'))).toEqual({ anonymous: false, mode: 'Webhook' });
    expect(kubeletConfigOf(fixture('kubelet-config-kthw.yaml'))).toEqual({ anonymous: false, mode: 'Webhook' });
  });

  it('nothing, YAML that is no map, or no YAML at all: no config', () => {
    expect(kubeletConfigOf(undefined)).toBeUndefined();
    expect(kubeletConfigOf('')).toBeUndefined();
    expect(kubeletConfigOf('just a string')).toBeUndefined();
    expect(kubeletConfigOf('authentication: [unclosed')).toBeUndefined();
    expect(kubeletConfigOf('kind: KubeletConfiguration\n')).toEqual({});
  });
});

describe('curl and OpenSSL outputs (recorded: curl 7.88.1 / OpenSSL 3.0.19, Node\'s TLS client)', () => {
  it('curl: answers, refusals with OpenSSL\'s reason, no connection', () => {
    expect(curlOutcome('node-1', '401 0\n')).toEqual({ from: 'node-1', status: 401 });
    expect(curlOutcome('node-1', 'curl: (56) OpenSSL SSL_read: OpenSSL/3.0.19: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0\n000 56\n'))
      .toEqual({ from: 'node-1', refused: 'curl exit 56 (tlsv13 alert certificate required)' });
    expect(curlOutcome('node-1', 'curl: (35) OpenSSL/3.0.19: error:0A000410:SSL routines::sslv3 alert handshake failure\n000 35\n'))
      .toEqual({ from: 'node-1', refused: 'curl exit 35 (sslv3 alert handshake failure)' });
    expect(curlOutcome('node-1', 'curl: (7) Failed to connect to 127.0.0.1 port 18446 after 0 ms: Couldn\'t connect to server\n000 7\n'))
      .toEqual({ from: 'node-1', unreachable: 'curl exit 7 (connection refused)' });
    expect(curlOutcome('node-1', 'curl: (6) Could not resolve host: no-such-host.invalid\n000 6\n')).toEqual({ from: 'node-1', unreachable: 'curl exit 6 (name not resolved)' });
    expect(curlOutcome('node-1', 'curl: (28) SSL connection timeout\n000 28\n')).toEqual({ from: 'node-1', unreachable: 'curl exit 28 (timeout)' });
  });

  it('curl: a port that does not speak TLS is no refusal (nothing told about client certificates)', () => {
    expect(curlOutcome('node-1', 'curl: (35) OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number\n000 35\n'))
      .toEqual({ from: 'node-1', unreachable: 'curl exit 35 (the port does not speak TLS)' });
  });

  it('curl: the older shape without an error line, an OpenSSL 1.1 line, and garbage', () => {
    expect(curlOutcome('node-1', '000 7')).toEqual({ from: 'node-1', unreachable: 'curl exit 7 (connection refused)' });
    expect(curlOutcome('node-1', '000 56')).toEqual({ from: 'node-1', refused: 'curl exit 56 (TLS alert: certificate required)' });
    expect(curlOutcome('node-1', 'curl: (35) error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure\n000 35'))
      .toEqual({ from: 'node-1', refused: 'curl exit 35 (sslv3 alert handshake failure)' });
    expect(curlOutcome('node-1', '')).toEqual({ from: 'node-1', unreachable: 'unexpected curl output ""' });
  });

  it('Node\'s TLS errors: refusals, and a port that does not speak TLS', () => {
    const required = { message: '80CC69B78B7F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n', code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' };
    const handshake = { message: '80CC69B78B7F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n', code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' };
    const plain = { message: '80CC69B78B7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n', code: 'ERR_SSL_WRONG_VERSION_NUMBER' };
    expect(tlsReason(required)).toBe('tlsv13 alert certificate required');
    expect(tlsErrorProbe(required)).toEqual({ refused: 'tlsv13 alert certificate required' });
    expect(tlsErrorProbe(handshake)).toEqual({ refused: 'sslv3 alert handshake failure' });
    expect(tlsErrorProbe(plain)).toEqual({ unreachable: 'the port does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)' });
  });
});

// ---- the checks through the engine ----------------------------------------------------------

const cluster = loadCluster('fixtures/lab/cluster.yaml');

/** A live target whose hosts answer from a table: command substring -> stdout, path -> content. */
function fakeTarget(c: Cluster, answers: Record<string, string>, files: Record<string, string>, extra: Partial<Target> = {}): Target {
  const host = (name: string): HostAccess => ({
    host: name,
    readFile: async (p) => files[`${name}:${p}`],
    listFiles: async () => [],
    exec: async (cmd) => {
      const hit = Object.entries(answers).find(([k]) => k.startsWith(`${name}:`) && cmd.includes(k.slice(name.length + 1)));
      return { code: 0, stdout: hit?.[1] ?? '', stderr: '' };
    },
  });
  return { name: 'fake', cluster: c, modelGiven: true, live: true, ownedByHardway: false, host, close: async () => undefined, ...extra };
}

const check = (id: string) => securitySuite.checks.find((c) => c.id === id)!;
const apiUnit = `${fixture('systemctl-cat-kube-apiserver.txt')}${UNIT_STATE_MARK}\nkube-apiserver|active|enabled|on-failure\n`;
const TOKEN = '/var/lib/kubernetes/token.csv';

describe('security.static-token through the engine', () => {
  const run = (answers: Record<string, string>, extra: Partial<Target> = {}) =>
    runCheck(makeContext(fakeTarget(cluster, answers, { [`master:${TOKEN}`]: 'secret-token,admin,admin,"system:masters"\n' }, extra), DEFAULT_OPTIONS), check('security.static-token'), 'master');

  it('fails with the static token on a target hardway did not build, passes with a warning once accepted', async () => {
    const failed = await run({ 'master:systemctl cat kube-apiserver': apiUnit });
    expect(failed).toMatchObject({ status: 'failed', examined: 2 });
    expect(failed.findings?.map((f) => f.code)).toEqual(['static-token']);
    expect(failed.diagnosis).toMatch(/^master:\/var\/lib\/kubernetes\/token\.csv: kube-apiserver accepts static tokens from it \(1 token, 1 in system:masters\).*; fix: remove --token-auth-file/);
    const accepted = await run({ 'master:systemctl cat kube-apiserver': apiUnit }, { accepted: ['security.static-token'] });
    expect(accepted.status).toBe('passed');
    expect(accepted.findings?.map((f) => `${f.code} ${f.severity}`)).toEqual(['static-token warning']);
  });

  it('no unit text: unit-missing when the apiserver does not run, inconclusive when it does', async () => {
    const missing = await run({ 'master:systemctl cat kube-apiserver': `${UNIT_STATE_MARK}\nkube-apiserver|inactive||no\n` });
    expect(missing.status).toBe('failed');
    expect(missing.findings?.map((f) => f.code)).toEqual(['unit-missing']);
    const unreadable = await run({ 'master:systemctl cat kube-apiserver': `${UNIT_STATE_MARK}\nkube-apiserver|active|enabled|on-failure\n` });
    expect(unreadable).toMatchObject({ status: 'skipped', skip: 'inconclusive' });
    const silent = await run({});
    expect(silent).toMatchObject({ status: 'skipped', skip: 'inconclusive' });
  });

  it('a drop-in that removed --token-auth-file passes', async () => {
    const dropIn = `${fixture('systemctl-cat-kube-apiserver-dropin.txt')}${UNIT_STATE_MARK}\nkube-apiserver|active|enabled|on-failure\n`;
    const r = await run({ 'master:systemctl cat kube-apiserver': dropIn });
    expect(r).toMatchObject({ status: 'passed', examined: 1 });
  });
});

describe('the security suite on a rendered tree (offline)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hardway-security-'));
    await renderToDir(cluster, dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const verify = (options: VerifyOptions) => runSuite(makeContext(dirTarget(`dir:${dir}`, dir, cluster), options), securitySuite);

  it('runs the certificate checks, and the probes are not applicable without a live target', async () => {
    const results = await verify(DEFAULT_OPTIONS);
    const by = (id: string) => results.filter((r) => r.id === id);
    for (const id of ['security.static-token', 'security.anonymous-auth', 'security.etcd-client-cert', 'security.kubelet-auth']) {
      expect(by(id).every((r) => r.status === 'skipped' && r.skip === 'not-applicable')).toBe(true);
    }
    expect(by('security.cert-expiry').map((r) => `${r.host} ${r.status}`)).toEqual(['master passed', 'node-1 passed', 'node-2 passed']);
    expect(by('security.cert-expiry').every((r) => r.examined > 0)).toBe(true);
    expect(by('security.ca-key-on-workers').map((r) => `${r.host} ${r.status}`)).toEqual(['node-1 passed', 'node-2 passed']);
  });

  it('certs.validity\'s expires-soon warnings are failures here', async () => {
    const results = await verify({ ...DEFAULT_OPTIONS, expiryWarningDays: 100_000 });
    const expiry = results.filter((r) => r.id === 'security.cert-expiry');
    expect(expiry.every((r) => r.status === 'failed')).toBe(true);
    expect(new Set(expiry.flatMap((r) => r.findings?.map((f) => `${f.code} ${f.severity}`) ?? []))).toEqual(new Set(['expires-soon error']));
    expect(expiry[0]!.diagnosis).toMatch(/expires in \d+ days .* \(within 100000 days\); fix: re-issue it/);
  });

  it('on an empty tree the expiry check examines nothing, so it does not pass', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hardway-security-empty-'));
    try {
      const results = await runSuite(makeContext(dirTarget(`dir:${empty}`, empty, cluster), DEFAULT_OPTIONS), securitySuite);
      const expiry = results.filter((r) => r.id === 'security.cert-expiry');
      expect(expiry.map((r) => `${r.status} ${r.examined}`)).toEqual(['failed 0', 'failed 0', 'failed 0']);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('the TLS probe (servers on loopback)', () => {
  let certPem = '';
  let keyPem = '';
  const servers: { close(): void }[] = [];
  beforeAll(async () => {
    const ca = await issueCa({ id: 'ca', title: 'probe', cn: 'probe', usages: ['server'], dnsNames: [], ipAddresses: [] });
    certPem = ca.certPem;
    keyPem = ca.key.pem;
  });
  afterAll(() => servers.forEach((s) => s.close()));

  async function listen(requireCert: boolean, opts: { maxVersion?: 'TLSv1.2' } = {}): Promise<number> {
    const s = createTlsServer({ cert: certPem, key: keyPem, requestCert: requireCert, rejectUnauthorized: requireCert, ca: [certPem], ...opts }, (sock) => {
      sock.on('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    s.on('tlsClientError', () => undefined);
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    servers.push(s);
    return (s.address() as AddressInfo).port;
  }

  async function plain(onConnection: (sock: import('node:net').Socket) => void): Promise<number> {
    const s = createNetServer(onConnection);
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    servers.push(s);
    return (s.address() as AddressInfo).port;
  }

  it('a server that requires a client certificate refuses the probe (TLS 1.3 and 1.2)', async () => {
    const p = await tlsProbe('this machine', '127.0.0.1', await listen(true), '/version');
    expect(p.status).toBeUndefined();
    expect(p.refused).toMatch(/certificate/);
    const p12 = await tlsProbe('this machine', '127.0.0.1', await listen(true, { maxVersion: 'TLSv1.2' }), '/version');
    expect(p12.refused).toMatch(/handshake failure/);
  });

  it('a server that does not answers it', async () => {
    expect(await tlsProbe('this machine', '127.0.0.1', await listen(false), '/version')).toEqual({ from: 'this machine', status: 200 });
  });

  it('a closed port, a port that speaks plain HTTP and one that never speaks tell nothing', async () => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    s.close();
    expect(await tlsProbe('this machine', '127.0.0.1', port, '/')).toEqual({ from: 'this machine', unreachable: 'ECONNREFUSED' });
    const http = await plain((sock) => sock.once('data', () => sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')));
    expect((await tlsProbe('this machine', '127.0.0.1', http, '/')).unreachable).toMatch(/does not speak TLS/);
    const mute = await plain(() => undefined);
    expect(await tlsProbe('this machine', '127.0.0.1', mute, '/', 300)).toEqual({ from: 'this machine', unreachable: 'no answer within 0.3 s after connecting' });
  });
});
