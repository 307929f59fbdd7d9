// The library's own rules and plumbing, which the Go oracle does not speak to: identities, the
// model's names, fix wording, kubeconfig file lists, placement of system:masters credentials.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { pemBlocks } from './cert.ts';
import { judgeCredential } from './judge.ts';
import { resolveKubeconfig } from './kubeconfig.ts';
import { judgeMastersCredentialOnWorker, judgeMastersKubeconfigOnWorker } from './placement.ts';
import { EKU, forge, genKey } from './testing/forge.ts';
import type { CredentialInput } from './types.ts';
import { ipString, parseIP } from './verify.ts';

const caKey = genKey({ kind: 'rsa', bits: 2048 });
const leafKey = genKey({ kind: 'rsa', bits: 2048 });
const ca = forge({ subject: { cn: 'Kubernetes' }, key: caKey, bc: { ca: true } });
const inter = forge({ subject: { cn: 'Kubernetes Intermediate' }, key: genKey({ kind: 'rsa', bits: 2048 }), issuer: ca, bc: { ca: true } });
const kubelet = forge({
  subject: { cn: 'system:node:node-1', o: ['system:nodes'] },
  key: leafKey,
  issuer: ca,
  eku: [EKU.serverAuth, EKU.clientAuth],
  dns: ['node-1'],
  ips: ['10.240.0.21'],
});
const admin = forge({ subject: { cn: 'admin', o: ['system:masters'] }, key: leafKey, issuer: ca, eku: [EKU.clientAuth] });
const trust = [{ path: '/var/lib/kubernetes/ca.pem', pem: ca.pem, source: 'kube-apiserver --client-ca-file' }];

const input = (over: Partial<CredentialInput> = {}): CredentialInput => ({
  host: 'node-1',
  component: 'kubelet',
  purpose: 'client',
  source: 'kubelet --kubeconfig',
  trust,
  cert: { path: '/var/lib/kubernetes/kubelet/node-1.pem', pem: kubelet.pem },
  key: { path: '/var/lib/kubernetes/kubelet/node-1-key.pem', pem: leafKey.pem },
  ...over,
});
const codes = (j: { findings: { code: string }[] }) => j.findings.map((f) => f.code);

describe("identity and names: hardway's own rules", () => {
  it('passes a kubelet that is system:node:<name> in system:nodes', () => {
    const j = judgeCredential(input({ expectedIdentity: { cn: 'system:node:node-1', o: ['system:nodes'] } }));
    expect(j.findings).toEqual([]);
    expect(j.warnings).toEqual([]);
    expect(j.examined).toBe(2);
    expect(j.chain?.map((l) => l.path)).toEqual(['/var/lib/kubernetes/kubelet/node-1.pem', '/var/lib/kubernetes/ca.pem']);
  });

  it('fails a wrong CN and a missing group, naming both', () => {
    const j = judgeCredential(input({ expectedIdentity: { cn: 'system:node:node-2', o: ['system:nodes', 'extra'] } }));
    expect(codes(j)).toEqual(['identity-cn', 'identity-o']);
    expect(j.findings[0]!.message).toContain('"system:node:node-1"');
    expect(j.findings[1]!.message).toContain('"extra"');
  });

  it('only warns about the group when RBAC binds the component by user name', () => {
    const j = judgeCredential(input({ expectedIdentity: { cn: 'system:node:node-1', o: ['system:kube-scheduler'], oAdvisory: true } }));
    expect(j.findings).toEqual([]);
    expect(j.warnings.map((w) => w.code)).toEqual(['identity-o']);
  });

  it('fails a component certificate that is also in system:masters', () => {
    const j = judgeCredential(input({ cert: { path: '/x.pem', pem: admin.pem }, expectedIdentity: { cn: 'admin' } }));
    expect(codes(j)).toEqual(['identity-o']);
    expect(j.findings[0]!.message).toContain('cluster-admin');
  });

  it('warns (does not fail) about names the model expects and clients do not use', () => {
    const j = judgeCredential(
      input({ purpose: 'serving', names: ['node-1', '10.240.0.21'], expectedNames: ['node-1.kubernetes.local', '10.240.0.21'] }),
    );
    expect(j.findings).toEqual([]);
    expect(j.warnings.map((w) => [w.code, w.message.split(',')[0]])).toEqual([['san-expected-missing', 'lacks node-1.kubernetes.local']]);
  });
});

describe('files as found on a host', () => {
  it('names an absent certificate, key or trust file', () => {
    expect(codes(judgeCredential(input({ cert: { path: '/a.pem', pem: undefined } })))).toEqual(['missing']);
    expect(judgeCredential(input({ key: { path: '/k.pem', pem: undefined } })).findings.map((f) => [f.code, f.subject])).toEqual([
      ['missing', '/k.pem'],
    ]);
    expect(
      judgeCredential(input({ trust: [{ path: '/ca.pem', pem: undefined, source: 'x' }] })).findings.map((f) => [f.code, f.subject]),
    ).toEqual([['missing', '/ca.pem']]);
  });

  it('reads a trust file with a certificate Go cannot parse as x509.CertPool does: skipped, with a warning', () => {
    const broken = ca.pem.replace(/^(-----BEGIN CERTIFICATE-----\n)(.{8})/m, '$1AAAAAAAA');
    const j = judgeCredential(input({ trust: [{ path: '/ca.pem', pem: broken + ca.pem, source: 'x' }] }));
    expect(j.findings).toEqual([]);
    expect(j.warnings.map((w) => [w.code, w.subject])).toEqual([['trust-partly-unreadable', '/ca.pem (certificate 1)']]);
  });

  it('names a bundled intermediate by its place in the file', () => {
    const leaf = forge({ subject: { cn: 'system:node:node-1' }, key: leafKey, issuer: inter, eku: [EKU.clientAuth] });
    const j = judgeCredential(input({ cert: { path: '/c.pem', pem: leaf.pem + inter.pem } }));
    expect(j.findings).toEqual([]);
    expect(j.chain?.map((l) => l.path)).toEqual(['/c.pem', '/c.pem (certificate 2 of the bundle)', '/var/lib/kubernetes/ca.pem']);
  });

  it('reads PEM as Go does: text around blocks, CRLF line ends', () => {
    expect(pemBlocks(`subject=CN=x\r\n${ca.pem.replace(/\n/g, '\r\n')}trailing`).map((b) => b.type)).toEqual(['CERTIFICATE']);
  });
});

describe('fixes are worded for the cluster as built', () => {
  const j = (fix: CredentialInput['fix']) =>
    judgeCredential(input({ purpose: 'serving', names: ['10.32.0.1'], ...(fix ? { fix } : {}) })).findings[0]!;
  it('manual: names the file, the SAN to add and the CA', () => {
    expect(j(undefined).fix).toBe(
      're-issue /var/lib/kubernetes/kubelet/node-1.pem with subjectAltName IP:10.32.0.1 from the CA in /var/lib/kubernetes/ca.pem',
    );
    expect(j('manual').fix).not.toContain('hardway');
  });
  it('hardway: re-render, for clusters hardway rendered', () => {
    expect(j('hardway').fix).toBe('re-render the PKI (hardway render) and copy it to node-1');
  });
  it('a callback gets the context and the default text', () => {
    const f = j((req, def) => `${req.code} on ${req.host}: ${def.split(' ')[0]}`);
    expect(f.fix).toBe('san-missing on node-1: re-issue');
  });
});

describe('kubeconfigs: the files they reference, credentials no component could use', () => {
  const read = (files: Record<string, string>) => (p: string) => files[p];
  it("lists referenced files resolved against the kubeconfig's folder and reads them", async () => {
    const text = stringify({
      clusters: [
        { name: 'c', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority': '../ca.pem', 'tls-server-name': 'kubernetes' } },
      ],
      users: [{ name: 'u', user: { 'client-certificate': 'u.pem', 'client-key': '/etc/keys/u-key.pem' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    });
    const r = await resolveKubeconfig(
      text,
      '/var/lib/kubelet/kubeconfig',
      read({ '/var/lib/ca.pem': ca.pem, '/var/lib/kubelet/u.pem': admin.pem, '/etc/keys/u-key.pem': leafKey.pem }),
    );
    expect(r.findings).toEqual([]);
    expect(r.files).toEqual(['/var/lib/ca.pem', '/var/lib/kubelet/u.pem', '/etc/keys/u-key.pem']);
    expect(r.cluster).toMatchObject({
      server: 'https://10.0.0.1:6443',
      serverName: 'kubernetes',
      ca: { path: '/var/lib/ca.pem', pem: ca.pem },
    });
    expect(r.user?.cert?.pem).toBe(admin.pem);
  });

  it('accepts a token-only user; names a key without a certificate and a user without any credential', async () => {
    const doc = (user: Record<string, unknown>) =>
      stringify({
        clusters: [
          { name: 'c', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': Buffer.from(ca.pem).toString('base64') } },
        ],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      });
    expect((await resolveKubeconfig(doc({ token: 't' }), '/k', read({}))).findings).toEqual([]);
    expect(codes(await resolveKubeconfig(doc({ 'client-key-data': Buffer.from(leafKey.pem).toString('base64') }), '/k', read({})))).toEqual(
      ['kubeconfig-no-credential'],
    );
    expect(codes(await resolveKubeconfig(doc({}), '/k', read({})))).toEqual(['kubeconfig-no-credential']);
  });

  it('warns about insecure-skip-tls-verify and a missing CA; an absent kubeconfig is missing', async () => {
    const doc = (cluster: Record<string, unknown>) =>
      stringify({
        clusters: [{ name: 'c', cluster }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      });
    expect(
      (await resolveKubeconfig(doc({ server: 'https://a:6443', 'insecure-skip-tls-verify': true }), '/k', read({}))).warnings.map(
        (w) => w.code,
      ),
    ).toEqual(['kubeconfig-insecure']);
    expect((await resolveKubeconfig(doc({ server: 'https://a:6443' }), '/k', read({}))).warnings.map((w) => w.code)).toEqual([
      'kubeconfig-no-ca',
    ]);
    expect(codes(await resolveKubeconfig(undefined, '/k', read({})))).toEqual(['missing']);
  });
});

describe('system:masters credentials on workers (for the security suite)', () => {
  const base = { host: 'node-1', where: '/root/.kube/config', cert: { path: '/root/admin.pem', pem: admin.pem } };
  it('is a finding with the key, on a worker', () => {
    const j = judgeMastersCredentialOnWorker({ ...base, role: 'worker', key: { path: '/root/admin-key.pem', pem: leafKey.pem } });
    expect(codes(j)).toEqual(['masters-credential-on-worker']);
    expect(j.findings[0]!.fix).toContain('delete /root/.kube/config from node-1');
  });
  it('counts a key in the same file', () => {
    expect(
      codes(judgeMastersCredentialOnWorker({ ...base, role: 'worker', cert: { path: '/root/admin.pem', pem: admin.pem + leafKey.pem } })),
    ).toEqual(['masters-credential-on-worker']);
  });
  it("reads a kubeconfig's current user", async () => {
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const text = stringify({
      clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64(ca.pem) } }],
      users: [{ name: 'admin', user: { 'client-certificate-data': b64(admin.pem), 'client-key-data': b64(leafKey.pem) } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'admin' } }],
      'current-context': 'x',
    });
    const k = await resolveKubeconfig(text, '/home/ops/.kube/config', () => undefined);
    expect(judgeMastersKubeconfigOnWorker(k, 'node-2', 'worker').findings.map((f) => [f.code, f.subject])).toEqual([
      ['masters-credential-on-worker', '/home/ops/.kube/config'],
    ]);
  });

  it('only warns without a matching key, and says nothing on a master or for other groups', () => {
    const noKey = judgeMastersCredentialOnWorker({
      ...base,
      role: 'worker',
      key: { path: '/k', pem: genKey({ kind: 'ec', curve: 'P-256' }).pem },
    });
    expect([codes(noKey), noKey.warnings.map((w) => w.code)]).toEqual([[], ['masters-credential-on-worker']]);
    expect(judgeMastersCredentialOnWorker({ ...base, role: 'master', key: { path: '/k', pem: leafKey.pem } }).findings).toEqual([]);
    expect(
      judgeMastersCredentialOnWorker({
        ...base,
        role: 'worker',
        cert: { path: '/c', pem: kubelet.pem },
        key: { path: '/k', pem: leafKey.pem },
      }).findings,
    ).toEqual([]);
  });
});

describe("addresses as Go's net.ParseIP reads them", () => {
  it.each([
    ['10.32.0.1', '10.32.0.1'],
    ['::1', '::1'],
    ['2001:DB8::0:1', '2001:db8::1'],
    ['::ffff:10.32.0.1', '10.32.0.1'],
    ['fe80::1:0:0:2', 'fe80::1:0:0:2'],
  ])('%s is %s', (a, b) => expect(ipString(parseIP(a)!)).toBe(b));
  it.each(['010.32.0.1', '10.32.0', '256.1.1.1', '1::2::3', 'node-1', '[::1]'])('%s is not an address', (a) =>
    expect(parseIP(a)).toBeUndefined(),
  );
});
