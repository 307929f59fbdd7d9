// Kubernetes The Hard Way's PKI (chapter 04), made with the system's openssl exactly as its
// recipe runs it, against the config hardway generates from its KTHW profile (kthw-profile.ts;
// compare-kthw-ca-conf.ts checks it against KTHW's real ca.conf). Every certificate is judged as
// its component uses it, by hardway and by the Go oracle: Go accepts them all, so hardway must
// report no finding; KTHW's real defects come out as warnings, recorded here exactly.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { judgeCredential } from './judge.ts';
import { KTHW_CERTS, compareOpenSslConfigs, openSslConfig } from './kthw-profile.ts';
import { type OracleCase, type OracleResult, buildOracle, runOracle } from './oracle.ts';
import { judgeServiceAccountKeys } from './service-account.ts';
import type { CredentialInput, Judgement } from './types.ts';

const run = promisify(execFile);
let problem: string | undefined;
let dir: string;
const files = new Map<string, string>();
const judged = new Map<string, { input: CredentialInput; hw: Judgement; go: OracleResult }>();
let sa: ReturnType<typeof judgeServiceAccountKeys>;
let saGo: OracleResult;

function opensslMissing(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `openssl cannot be run (${r.error?.message ?? r.stderr}); install it: apt-get install openssl`;
  return undefined;
}

const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });

/** How each KTHW certificate is used, and by whom it is verified (units/, configs/ of KTHW). */
function uses(): CredentialInput[] {
  const ca = { path: '/var/lib/kubernetes/ca.crt', pem: files.get('ca.crt'), source: 'kube-apiserver --client-ca-file' };
  const kubeletCa = {
    path: '/var/lib/kubernetes/ca.crt',
    pem: files.get('ca.crt'),
    source: 'kube-apiserver --kubelet-certificate-authority',
  };
  const kubeconfigCa = {
    path: '~/.kube/config certificate-authority-data',
    pem: files.get('ca.crt'),
    source: 'kubeconfig certificate-authority-data',
  };
  const pair = (id: string) => ({
    cert: { path: `${id}.crt`, pem: files.get(`${id}.crt`) },
    key: { path: `${id}.key`, pem: files.get(`${id}.key`) },
  });
  const client = (id: string, component: string, cn: string, o: string, oAdvisory = false): CredentialInput => ({
    host: 'jumpbox',
    component,
    purpose: 'client',
    source: `${component} kubeconfig`,
    ...pair(id),
    trust: [ca],
    expectedIdentity: { cn, o: [o], oAdvisory },
  });
  return [
    {
      host: 'server',
      component: 'kube-apiserver',
      purpose: 'serving',
      source: 'kube-apiserver --tls-cert-file',
      ...pair('kube-api-server'),
      trust: [kubeconfigCa],
      names: ['127.0.0.1', '10.32.0.1', 'server.kubernetes.local'],
      // What hardway's model expects of the apiserver's certificate (the service's real DNS name among them).
      expectedNames: [
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        '10.32.0.1',
        '127.0.0.1',
        'server.kubernetes.local',
      ],
    },
    {
      host: 'server',
      component: 'kube-apiserver',
      purpose: 'client',
      source: 'kube-apiserver --kubelet-client-certificate',
      ...pair('kube-api-server'),
      trust: [{ ...ca, source: 'kubelet authentication.x509.clientCAFile' }],
      expectedIdentity: { cn: 'kubernetes' },
    },
    ...['node-0', 'node-1'].flatMap((n): CredentialInput[] => [
      { host: n, component: 'kubelet', purpose: 'serving', source: 'kubelet tlsCertFile', ...pair(n), trust: [kubeletCa], names: [n] },
      client(n, 'kubelet', `system:node:${n}`, 'system:nodes'),
    ]),
    client('admin', 'admin (kubectl)', 'admin', 'system:masters'),
    // RBAC binds these three by user name: their O is advisory.
    client('kube-proxy', 'kube-proxy', 'system:kube-proxy', 'system:node-proxier', true),
    client('kube-scheduler', 'kube-scheduler', 'system:kube-scheduler', 'system:kube-scheduler', true),
    client('kube-controller-manager', 'kube-controller-manager', 'system:kube-controller-manager', 'system:kube-controller-manager', true),
  ];
}

const key = (u: CredentialInput) => `${u.component} ${u.purpose} ${u.cert.path}`;

beforeAll(async () => {
  problem = opensslMissing();
  if (problem) return;
  let oracle;
  try {
    oracle = await buildOracle();
  } catch (e) {
    problem = (e as Error).message;
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'hardway-kthw-openssl-'));
  await writeFile(join(dir, 'ca.conf'), openSslConfig());
  // openssl genrsa -out X.key 4096, for the CA and every certificate (in parallel: key generation is the slow part).
  await Promise.all(['ca', ...KTHW_CERTS.map((c) => c.id)].map((id) => openssl('genrsa', '-out', `${id}.key`, '4096')));
  await openssl('req', '-x509', '-new', '-sha512', '-noenc', '-key', 'ca.key', '-days', '3653', '-config', 'ca.conf', '-out', 'ca.crt');
  // KTHW generates a 4096-bit key between the CA and each certificate: every leaf is issued later than the CA.
  await new Promise((r) => setTimeout(r, 1100));
  for (const c of KTHW_CERTS) {
    await openssl('req', '-new', '-key', `${c.id}.key`, '-sha256', '-config', 'ca.conf', '-section', c.id, '-out', `${c.id}.csr`);
    await openssl(
      'x509',
      '-req',
      '-days',
      '3653',
      '-in',
      `${c.id}.csr`,
      '-copy_extensions',
      'copyall',
      '-sha256',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${c.id}.crt`,
    );
  }
  for (const f of ['ca.crt', ...KTHW_CERTS.flatMap((c) => [`${c.id}.crt`, `${c.id}.key`])])
    files.set(f, await readFile(join(dir, f), 'utf8'));

  const now = new Date();
  const cases: OracleCase[] = uses().map((u) => ({
    id: key(u),
    kind: 'pair',
    purpose: u.purpose,
    cert: u.cert.pem!,
    key: u.key!.pem!,
    trust: u.trust.map((t) => t.pem).join(''),
    names: u.names ?? [],
    now: now.toISOString(),
  }));
  // The apiserver verifies tokens with service-accounts.crt and signs them with service-accounts.key.
  cases.push({
    id: 'service-accounts',
    kind: 'sa',
    verifyKeys: [files.get('service-accounts.crt')!],
    signingKey: files.get('service-accounts.key')!,
  });
  const go = await runOracle(oracle.path, cases);
  for (const u of uses()) judged.set(key(u), { input: u, hw: judgeCredential({ ...u, now }), go: go.get(key(u))! });
  sa = judgeServiceAccountKeys({
    host: 'server',
    verifyFiles: [{ path: '/var/lib/kubernetes/service-accounts.crt', pem: files.get('service-accounts.crt') }],
    signingKey: { path: '/var/lib/kubernetes/service-accounts.key', pem: files.get('service-accounts.key') },
  });
  saGo = go.get('service-accounts')!;
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("Kubernetes The Hard Way's openssl recipe (chapter 04) is judged without a false alarm", () => {
  beforeEach(() => {
    if (problem) throw new Error(problem);
  });

  it('the generated config is what the recipe ran against, and the comparison catches a changed field', () => {
    const conf = openSslConfig();
    expect(compareOpenSslConfigs(conf, conf)).toEqual([]);
    const changed = conf.replace('O = system:system:kube-scheduler', 'O = system:kube-scheduler');
    expect(compareOpenSslConfigs(conf, changed)).toEqual([
      '[kube-scheduler_distinguished_name] O: generated system:system:kube-scheduler vs ca.conf system:kube-scheduler',
    ]);
  });

  it('made what chapter 04 makes: RSA 4096 keys, a SHA-512 CA, SHA-256 certificates valid for 3653 days', async () => {
    const { stdout } = await openssl('x509', '-in', 'kube-api-server.crt', '-noout', '-text');
    expect(stdout).toMatch(/Public-Key: \(4096 bit\)/);
    expect(stdout).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(stdout).toMatch(/DNS:kubernetes\.svc\.cluster\.local/);
    expect((await openssl('x509', '-in', 'ca.crt', '-noout', '-text')).stdout).toMatch(/Signature Algorithm: sha512WithRSAEncryption/);
    expect(judged.size).toBe(uses().length);
  });

  it('Go accepts every certificate as its component uses it, and hardway reports no finding', () => {
    for (const [k, j] of judged) {
      expect(j.go.ok, `${k}: Go: ${j.go.stage}: ${j.go.error}`).toBe(true);
      expect(
        j.hw.findings.map((f) => `${f.code}: ${f.message}`),
        k,
      ).toEqual([]);
      expect(j.hw.chain?.length, k).toBe(2);
    }
    expect(saGo.ok, saGo.error).toBe(true);
    expect(sa.findings).toEqual([]);
  });

  it("KTHW's real defects come out as warnings", () => {
    const warned = Object.fromEntries([...judged].map(([k, j]) => [k, [...new Set(j.hw.warnings.map((w) => w.code))].sort()]));
    // Every leaf ends seconds after the CA (3653 days for all, issued one after the other): the
    // CA's own expiry, not worth a warning (outlives-ca needs more than a day).
    expect(warned).toEqual({
      'kube-apiserver serving kube-api-server.crt': ['san-expected-missing'],
      'kube-apiserver client kube-api-server.crt': [],
      'kubelet serving node-0.crt': ['ns-cert-type'],
      'kubelet client node-0.crt': [],
      'kubelet serving node-1.crt': ['ns-cert-type'],
      'kubelet client node-1.crt': [],
      'admin (kubectl) client admin.crt': [],
      'kube-proxy client kube-proxy.crt': [],
      'kube-scheduler client kube-scheduler.crt': ['identity-o'],
      'kube-controller-manager client kube-controller-manager.crt': [],
    });
    const msg = (k: string, code: string) => judged.get(k)!.hw.warnings.find((w) => w.code === code)!.message;
    expect(msg('kube-scheduler client kube-scheduler.crt', 'identity-o')).toContain('system:system:kube-scheduler');
    expect(msg('kube-apiserver serving kube-api-server.crt', 'san-expected-missing')).toBe(
      "lacks kubernetes.default.svc.cluster.local, which hardway's model expects kube-apiserver to be reached at (hardway's rule; clients using that name are refused)",
    );
    expect(msg('kubelet serving node-0.crt', 'ns-cert-type')).toContain('nsCertType does not include server');
    expect(sa.warnings).toEqual([]);
  });

  it('the nsCertType warning is real: OpenSSL refuses node-0.crt as a server certificate, not as a client one', async () => {
    const verify = (purpose: string, cert: string) =>
      openssl('verify', '-purpose', purpose, '-CAfile', 'ca.crt', cert).then(
        () => 'ok',
        (e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`,
      );
    expect(await verify('sslserver', 'node-0.crt')).toMatch(/unsuitable certificate purpose/);
    expect(await verify('sslclient', 'node-0.crt')).toBe('ok');
    expect(await verify('sslserver', 'kube-api-server.crt')).toBe('ok');
  });
});
