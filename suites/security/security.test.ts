// The security suite's judgement, its parsers of host output (recorded shapes in fixtures/), the
// checks through the engine on facts read from the seed's and KTHW's files and on a rendered tree,
// and the TLS probe on loopback.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../harness/model/cluster.ts';
import { loadCluster } from '../../harness/model/load.ts';
import { issueCa } from '../../harness/pki/issue.ts';
import { renderToDir } from '../../harness/render/render.ts';
import { initSystem } from '../../harness/system/init-system.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import type { ExecResult, Target } from '../../harness/targets/target.ts';
import { componentOn } from '../../harness/discovery/facts.ts';
import { factsFromFiles, filesOfSystemctlCat } from '../../harness/discovery/from-files.ts';
import {
  type HostFiles,
  kthwCluster,
  kthwFacts,
  kthwFiles,
  liveTarget,
  seedFacts,
  seedFiles,
  withFiles,
} from '../../harness/testing/facts-fixtures.ts';
import { DEFAULT_OPTIONS, type Outcome, type VerifyOptions } from '../../harness/verify/check.ts';
import { runContext } from '../../harness/verify/context.ts';
import { makeContext, runCheck, runSuite } from '../../harness/verify/engine.ts';
import {
  applyAccepted,
  combine,
  curlOutcome,
  etcdListeners,
  etcdProbeTargets,
  judgeAnonymous,
  judgeEtcd,
  judgeEtcdLocal,
  judgeEtcdPlain,
  judgeKubelet,
  judgeStaticToken,
  kubeletConfigOf,
  type Probe,
  probeFromHere,
  securitySuite,
  tlsErrorProbe,
  tlsProbe,
  tlsReason,
} from './security.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const master = { name: 'master', init: initSystem('systemd') };
const node1 = { name: 'node-1', init: initSystem('systemd') };
const codes = (o: Outcome) => o.findings.map((f) => f.code);
const warningCodes = (o: Outcome) => (o.warnings ?? []).map((f) => f.code);

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
      message:
        "kube-apiserver accepts static tokens from it (1 token, 1 in system:masters): the seed's debugging token never expires and makes its holder cluster-admin",
      fix:
        "remove --token-auth-file from kube-apiserver's unit and delete /var/lib/kubernetes/token.csv on master, then systemctl daemon-reload && systemctl restart kube-apiserver " +
        '(set apiserver.staticToken: false in cluster.yaml); if you keep it on purpose, list security.static-token under accept: in the inventory',
    });
    const lab = judgeStaticToken(master, { ...facts, ownedByHardway: true });
    expect(lab.findings).toEqual([]);
    expect(warningCodes(lab)).toEqual(['static-token']);
    expect(codes(judgeStaticToken(master, { ...facts, modelStaticToken: false, ownedByHardway: true }))).toEqual([
      'static-token-not-in-model',
    ]);
    const accepted = applyAccepted('security.static-token', ['security.static-token'], prod);
    expect(accepted.findings).toEqual([]);
    expect(warningCodes(accepted)).toEqual(['static-token']);
    expect(accepted.warnings![0]!.message).toMatch(/^accepted by the inventory \(accept: security\.static-token\): kube-apiserver accepts/);
    expect(accepted.warnings![0]!.fix).toMatch(/cluster\.yaml\)$/);
    expect(applyAccepted('security.static-token', ['security.other'], prod)).toBe(prod);
    expect(judgeStaticToken(master, { modelStaticToken: false, ownedByHardway: false })).toEqual({
      findings: [],
      examined: 1,
      notes: ['no --token-auth-file: static tokens are off'],
    });
  });

  it('anonymous access: 401/403 pass, 200 fails, AlwaysAllow fails, no telling answer is inconclusive', async () => {
    const flags = componentOn(await seedFacts(), 'master', 'kube-apiserver')!.flags;
    const url = 'https://10.240.0.10:6443/api/v1/namespaces';
    const refused = judgeAnonymous(master, url, flags, [{ from: 'this machine', status: 403 }]);
    expect(refused).toMatchObject({ findings: [], examined: 2 });
    expect(refused.inconclusive).toBeUndefined();
    const open = judgeAnonymous(master, url, flags, [{ from: 'this machine', status: 200 }]);
    expect(codes(open)).toEqual(['anonymous-read']);
    expect(open.findings[0]).toMatchObject({
      subject: url,
      message: 'without credentials answered HTTP 200 (from this machine): anonymous users can list namespaces',
    });
    expect(
      codes(judgeAnonymous(master, url, new Map([['authorization-mode', 'AlwaysAllow']]), [{ from: 'this machine', status: 401 }])),
    ).toEqual(['authorization-always-allow']);
    const none = judgeAnonymous(
      master,
      url,
      new Map(),
      [{ from: 'this machine', status: 401 }],
      (change) => `${change} kube-apiserver's ExecStart in /etc/x.service`,
    );
    expect(codes(none)).toEqual(['authorization-always-allow']);
    expect(none.findings[0]!.fix).toBe("set --authorization-mode=Node,RBAC in kube-apiserver's ExecStart in /etc/x.service");
    const silent = judgeAnonymous(master, url, flags, [
      { from: 'this machine', unreachable: 'ETIMEDOUT' },
      { from: 'master', unreachable: 'no curl on the host' },
    ]);
    expect(silent).toMatchObject({ findings: [], inconclusive: expect.stringMatching(/gave no answer that tells/) });
    // An apiserver in trouble (etcd down) answers 5xx: that says nothing about anonymous access.
    expect(judgeAnonymous(master, url, flags, [{ from: 'this machine', status: 503 }]).inconclusive).toMatch(
      /gave no answer that tells \(this machine: HTTP 503\)/,
    );
  });

  it('etcd: any HTTP answer without a client certificate fails; refusals pass; no connection is inconclusive', () => {
    const url = 'https://10.240.0.10:2379';
    const ok = judgeEtcd(master, url, [
      { from: 'this machine', refused: 'tlsv13 alert certificate required' },
      { from: 'node-1', refused: 'curl exit 56' },
    ]);
    expect(ok).toMatchObject({ findings: [], examined: 2 });
    expect(ok.inconclusive).toBeUndefined();
    const open = judgeEtcd(master, url, [
      { from: 'this machine', unreachable: 'ETIMEDOUT' },
      { from: 'node-1', status: 404 },
    ]);
    expect(open.findings).toEqual([
      {
        code: 'etcd-no-client-cert',
        host: 'master',
        subject: url,
        message:
          'etcd answered HTTP 404 (from node-1) to a client without a certificate: whoever reaches port 2379 reads and writes the whole cluster state, Secrets included',
        fix:
          "--client-cert-auth=true and --trusted-ca-file=<the cluster CA> in etcd's unit on master, then systemctl daemon-reload && systemctl restart etcd " +
          '(and firewall 2379 to the masters and workers)',
      },
    ]);
    expect(judgeEtcd(master, url, [{ from: 'this machine', unreachable: 'ECONNREFUSED' }])).toMatchObject({
      findings: [],
      examined: 0,
      inconclusive: expect.stringMatching(/cannot tell whether it requires client certificates/),
    });
  });

  it('kubelet: 200 fails naming the config; AlwaysAllow fails; anonymous with Webhook authorization warns', () => {
    const url = 'https://10.240.0.21:10250/pods';
    const cfgPath = '/var/lib/kubernetes/kubelet/kubelet-config.yaml';
    const open = kubeletConfigOf('authentication:\n  anonymous: { enabled: true }\nauthorization:\n  mode: AlwaysAllow\n');
    expect(open).toEqual({ anonymous: true, mode: 'AlwaysAllow' });
    const served = judgeKubelet(node1, url, [{ from: 'this machine', status: 200 }], open, cfgPath);
    expect(codes(served)).toEqual(['kubelet-anonymous-access']);
    expect(served.findings[0]!.message).toMatch(/\(authentication\.anonymous\.enabled is true, authorization\.mode AlwaysAllow\)$/);
    expect(served.findings[0]!.fix).toBe(
      `in ${cfgPath} on node-1 set authentication.anonymous.enabled: false, authentication.webhook.enabled: true and authorization.mode: Webhook, then systemctl daemon-reload && systemctl restart kubelet`,
    );
    expect(judgeKubelet(node1, url, [{ from: 'this machine', status: 401 }], { anonymous: false, mode: 'Webhook' }, cfgPath)).toMatchObject(
      { findings: [], examined: 2 },
    );
    const anon = judgeKubelet(node1, url, [{ from: 'this machine', status: 403 }], { anonymous: true, mode: 'Webhook' }, cfgPath);
    expect(anon.findings).toEqual([]);
    expect(warningCodes(anon)).toEqual(['kubelet-anonymous-enabled']);
    expect(codes(judgeKubelet(node1, url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], { mode: 'AlwaysAllow' }, cfgPath))).toEqual(
      ['kubelet-always-allow'],
    );
    expect(judgeKubelet(node1, url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], undefined, cfgPath).inconclusive).toMatch(
      /gave no answer that tells/,
    );
    expect(judgeKubelet(node1, url, [{ from: 'this machine', status: 500 }], undefined, cfgPath).inconclusive).toMatch(
      /gave no answer that tells/,
    );
    // Anonymous enabled but no telling answer: inconclusive, the warning kept.
    const untold = judgeKubelet(
      node1,
      url,
      [{ from: 'this machine', unreachable: 'ETIMEDOUT' }],
      { anonymous: true, mode: 'Webhook' },
      cfgPath,
    );
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

describe("curl and OpenSSL outputs (recorded: curl 7.88.1 / OpenSSL 3.0.19, Node's TLS client)", () => {
  it("curl: answers, refusals with OpenSSL's reason, no connection", () => {
    expect(curlOutcome('node-1', '401 0\n')).toEqual({ from: 'node-1', status: 401 });
    expect(
      curlOutcome(
        'node-1',
        'curl: (56) OpenSSL SSL_read: OpenSSL/3.0.19: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0\n000 56\n',
      ),
    ).toEqual({ from: 'node-1', refused: 'curl exit 56 (tlsv13 alert certificate required)' });
    expect(
      curlOutcome('node-1', 'curl: (35) OpenSSL/3.0.19: error:0A000410:SSL routines::sslv3 alert handshake failure\n000 35\n'),
    ).toEqual({ from: 'node-1', refused: 'curl exit 35 (sslv3 alert handshake failure)' });
    expect(
      curlOutcome('node-1', "curl: (7) Failed to connect to 127.0.0.1 port 18446 after 0 ms: Couldn't connect to server\n000 7\n"),
    ).toEqual({ from: 'node-1', unreachable: 'curl exit 7 (connection refused)' });
    expect(curlOutcome('node-1', 'curl: (6) Could not resolve host: no-such-host.invalid\n000 6\n')).toEqual({
      from: 'node-1',
      unreachable: 'curl exit 6 (name not resolved)',
    });
    expect(curlOutcome('node-1', 'curl: (28) SSL connection timeout\n000 28\n')).toEqual({
      from: 'node-1',
      unreachable: 'curl exit 28 (timeout)',
    });
  });

  it('curl: a port that does not speak TLS is no refusal (nothing told about client certificates)', () => {
    expect(curlOutcome('node-1', 'curl: (35) OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number\n000 35\n')).toEqual({
      from: 'node-1',
      unreachable: 'curl exit 35 (the port does not speak TLS)',
    });
  });

  it('curl: the older shape without an error line, an OpenSSL 1.1 line, and garbage', () => {
    expect(curlOutcome('node-1', '000 7')).toEqual({ from: 'node-1', unreachable: 'curl exit 7 (connection refused)' });
    expect(curlOutcome('node-1', '000 56')).toEqual({ from: 'node-1', refused: 'curl exit 56 (TLS alert: certificate required)' });
    expect(curlOutcome('node-1', 'curl: (35) error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure\n000 35')).toEqual({
      from: 'node-1',
      refused: 'curl exit 35 (sslv3 alert handshake failure)',
    });
    expect(curlOutcome('node-1', '')).toEqual({ from: 'node-1', unreachable: 'unexpected curl output ""' });
  });

  it("Node's TLS errors: refusals, and a port that does not speak TLS", () => {
    const required = {
      message:
        '80CC69B78B7F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n',
      code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    };
    const handshake = {
      message:
        '80CC69B78B7F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n',
      code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    };
    const plain = {
      message:
        '80CC69B78B7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    };
    expect(tlsReason(required)).toBe('tlsv13 alert certificate required');
    expect(tlsErrorProbe(required)).toEqual({ refused: 'tlsv13 alert certificate required' });
    expect(tlsErrorProbe(handshake)).toEqual({ refused: 'sslv3 alert handshake failure' });
    expect(tlsErrorProbe(plain)).toEqual({ unreachable: 'the port does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)' });
  });
});

describe("etcd's client URLs (from its flags)", () => {
  const flags = (listen: string, advertise = '') => ({
    list: (n: string) => (n === 'listen-client-urls' ? listen : n === 'advertise-client-urls' ? advertise : '').split(',').filter(Boolean),
  });

  it('the seed: one TLS listener others reach (the loopback one is governed by the same --client-cert-auth)', async () => {
    const etcd = componentOn(await seedFacts(), 'master', 'etcd')!;
    const l = etcdListeners(etcd.flags, '10.240.0.10');
    expect(l.map((x) => x.url)).toEqual(['https://10.240.0.10:2379', 'https://127.0.0.1:2379']);
    expect(etcdProbeTargets(l)).toMatchObject({ external: [{ url: 'https://10.240.0.10:2379', tls: true }], local: [] });
  });

  it('KTHW: plain http on 127.0.0.1 only', async () => {
    const etcd = componentOn(await kthwFacts(), 'server', 'etcd')!;
    expect(etcdProbeTargets(etcdListeners(etcd.flags, '10.241.0.10'))).toEqual({
      external: [],
      local: [{ url: 'http://127.0.0.1:2379', tls: false, host: '127.0.0.1', port: 2379, loopback: true }],
    });
  });

  it("wildcards are probed where etcd advertises them (else at the host's address); etcd's default is http://localhost:2379", () => {
    expect(
      etcdListeners(flags('https://0.0.0.0:2379', 'https://10.0.0.5:2379,https://127.0.0.1:2379'), '10.0.0.9').map((x) => x.url),
    ).toEqual(['https://10.0.0.5:2379']);
    expect(etcdListeners(flags('http://0.0.0.0:2379'), '10.0.0.9').map((x) => x.url)).toEqual(['http://10.0.0.9:2379']);
    expect(etcdListeners(flags(''), '10.0.0.9')).toEqual([
      { url: 'http://localhost:2379', tls: false, host: 'localhost', port: 2379, loopback: true },
    ]);
    // An http listener on loopback next to a TLS one others reach is still judged (the old kubeadm way).
    expect(
      etcdProbeTargets(etcdListeners(flags('https://10.0.0.5:2379,http://127.0.0.1:2381'), '10.0.0.5')).local.map((x) => x.url),
    ).toEqual(['http://127.0.0.1:2381']);
  });
});

describe('etcd judgements beyond TLS', () => {
  const local = { url: 'http://127.0.0.1:2379', tls: false, host: '127.0.0.1', port: 2379, loopback: true };

  it('plain http others reach fails, whatever the probe got', () => {
    const o = judgeEtcdPlain(master, 'http://10.240.0.10:2379', [{ from: 'this machine', status: 200 }], 'serve https');
    expect(codes(o)).toEqual(['etcd-plain-http']);
    expect(o.findings[0]!.message).toMatch(
      /^etcd serves clients over plain http on an address other hosts reach \(this machine: HTTP 200\)/,
    );
    expect(
      codes(judgeEtcdPlain(master, 'http://10.240.0.10:2379', [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], 'serve https')),
    ).toEqual(['etcd-plain-http']);
  });

  it('loopback only, without client certificates: a warning (only local processes reach it), not a failure', () => {
    const o = judgeEtcdLocal({ name: 'server', init: initSystem('systemd') }, local, { from: 'server', status: 200 }, 'serve https');
    expect(o.findings).toEqual([]);
    expect(warningCodes(o)).toEqual(['etcd-loopback-unauthenticated']);
    expect(o.warnings![0]!.message).toBe(
      'etcd answers over plain http, without any authentication on 127.0.0.1 only (HTTP 200 from server): only processes on server reach it, ' +
        'but any of them (a hostNetwork pod, a local user) reads and writes the whole cluster state',
    );
    const tls = { ...local, url: 'https://127.0.0.1:2379', tls: true };
    expect(judgeEtcdLocal(master, tls, { from: 'master', refused: 'curl exit 56' }, 'x')).toMatchObject({ findings: [], examined: 1 });
    expect(judgeEtcdLocal(master, tls, { from: 'master', unreachable: 'curl exit 7' }, 'x').inconclusive).toMatch(
      /gave no answer that tells/,
    );
  });

  it('combine: findings and warnings add up; a part that cannot tell keeps the check from passing', () => {
    const warn = judgeEtcdLocal(master, local, { from: 'master', status: 200 }, 'x');
    const fail = judgeEtcdPlain(master, 'http://10.0.0.1:2379', [], 'x');
    const untold = judgeEtcd(master, 'https://10.0.0.1:2379', [{ from: 'this machine', unreachable: 'ECONNREFUSED' }]);
    expect(combine([warn, fail])).toMatchObject({
      examined: 2,
      findings: [{ code: 'etcd-plain-http' }],
      warnings: [{ code: 'etcd-loopback-unauthenticated' }],
    });
    expect(combine([warn, untold])).toMatchObject({
      findings: [],
      inconclusive: expect.stringMatching(/cannot tell/),
      warnings: [{ code: 'etcd-loopback-unauthenticated' }],
    });
    expect(combine([fail, untold]).inconclusive).toBeUndefined();
  });
});

// ---- the checks through the engine, on facts from the seed's and KTHW's files ----------------

const cluster = loadCluster('fixtures/lab/cluster.yaml');
const check = (id: string) => securitySuite.checks.find((c) => c.id === id)!;
type Answer = (host: string, cmd: string) => Partial<ExecResult> | undefined;

// Probes from this machine answer from `here` (default: no connection), and are recorded.
const probed: string[] = [];
let here: (host: string, port: number) => Omit<Probe, 'from'> = () => ({ unreachable: 'ECONNREFUSED' });
const realProbes = { ...probeFromHere };
beforeEach(() => {
  probed.length = 0;
  here = () => ({ unreachable: 'ECONNREFUSED' });
  probeFromHere.tls = async (from, host, port) => (probed.push(`tls ${host}:${port}`), { from, ...here(host, port) });
  probeFromHere.http = async (from, host, port) => (probed.push(`http ${host}:${port}`), { from, ...here(host, port) });
});
afterAll(() => Object.assign(probeFromHere, realProbes));

async function runOn(
  c: Cluster,
  files: HostFiles,
  id: string,
  host: string,
  answer: Answer = () => undefined,
  extra: Partial<Target> = {},
) {
  return runCheck(
    makeContext(liveTarget(c, files, answer, extra), DEFAULT_OPTIONS, { facts: await factsFromFiles(files) }),
    check(id),
    host,
  );
}

describe('security.static-token through the engine', () => {
  const files = seedFiles();

  it('fails with the static token on a target hardway did not build, naming the unit and file; a warning once accepted', async () => {
    const failed = await runOn(cluster, files, 'security.static-token', 'master');
    expect(failed).toMatchObject({ status: 'failed', examined: 2 });
    expect(failed.findings?.map((f) => f.code)).toEqual(['static-token']);
    expect(failed.diagnosis).toMatch(
      /^master:\/var\/lib\/kubernetes\/token\.csv: kube-apiserver accepts static tokens from it \(1 token, 1 in system:masters\)/,
    );
    expect(failed.findings![0]!.fix).toBe(
      "remove --token-auth-file from kube-apiserver's ExecStart in /etc/systemd/system/kube-apiserver.service on master, then systemctl daemon-reload && " +
        "systemctl restart kube-apiserver, and delete /var/lib/kubernetes/token.csv (and apiserver.staticToken: false in the inventory's cluster model); " +
        'if you keep it on purpose, list security.static-token under accept: in the inventory',
    );
    const accepted = await runOn(cluster, files, 'security.static-token', 'master', undefined, { accepted: ['security.static-token'] });
    expect(accepted.status).toBe('passed');
    expect(accepted.findings?.map((f) => `${f.code} ${f.severity}`)).toEqual(['static-token warning']);
    const lab = await runOn(cluster, files, 'security.static-token', 'master', undefined, { ownedByHardway: true });
    expect(lab.findings?.map((f) => f.fix)).toEqual([
      expect.stringMatching(/\(set apiserver\.staticToken: false in cluster\.yaml, then hardway render\)$/),
    ]);
  });

  it('a drop-in that replaced ExecStart without --token-auth-file passes (discovery reads the command line in effect)', async () => {
    const dropIn = withFiles(files, 'master', (x) => ({
      ...x,
      ...filesOfSystemctlCat(fixture('systemctl-cat-kube-apiserver-dropin.txt')),
    }));
    expect(await runOn(cluster, dropIn, 'security.static-token', 'master')).toMatchObject({ status: 'passed', examined: 1 });
  });

  it('KTHW has no --token-auth-file: passes', async () => {
    expect(await runOn(kthwCluster(), kthwFiles(), 'security.static-token', 'server')).toMatchObject({
      status: 'passed',
      notes: ['no --token-auth-file: static tokens are off'],
    });
  });
});

describe('security.etcd-client-cert through the engine', () => {
  it("KTHW's etcd on 127.0.0.1 over http: passes with a warning, probed by curl on the server itself", async () => {
    const r = await runOn(kthwCluster(), kthwFiles(), 'security.etcd-client-cert', 'server', (h, cmd) =>
      h === 'server' && cmd.includes('http://127.0.0.1:2379/version') ? { stdout: '200 0' } : { code: 1 },
    );
    expect(r).toMatchObject({ status: 'passed', examined: 1 });
    expect(probed).toEqual([]);
    expect(r.findings?.map((f) => `${f.code} ${f.severity}`)).toEqual(['etcd-loopback-unauthenticated warning']);
    expect(r.findings![0]!.fix).toMatch(
      /^if more than processes on server are to be trusted: serve clients over https: .* in etcd's ExecStart in \/etc\/systemd\/system\/etcd\.service on server, then systemctl daemon-reload && systemctl restart etcd, and give kube-apiserver --etcd-cafile/,
    );
  });

  it('etcd over http on an address others reach fails (etcd-plain-http)', async () => {
    const files = withFiles(kthwFiles(), 'server', (x) => ({
      ...x,
      '/etc/systemd/system/etcd.service': x['/etc/systemd/system/etcd.service']!.replace(
        '--listen-client-urls http://127.0.0.1:2379',
        '--listen-client-urls http://192.0.2.1:2379',
      ),
    }));
    here = () => ({ status: 200 });
    const r = await runOn(kthwCluster(), files, 'security.etcd-client-cert', 'server', () => ({ stdout: '000 7' }));
    expect(r.findings?.map((f) => f.code)).toEqual(['etcd-plain-http']);
    expect(probed).toEqual(['http 192.0.2.1:2379']);
  });
});

describe('security.kubelet-auth through the engine', () => {
  it("probes the kubelet's --node-ip and port; an answer fails naming the kubelet's --config file", async () => {
    const target = seedFiles();
    const facts = await factsFromFiles(target);
    const k = componentOn(facts, 'node-1', 'kubelet')!;
    expect([k.kubelet?.nodeIP, k.kubelet?.port, k.kubelet?.configFile]).toEqual([
      '10.240.0.21',
      10250,
      '/var/lib/kubernetes/kubelet/kubelet-config.yaml',
    ]);
    const o = judgeKubelet(
      node1,
      'https://10.240.0.21:10250/pods',
      [{ from: 'this machine', status: 200 }],
      { anonymous: k.kubelet!.anonymousAuth, mode: k.kubelet!.authorizationMode },
      k.kubelet!.configFile!,
    );
    expect(codes(o)).toEqual(['kubelet-anonymous-access']);
  });

  it('a kubelet without --config runs on its legacy defaults (anonymous, AlwaysAllow): the fix adds flags to its unit', async () => {
    const files = withFiles(kthwFiles(), 'node-0', (x) => ({
      ...x,
      '/etc/systemd/system/kubelet.service': x['/etc/systemd/system/kubelet.service']!.replace(
        '--config=/var/lib/kubelet/kubelet-config.yaml',
        '--v=1',
      ),
    }));
    const r = await runOn(kthwCluster(), files, 'security.kubelet-auth', 'node-0', () => ({ stdout: '000 7' }));
    expect(r.findings?.map((f) => f.code)).toEqual(['kubelet-always-allow']);
    expect(probed).toEqual(['tls 10.241.0.20:10250']);
    expect(r.findings![0]).toMatchObject({
      subject: '/etc/systemd/system/kubelet.service',
      fix:
        "add --anonymous-auth=false --authentication-token-webhook=true --authorization-mode=Webhook to kubelet's ExecStart in /etc/systemd/system/kubelet.service on node-0, " +
        'then systemctl daemon-reload && systemctl restart kubelet (or give it a KubeletConfiguration with --config)',
    });
  });
});

describe('fix texts on an OpenRC host (init script and conf.d)', () => {
  it("name the init script that holds the kubelet's command line and rc-service's restart", async () => {
    const [init, confd] = fixture('openrc-kubelet.txt').split('# /etc/conf.d/kubelet\n');
    const files = withFiles(seedFiles(), 'node-1', (x) => {
      const y = Object.fromEntries(Object.entries(x).filter(([p]) => !p.startsWith('/etc/systemd/')));
      return {
        ...y,
        '/etc/init.d/kubelet': init!,
        '/etc/conf.d/kubelet': confd!,
        '/var/lib/kubernetes/kubelet/kubelet-config.yaml': 'kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\n',
      };
    });
    const k = componentOn(await factsFromFiles(files), 'node-1', 'kubelet')!;
    expect([k.unit, k.kubelet?.configFile]).toEqual(['kubelet', '/var/lib/kubernetes/kubelet/kubelet-config.yaml']);
    const openrc = { ...cluster, workers: cluster.workers.map((w) => (w.host === 'node-1' ? { ...w, init: 'openrc' as const } : w)) };
    const r = await runOn(openrc, files, 'security.kubelet-auth', 'node-1', () => ({ stdout: '000 7' }));
    // A file without authentication settings takes the file's defaults: anonymous off, Webhook.
    expect(r).toMatchObject({ status: 'skipped', skip: 'inconclusive' });
    const anon = withFiles(files, 'node-1', (x) => ({
      ...x,
      '/etc/init.d/kubelet': x['/etc/init.d/kubelet']!.replace('--v=1', '--v=1 --authorization-mode=AlwaysAllow'),
    }));
    const f = await runOn(openrc, anon, 'security.kubelet-auth', 'node-1', () => ({ stdout: '000 7' }));
    expect(f.findings?.map((x) => x.code)).toEqual(['kubelet-always-allow']);
    expect(f.findings![0]!.fix).toBe(
      'in /var/lib/kubernetes/kubelet/kubelet-config.yaml on node-1 set authentication.anonymous.enabled: false, authentication.webhook.enabled: true ' +
        "and authorization.mode: Webhook, and remove --authorization-mode from kubelet's command line in /etc/init.d/kubelet (they override the file), then rc-service kubelet restart",
    );
  });
});

describe('the security suite on a rendered tree (offline)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hardway-security-'));
    await renderToDir(cluster, dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const verify = async (options: VerifyOptions, at = dir) => {
    const target = dirTarget(`dir:${at}`, at, cluster);
    return runSuite(await runContext(target, options), securitySuite);
  };

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

  it("certs.validity's expires-soon warnings are failures here; the fix says hardway render only on a lab hardway built", async () => {
    const results = await verify({ ...DEFAULT_OPTIONS, expiryWarningDays: 100_000 });
    const expiry = results.filter((r) => r.id === 'security.cert-expiry');
    expect(expiry.every((r) => r.status === 'failed')).toBe(true);
    expect(new Set(expiry.flatMap((r) => r.findings?.map((f) => `${f.code} ${f.severity}`) ?? []))).toEqual(
      new Set(['expires-soon error']),
    );
    expect(expiry[0]!.diagnosis).toMatch(/expires in \d+ days .* \(within 100000 days\); fix: re-issue it from the CA that signed it/);
    expect(expiry[0]!.diagnosis).not.toMatch(/hardway render/);
  });

  it('on an empty tree no component is found: the expiry check does not pass', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hardway-security-empty-'));
    try {
      const expiry = (await verify(DEFAULT_OPTIONS, empty)).filter((r) => r.id === 'security.cert-expiry');
      expect(expiry.map((r) => r.status === 'passed')).toEqual([false, false, false]);
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
  afterAll(() => {
    for (const s of servers) s.close();
  });

  async function listen(requireCert: boolean, opts: { maxVersion?: 'TLSv1.2' } = {}): Promise<number> {
    const s = createTlsServer(
      { cert: certPem, key: keyPem, requestCert: requireCert, rejectUnauthorized: requireCert, ca: [certPem], ...opts },
      (sock) => {
        sock.on('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      },
    );
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
    expect(await tlsProbe('this machine', '127.0.0.1', mute, '/', 300)).toEqual({
      from: 'this machine',
      unreachable: 'no answer within 0.3 s after connecting',
    });
  });
});
