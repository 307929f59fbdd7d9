// The proof: hardway's verdict on every credential of a generated corpus equals Go's. Each
// variant is judged twice: by the library (judgeCredential, judgeKubeconfig,
// judgeServiceAccountKeys) and by the Go oracle (oracle/main.go: crypto/x509 Verify for the role,
// a real crypto/tls handshake over 127.0.0.1, client-go's clientcmd, keyutil). Pass/fail must
// agree, and a failure's codes must be the codes of Go's reason. Without Go the tests fail.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readCertificates } from './cert.ts';
import type { Code } from './codes.ts';
import { judgeCredential } from './judge.ts';
import { judgeKubeconfig } from './kubeconfig.ts';
import { type BuiltOracle, type OracleCase, type OracleResult, buildOracle, codesForGoError, runOracle } from './oracle.ts';
import { judgeServiceAccountKeys } from './service-account.ts';
import { EKU, type Forged, KU, type Key, forge, genKey, toPem } from './testing/forge.ts';
import type { Finding, Purpose } from './types.ts';
import { Pool, goVerify } from './verify.ts';

const DAY = 86400_000;
const NOW = new Date();
const ago = (d: number) => new Date(NOW.getTime() - d * DAY);
const ahead = (d: number) => new Date(NOW.getTime() + d * DAY);
const NAMES = ['127.0.0.1', 'server.kubernetes.local'];
const SANS = { dns: ['server.kubernetes.local', 'kubernetes'], ips: ['127.0.0.1', '10.32.0.1'] };

interface Fixtures {
  dir: string;
  keys: Record<'ca' | 'ca2' | 'foreign' | 'inter' | 'leaf' | 'other' | 'sa' | 'sa2', Key> &
    Record<'rsa512' | 'rsa768' | 'rsa1024' | 'rsa4096' | 'p256' | 'p384' | 'p224' | 'ed', Key>;
  ca: Forged;
  inter: Forged;
  /** The apiserver stand-in of the kubeconfig cases: its serving pair from `ca`. */
  apiserver: Forged;
}

interface Built {
  oracle: OracleCase;
  judge: () => Promise<{ findings: Finding[]; warnings: Finding[] }>;
  /** For pair cases: what goVerify is fed, to compare Go's Verify text with the port's. */
  pair?: { cert: string; trust: string; purpose: Purpose; names: string[] };
}

interface Variant {
  id: string;
  /** ok, or the one finding code Go's reason corresponds to. */
  expect: 'ok' | Code;
  /** Warnings hardway must give (they never fail a verdict). */
  warn?: Code[];
  build: (fx: Fixtures, id: string) => Promise<Built> | Built;
}

function pair(opts: {
  cert: Forged | string;
  key?: Key | string;
  trust: (Forged | string)[];
  purpose?: Purpose;
  names?: string[];
  id?: string;
}): (id: string) => Built {
  return (id) => {
    const purpose = opts.purpose ?? 'serving';
    const cert = typeof opts.cert === 'string' ? opts.cert : opts.cert.pem;
    const keyPem = opts.key === undefined ? (opts.cert as Forged).key.pem : typeof opts.key === 'string' ? opts.key : opts.key.pem;
    const trust = opts.trust.map((t) => (typeof t === 'string' ? t : t.pem)).join('');
    const names = purpose === 'serving' ? (opts.names ?? NAMES) : [];
    return {
      oracle: { id, kind: 'pair', purpose, cert, key: keyPem, trust, names, now: NOW.toISOString() },
      judge: async () =>
        judgeCredential({
          host: 'node-1',
          component: purpose === 'serving' ? 'kubelet' : 'kube-proxy',
          purpose,
          source: 'test --tls-cert-file',
          cert: { path: '/etc/test/cert.pem', pem: cert },
          key: { path: '/etc/test/key.pem', pem: keyPem },
          trust: [{ path: '/etc/test/ca.pem', pem: trust, source: 'test --client-ca-file' }],
          names,
          now: NOW,
        }),
      pair: { cert, trust, purpose, names },
    };
  };
}

const serving = (fx: Fixtures, over: Partial<Parameters<typeof forge>[0]> = {}) =>
  forge({
    subject: { cn: 'system:node:node-1', o: ['system:nodes'] },
    key: fx.keys.leaf,
    issuer: fx.ca,
    eku: [EKU.serverAuth, EKU.clientAuth],
    ...SANS,
    ...over,
  });
const client = (fx: Fixtures, over: Partial<Parameters<typeof forge>[0]> = {}) =>
  forge({
    subject: { cn: 'system:kube-proxy', o: ['system:node-proxier'] },
    key: fx.keys.leaf,
    issuer: fx.ca,
    eku: [EKU.clientAuth],
    ...over,
  });
const rootCa = (key: Key, over: Partial<Parameters<typeof forge>[0]> = {}) =>
  forge({ subject: { cn: 'Kubernetes', o: ['Kubernetes'] }, key, bc: { ca: true }, notAfter: ahead(3650), ...over });

/** A kubeconfig case: files under fx.dir/<id>/, judged by clientcmd and by judgeKubeconfig. */
function kubeconfig(
  doc: (fx: Fixtures, b64: (s: string) => string) => Record<string, unknown>,
  files: (fx: Fixtures) => Record<string, string> = () => ({}),
  clientCa?: (fx: Fixtures) => string,
) {
  return async (fx: Fixtures, id: string): Promise<Built> => {
    const dir = join(fx.dir, id);
    await mkdir(join(dir, 'pki'), { recursive: true });
    for (const [name, text] of Object.entries(files(fx))) await writeFile(join(dir, name), text);
    const path = join(dir, 'kubeconfig');
    const text = stringify(doc(fx, (s) => Buffer.from(s).toString('base64')));
    await writeFile(path, text);
    const ca = clientCa ? clientCa(fx) : fx.ca.pem;
    return {
      oracle: {
        id,
        kind: 'kubeconfig',
        kubeconfig: path,
        servingCert: fx.apiserver.pem,
        servingKey: fx.apiserver.key.pem,
        clientCA: ca,
        now: NOW.toISOString(),
      },
      judge: async () =>
        judgeKubeconfig(text, path, async (p) => readFile(p, 'utf8').catch(() => undefined), {
          component: 'kubectl',
          now: NOW,
          clientCa: [{ path: '/var/lib/kubernetes/ca.pem', pem: ca, source: 'kube-apiserver --client-ca-file' }],
          apiserverCert: { path: '/var/lib/kubernetes/kubernetes.pem', pem: fx.apiserver.pem },
          apiserverKey: { path: '/var/lib/kubernetes/kubernetes-key.pem', pem: fx.apiserver.key.pem },
        }),
    };
  };
}

const cluster = (server: string, extra: Record<string, unknown>) => ({ server, ...extra });
const standard = (
  fx: Fixtures,
  b64: (s: string) => string,
  over: { cluster?: Record<string, unknown>; user?: Record<string, unknown>; current?: string } = {},
) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    {
      name: 'kubernetes-the-hard-way',
      cluster: over.cluster ?? cluster('https://127.0.0.1:6443', { 'certificate-authority-data': b64(fx.ca.pem) }),
    },
  ],
  users: [
    {
      name: 'admin',
      user: over.user ?? {
        'client-certificate-data': b64(client(fx, { subject: { cn: 'admin', o: ['system:masters'] } }).pem),
        'client-key-data': b64(fx.keys.leaf.pem),
      },
    },
  ],
  contexts: [{ name: 'default', context: { cluster: 'kubernetes-the-hard-way', user: 'admin' } }],
  'current-context': over.current ?? 'default',
});

function sa(verify: (fx: Fixtures) => string[], signing: (fx: Fixtures) => string): (fx: Fixtures, id: string) => Built {
  return (fx, id) => {
    const v = verify(fx);
    const s = signing(fx);
    return {
      oracle: { id, kind: 'sa', verifyKeys: v, signingKey: s },
      judge: async () =>
        judgeServiceAccountKeys({
          host: 'master',
          verifyFiles: v.map((pem, i) => ({ path: `/var/lib/kubernetes/service-account-${i}.pem`, pem })),
          signingKey: { path: '/var/lib/kubernetes/service-account-key.pem', pem: s },
        }),
    };
  };
}

const P = (f: (fx: Fixtures) => Parameters<typeof pair>[0]) => (fx: Fixtures, id: string) => pair(f(fx))(id);
const withInter = (fx: Fixtures, leaf: Forged, inter = fx.inter) => leaf.pem + inter.pem;

const VARIANTS: Variant[] = [
  // ---- accepted by Go ----
  { id: 'serving-rsa2048', expect: 'ok', build: P((fx) => ({ cert: serving(fx), trust: [fx.ca] })) },
  { id: 'client-rsa2048', expect: 'ok', build: P((fx) => ({ cert: client(fx), trust: [fx.ca], purpose: 'client' })) },
  { id: 'serving-rsa4096-leaf', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { key: fx.keys.rsa4096 }), trust: [fx.ca] })) },
  { id: 'serving-ecdsa-p256-leaf', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { key: fx.keys.p256 }), trust: [fx.ca] })) },
  {
    id: 'serving-ecdsa-p384-chain',
    expect: 'ok',
    build: P((fx) => {
      const ca = rootCa(fx.keys.p384, { hash: 'sha384' });
      return { cert: serving(fx, { key: fx.keys.p384, issuer: ca, hash: 'sha384' }), trust: [ca] };
    }),
  },
  { id: 'serving-ed25519-leaf', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { key: fx.keys.ed }), trust: [fx.ca] })) },
  {
    id: 'client-ecdsa-p256',
    expect: 'ok',
    build: P((fx) => ({ cert: client(fx, { key: fx.keys.p256 }), trust: [fx.ca], purpose: 'client' })),
  },
  {
    id: 'serving-rsa1024-leaf',
    expect: 'ok',
    warn: ['rsa-key-weak'],
    build: P((fx) => ({ cert: serving(fx, { key: fx.keys.rsa1024 }), trust: [fx.ca] })),
  },
  {
    id: 'serving-rsa1024-ca',
    expect: 'ok',
    warn: ['rsa-key-weak'],
    build: P((fx) => {
      const ca = rootCa(fx.keys.rsa1024);
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  { id: 'serving-rsa-pss-signature', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { pss: true }), trust: [fx.ca] })) },
  {
    id: 'root-self-signed-with-sha1',
    expect: 'ok',
    warn: ['root-signature-weak'],
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { hash: 'sha1' });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'serving-intermediate-bundled',
    expect: 'ok',
    build: P((fx) => ({ cert: withInter(fx, serving(fx, { issuer: fx.inter })), key: fx.keys.leaf, trust: [fx.ca] })),
  },
  {
    id: 'client-intermediate-bundled',
    expect: 'ok',
    build: P((fx) => ({ cert: withInter(fx, client(fx, { issuer: fx.inter })), key: fx.keys.leaf, trust: [fx.ca], purpose: 'client' })),
  },
  {
    id: 'rotation-bundle-leaf-from-old-ca',
    expect: 'ok',
    build: P((fx) => {
      const fresh = rootCa(fx.keys.ca2);
      // Same name for both CAs and no authorityKeyIdentifier: Go tries the new CA first, then the old.
      return { cert: serving(fx, { aki: false }), trust: [fresh, fx.ca] };
    }),
  },
  {
    id: 'rotation-bundle-leaf-from-new-ca',
    expect: 'ok',
    build: P((fx) => {
      const fresh = rootCa(fx.keys.ca2);
      return { cert: serving(fx, { issuer: fresh }), trust: [fx.ca, fresh] };
    }),
  },
  { id: 'serving-without-eku-any-purpose', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { eku: [] }), trust: [fx.ca] })) },
  {
    id: 'client-without-eku-any-purpose',
    expect: 'ok',
    build: P((fx) => ({ cert: client(fx, { eku: [] }), trust: [fx.ca], purpose: 'client' })),
  },
  { id: 'client-eku-any', expect: 'ok', build: P((fx) => ({ cert: client(fx, { eku: [EKU.any] }), trust: [fx.ca], purpose: 'client' })) },
  { id: 'serving-wildcard-san', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { dns: ['*.kubernetes.local'] }), trust: [fx.ca] })) },
  {
    id: 'v1-root-ca',
    expect: 'ok',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { version: 1 });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'self-signed-leaf-trusted-directly',
    expect: 'ok',
    build: P((fx) => {
      const self = forge({ subject: { cn: 'node-1' }, key: fx.keys.leaf, eku: [EKU.serverAuth], ...SANS });
      return { cert: self, trust: [self] };
    }),
  },
  {
    id: 'leaf-outlives-its-ca',
    expect: 'ok',
    warn: ['outlives-ca'],
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { notAfter: ahead(100) });
      return { cert: serving(fx, { issuer: ca, notAfter: ahead(365) }), trust: [ca] };
    }),
  },
  {
    // Issued right after its CA with the same lifetime: ends minutes after it, no warning.
    id: 'leaf-ends-minutes-after-its-ca',
    expect: 'ok',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { notAfter: ahead(100) });
      return { cert: serving(fx, { issuer: ca, notAfter: new Date(ca.notAfter.getTime() + 10 * 60_000) }), trust: [ca] };
    }),
  },
  {
    id: 'leaf-expires-soon',
    expect: 'ok',
    warn: ['expires-soon'],
    build: P((fx) => ({ cert: serving(fx, { notAfter: ahead(10) }), trust: [fx.ca] })),
  },
  { id: 'serving-ipv6-san', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { ips: ['::1'] }), trust: [fx.ca], names: ['::1'] })) },
  {
    id: 'serving-ipv4-mapped-ipv6-san',
    expect: 'ok',
    build: P((fx) => ({
      cert: serving(fx, { ips: [], rawIps: [Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1])] }),
      trust: [fx.ca],
      names: ['127.0.0.1'],
    })),
  },
  {
    id: 'serving-dns-san-other-case',
    expect: 'ok',
    build: P((fx) => ({ cert: serving(fx, { dns: ['Server.Kubernetes.Local'] }), trust: [fx.ca], names: ['server.kubernetes.local'] })),
  },
  {
    id: 'serving-name-with-trailing-dot',
    expect: 'ok',
    build: P((fx) => ({ cert: serving(fx), trust: [fx.ca], names: ['server.kubernetes.local.'] })),
  },
  {
    id: 'serving-nscerttype-client-only',
    expect: 'ok',
    warn: ['ns-cert-type'],
    build: P((fx) => ({ cert: serving(fx, { nsCertType: 0x80 }), trust: [fx.ca] })),
  },
  {
    id: 'intermediate-as-trust-anchor',
    expect: 'ok',
    build: P((fx) => ({ cert: serving(fx, { issuer: fx.inter }), trust: [fx.inter] })),
  },
  { id: 'leaf-with-ca-true', expect: 'ok', build: P((fx) => ({ cert: serving(fx, { bc: { ca: true } }), trust: [fx.ca] })) },
  {
    id: 'ed25519-ca',
    expect: 'ok',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ed);
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'sa-one-file-with-old-and-new-keys',
    expect: 'ok',
    build: sa(
      (fx) => [fx.keys.sa2.pubPem + fx.keys.sa.pubPem],
      (fx) => fx.keys.sa.pem,
    ),
  },
  {
    id: 'kubeconfig-absolute-file-references',
    expect: 'ok',
    build: async (fx, id) =>
      kubeconfig(
        () => ({
          clusters: [
            {
              name: 'k',
              cluster: { server: 'https://server.kubernetes.local:6443', 'certificate-authority': join(fx.dir, id, 'pki/ca.pem') },
            },
          ],
          users: [
            {
              name: 'admin',
              user: { 'client-certificate': join(fx.dir, id, 'pki/admin.pem'), 'client-key': join(fx.dir, id, 'pki/admin-key.pem') },
            },
          ],
          contexts: [{ name: 'default', context: { cluster: 'k', user: 'admin' } }],
          'current-context': 'default',
        }),
        (f) => ({ 'pki/ca.pem': f.ca.pem, 'pki/admin.pem': client(f).pem, 'pki/admin-key.pem': f.keys.leaf.pem }),
      )(fx, id),
  },
  {
    id: 'sa-bare-pkix-public-key',
    expect: 'ok',
    build: sa(
      (fx) => [fx.keys.sa.pubPem],
      (fx) => fx.keys.sa.pem,
    ),
  },
  {
    id: 'sa-certificate-as-verification-key',
    expect: 'ok',
    build: sa(
      (fx) => [forge({ subject: { cn: 'service-accounts' }, key: fx.keys.sa, issuer: fx.ca }).pem],
      (fx) => fx.keys.sa.pem,
    ),
  },
  {
    id: 'sa-second-file-matches',
    expect: 'ok',
    build: sa(
      (fx) => [fx.keys.sa2.pubPem, fx.keys.sa.pubPem],
      (fx) => fx.keys.sa.pem,
    ),
  },
  {
    id: 'sa-ecdsa-p256',
    expect: 'ok',
    build: sa(
      (fx) => [fx.keys.p256.pubPem],
      (fx) => fx.keys.p256.pem,
    ),
  },
  {
    id: 'sa-private-key-as-verification-file',
    expect: 'ok',
    build: sa(
      (fx) => [fx.keys.sa.pem],
      (fx) => fx.keys.sa.pem,
    ),
  },
  { id: 'kubeconfig-embedded-data', expect: 'ok', build: kubeconfig((fx, b64) => standard(fx, b64)) },
  {
    id: 'kubeconfig-relative-file-references',
    expect: 'ok',
    build: kubeconfig(
      () => ({
        clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'pki/ca.pem' } }],
        users: [{ name: 'admin', user: { 'client-certificate': 'pki/admin.pem', 'client-key': 'pki/admin-key.pem' } }],
        contexts: [{ name: 'default', context: { cluster: 'k', user: 'admin' } }],
        'current-context': 'default',
      }),
      (fx) => ({
        'pki/ca.pem': fx.ca.pem,
        'pki/admin.pem': client(fx, { subject: { cn: 'admin', o: ['system:masters'] } }).pem,
        'pki/admin-key.pem': fx.keys.leaf.pem,
      }),
    ),
  },
  {
    id: 'kubeconfig-second-cluster-sorts-first',
    expect: 'ok',
    build: kubeconfig((fx, b64) => {
      const d = standard(fx, b64);
      const foreign = rootCa(fx.keys.foreign);
      return {
        ...d,
        clusters: [
          { name: 'aaa-staging', cluster: { server: 'https://10.9.9.9:6443', 'certificate-authority-data': b64(foreign.pem) } },
          ...d.clusters,
        ],
        users: [{ name: 'aaa-staging', user: { token: 'not-this-one' } }, ...d.users],
        contexts: [{ name: 'aaa-staging', context: { cluster: 'aaa-staging', user: 'aaa-staging' } }, ...d.contexts],
      };
    }),
  },
  {
    id: 'kubeconfig-tls-server-name',
    expect: 'ok',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, {
        cluster: {
          server: 'https://10.0.0.99:6443',
          'tls-server-name': 'server.kubernetes.local',
          'certificate-authority-data': b64(fx.ca.pem),
        },
      }),
    ),
  },
  {
    id: 'kubeconfig-token-user',
    expect: 'ok',
    build: kubeconfig((fx, b64) => standard(fx, b64, { user: { token: 'abcdef.0123456789abcdef' } })),
  },

  // ---- refused by Go ----
  {
    id: 'leaf-signed-with-sha1',
    expect: 'signature-algorithm-insecure',
    build: P((fx) => ({ cert: serving(fx, { hash: 'sha1' }), trust: [fx.ca] })),
  },
  {
    id: 'leaf-signed-with-md5',
    expect: 'signature-algorithm-insecure',
    build: P((fx) => ({ cert: serving(fx, { hash: 'md5' }), trust: [fx.ca] })),
  },
  {
    id: 'intermediate-signed-with-sha1',
    expect: 'signature-algorithm-insecure',
    build: P((fx) => {
      const inter = forge({
        subject: { cn: 'Kubernetes Intermediate' },
        key: fx.keys.inter,
        issuer: fx.ca,
        bc: { ca: true },
        hash: 'sha1',
      });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [fx.ca] };
    }),
  },
  {
    id: 'leaf-signed-with-ecdsa-sha1',
    expect: 'signature-algorithm-insecure',
    build: P((fx) => {
      const ca = rootCa(fx.keys.p384, { hash: 'sha384' });
      return { cert: serving(fx, { issuer: ca, hash: 'sha1', key: fx.keys.p256 }), trust: [ca] };
    }),
  },
  {
    id: 'rsa-pss-with-a-salt-go-does-not-take',
    expect: 'signature-algorithm-unsupported',
    build: P((fx) => ({ cert: serving(fx, { pss: true, pssSalt: 20 }), trust: [fx.ca] })),
  },
  { id: 'leaf-rsa512', expect: 'rsa-key-too-small', build: P((fx) => ({ cert: serving(fx, { key: fx.keys.rsa512 }), trust: [fx.ca] })) },
  { id: 'leaf-rsa768', expect: 'rsa-key-too-small', build: P((fx) => ({ cert: serving(fx, { key: fx.keys.rsa768 }), trust: [fx.ca] })) },
  {
    id: 'client-rsa768',
    expect: 'rsa-key-too-small',
    build: P((fx) => ({ cert: client(fx, { key: fx.keys.rsa768 }), trust: [fx.ca], purpose: 'client' })),
  },
  {
    id: 'ca-rsa512',
    expect: 'rsa-key-too-small',
    build: P((fx) => {
      const ca = rootCa(fx.keys.rsa512);
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'ca-without-basic-constraints',
    expect: 'issuer-not-ca',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { bc: null, ku: [KU.keyCertSign, KU.cRLSign] });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'ca-with-ca-false',
    expect: 'issuer-not-ca',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { bc: { ca: false }, ku: [KU.keyCertSign, KU.cRLSign] });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'ca-key-usage-without-certsign',
    expect: 'issuer-no-certsign',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { ku: [KU.digitalSignature, KU.cRLSign] });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'intermediate-with-ca-false',
    expect: 'issuer-not-ca',
    build: P((fx) => {
      const inter = forge({
        subject: { cn: 'Kubernetes Intermediate' },
        key: fx.keys.inter,
        issuer: fx.ca,
        bc: { ca: false },
        ku: [KU.keyCertSign],
      });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [fx.ca] };
    }),
  },
  {
    id: 'intermediate-key-usage-without-certsign',
    expect: 'issuer-no-certsign',
    build: P((fx) => {
      const inter = forge({
        subject: { cn: 'Kubernetes Intermediate' },
        key: fx.keys.inter,
        issuer: fx.ca,
        bc: { ca: true },
        ku: [KU.digitalSignature],
      });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [fx.ca] };
    }),
  },
  {
    id: 'v1-intermediate',
    expect: 'issuer-not-ca',
    build: P((fx) => {
      // A v1 certificate passes CheckSignatureFrom; isValid then refuses it as an intermediate.
      const inter = forge({ subject: { cn: 'Kubernetes Intermediate' }, key: fx.keys.inter, issuer: fx.ca, version: 1 });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [fx.ca] };
    }),
  },
  {
    id: 'pathlen-0-with-an-intermediate',
    expect: 'path-len-exceeded',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { bc: { ca: true, pathLen: 0 } });
      const inter = forge({ subject: { cn: 'Kubernetes Intermediate' }, key: fx.keys.inter, issuer: ca, bc: { ca: true } });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [ca] };
    }),
  },
  {
    id: 'serving-with-client-only-eku',
    expect: 'eku-missing',
    build: P((fx) => ({ cert: serving(fx, { eku: [EKU.clientAuth] }), trust: [fx.ca] })),
  },
  {
    id: 'client-with-server-only-eku',
    expect: 'eku-missing',
    build: P((fx) => ({ cert: client(fx, { eku: [EKU.serverAuth] }), trust: [fx.ca], purpose: 'client' })),
  },
  {
    id: 'client-with-code-signing-eku',
    expect: 'eku-missing',
    build: P((fx) => ({ cert: client(fx, { eku: [EKU.codeSigning] }), trust: [fx.ca], purpose: 'client' })),
  },
  {
    id: 'intermediate-eku-excludes-serving',
    expect: 'eku-ca-restricts',
    build: P((fx) => {
      const inter = forge({
        subject: { cn: 'Kubernetes Intermediate' },
        key: fx.keys.inter,
        issuer: fx.ca,
        bc: { ca: true },
        eku: [EKU.clientAuth],
      });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [fx.ca] };
    }),
  },
  {
    id: 'intermediate-missing-from-bundle',
    expect: 'chain-unknown-authority',
    build: P((fx) => ({ cert: serving(fx, { issuer: fx.inter }), trust: [fx.ca] })),
  },
  {
    id: 'foreign-ca-with-the-same-subject',
    expect: 'chain-unknown-authority',
    build: P((fx) => {
      const rogue = rootCa(fx.keys.foreign);
      return { cert: serving(fx, { issuer: rogue }), trust: [fx.ca] };
    }),
  },
  {
    id: 'unrelated-ca',
    expect: 'chain-unknown-authority',
    build: P((fx) => {
      const other = forge({ subject: { cn: 'Other CA' }, key: fx.keys.foreign, bc: { ca: true } });
      return { cert: serving(fx, { issuer: other }), trust: [fx.ca] };
    }),
  },
  {
    id: 'leaf-expired',
    expect: 'expired',
    build: P((fx) => ({ cert: serving(fx, { notBefore: ago(400), notAfter: ago(35) }), trust: [fx.ca] })),
  },
  {
    id: 'leaf-not-yet-valid',
    expect: 'not-yet-valid',
    build: P((fx) => ({ cert: serving(fx, { notBefore: ahead(10), notAfter: ahead(400) }), trust: [fx.ca] })),
  },
  {
    id: 'intermediate-expired',
    expect: 'expired',
    build: P((fx) => {
      const inter = forge({
        subject: { cn: 'Kubernetes Intermediate' },
        key: fx.keys.inter,
        issuer: fx.ca,
        bc: { ca: true },
        notBefore: ago(800),
        notAfter: ago(5),
      });
      return { cert: withInter(fx, serving(fx, { issuer: inter }), inter), key: fx.keys.leaf, trust: [fx.ca] };
    }),
  },
  {
    id: 'root-expired',
    expect: 'expired',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { notBefore: ago(800), notAfter: ago(1) });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  { id: 'san-missing-ip', expect: 'san-missing', build: P((fx) => ({ cert: serving(fx), trust: [fx.ca], names: ['10.240.0.21'] })) },
  {
    id: 'san-missing-dns',
    expect: 'san-missing',
    build: P((fx) => ({ cert: serving(fx), trust: [fx.ca], names: ['node-1.kubernetes.local'] })),
  },
  {
    id: 'cn-only-without-sans',
    expect: 'san-missing',
    build: P((fx) => ({
      cert: serving(fx, { subject: { cn: 'server.kubernetes.local' }, dns: [], ips: [] }),
      trust: [fx.ca],
      names: ['server.kubernetes.local'],
    })),
  },
  {
    id: 'ip-written-as-dns-san',
    expect: 'san-missing',
    build: P((fx) => ({ cert: serving(fx, { dns: ['127.0.0.1'], ips: [] }), trust: [fx.ca], names: ['127.0.0.1'] })),
  },
  {
    id: 'wildcard-covers-one-label-only',
    expect: 'san-missing',
    build: P((fx) => ({ cert: serving(fx, { dns: ['*.local'] }), trust: [fx.ca], names: ['server.kubernetes.local'] })),
  },
  { id: 'key-mismatch', expect: 'key-mismatch', build: P((fx) => ({ cert: serving(fx), key: fx.keys.other, trust: [fx.ca] })) },
  { id: 'key-of-another-type', expect: 'key-mismatch', build: P((fx) => ({ cert: serving(fx), key: fx.keys.p256, trust: [fx.ca] })) },
  {
    id: 'critical-unknown-extension',
    expect: 'critical-extension',
    build: P((fx) => ({
      cert: serving(fx, { extra: [{ oid: '1.3.6.1.4.1.55555.1', critical: true, value: Buffer.from([5, 0]) }] }),
      trust: [fx.ca],
    })),
  },
  {
    id: 'leaf-ecdsa-p224',
    expect: 'key-unsupported-tls',
    build: P((fx) => ({ cert: serving(fx, { key: fx.keys.p224 }), trust: [fx.ca] })),
  },
  { id: 'negative-serial-number', expect: 'unreadable', build: P((fx) => ({ cert: serving(fx, { serial: -4242n }), trust: [fx.ca] })) },
  {
    id: 'name-constraints-exclude-the-san',
    expect: 'name-constraints',
    build: P((fx) => {
      const ca = rootCa(fx.keys.ca2, { nameConstraints: { permittedDNS: ['.example.com'] } });
      return { cert: serving(fx, { issuer: ca }), trust: [ca] };
    }),
  },
  {
    id: 'trust-file-without-certificate',
    expect: 'unreadable',
    build: P((fx) => ({ cert: serving(fx), trust: ['this is not a certificate\n'] })),
  },
  {
    id: 'cert-and-key-files-switched',
    expect: 'unreadable',
    build: P((fx) => ({ cert: fx.keys.leaf.pem, key: fx.keys.leaf, trust: [fx.ca] })),
  },
  {
    id: 'kubeconfig-dangling-current-context',
    expect: 'kubeconfig-context-missing',
    build: kubeconfig((fx, b64) => standard(fx, b64, { current: 'kubernetes-admin@kubernetes' })),
  },
  {
    id: 'kubeconfig-empty-current-context',
    expect: 'kubeconfig-no-context',
    build: kubeconfig((fx, b64) => standard(fx, b64, { current: '' })),
  },
  {
    id: 'kubeconfig-missing-referenced-file',
    expect: 'missing',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, { user: { 'client-certificate': 'pki/admin.pem', 'client-key-data': b64(fx.keys.leaf.pem) } }),
    ),
  },
  {
    id: 'kubeconfig-plain-http-server',
    expect: 'kubeconfig-no-server',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, { cluster: { server: 'http://127.0.0.1:8080', 'certificate-authority-data': b64(fx.ca.pem) } }),
    ),
  },
  {
    id: 'kubeconfig-cert-without-key',
    expect: 'kubeconfig-client-key-missing',
    build: kubeconfig((fx, b64) => standard(fx, b64, { user: { 'client-certificate-data': b64(client(fx).pem) } })),
  },
  {
    id: 'kubeconfig-context-names-missing-user',
    expect: 'kubeconfig-user-missing',
    build: kubeconfig((fx, b64) => ({
      ...standard(fx, b64),
      contexts: [{ name: 'default', context: { cluster: 'kubernetes-the-hard-way', user: 'nobody' } }],
    })),
  },
  {
    id: 'kubeconfig-context-names-missing-cluster',
    expect: 'kubeconfig-cluster-missing',
    build: kubeconfig((fx, b64) => ({
      ...standard(fx, b64),
      contexts: [{ name: 'default', context: { cluster: 'elsewhere', user: 'admin' } }],
    })),
  },
  {
    id: 'kubeconfig-ca-data-and-file',
    expect: 'kubeconfig-conflict',
    build: kubeconfig(
      (fx, b64) =>
        standard(fx, b64, {
          cluster: {
            server: 'https://127.0.0.1:6443',
            'certificate-authority': 'pki/ca.pem',
            'certificate-authority-data': b64(fx.ca.pem),
          },
        }),
      (fx) => ({ 'pki/ca.pem': fx.ca.pem }),
    ),
  },
  {
    id: 'kubeconfig-ca-with-insecure-skip-verify',
    expect: 'kubeconfig-conflict',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, {
        cluster: { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true, 'certificate-authority-data': b64(fx.ca.pem) },
      }),
    ),
  },
  {
    id: 'kubeconfig-ca-is-not-the-apiservers',
    expect: 'chain-unknown-authority',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, { cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64(rootCa(fx.keys.foreign).pem) } }),
    ),
  },
  {
    id: 'kubeconfig-client-cert-from-another-ca',
    expect: 'chain-unknown-authority',
    build: kubeconfig((fx, b64) => {
      const other = forge({ subject: { cn: 'Other CA' }, key: fx.keys.foreign, bc: { ca: true } });
      return standard(fx, b64, {
        user: { 'client-certificate-data': b64(client(fx, { issuer: other }).pem), 'client-key-data': b64(fx.keys.leaf.pem) },
      });
    }),
  },
  {
    id: 'kubeconfig-server-address-not-in-sans',
    expect: 'san-missing',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, { cluster: { server: 'https://10.0.0.99:6443', 'certificate-authority-data': b64(fx.ca.pem) } }),
    ),
  },
  {
    id: 'kubeconfig-duplicate-cluster-name',
    expect: 'kubeconfig-unreadable',
    build: kubeconfig((fx, b64) => {
      const d = standard(fx, b64);
      return { ...d, clusters: [...d.clusters, ...d.clusters] };
    }),
  },
  {
    id: 'kubeconfig-bad-base64',
    expect: 'kubeconfig-unreadable',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, { cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': `${b64(fx.ca.pem)}!!` } }),
    ),
  },
  {
    id: 'kubeconfig-client-cert-expired',
    expect: 'expired',
    build: kubeconfig((fx, b64) =>
      standard(fx, b64, {
        user: {
          'client-certificate-data': b64(client(fx, { notBefore: ago(400), notAfter: ago(3) }).pem),
          'client-key-data': b64(fx.keys.leaf.pem),
        },
      }),
    ),
  },
  {
    id: 'sa-signing-key-matches-no-verification-key',
    expect: 'sa-key-mismatch',
    build: sa(
      (fx) => [fx.keys.sa2.pubPem],
      (fx) => fx.keys.sa.pem,
    ),
  },
  {
    id: 'sa-pkcs1-public-key-is-not-read',
    expect: 'unreadable',
    build: sa(
      (fx) => [toPem(fx.keys.sa.pub.export({ format: 'der', type: 'pkcs1' }), 'RSA PUBLIC KEY')],
      (fx) => fx.keys.sa.pem,
    ),
  },
  {
    id: 'sa-ed25519-signing-key',
    expect: 'unreadable',
    build: sa(
      (fx) => [fx.keys.sa.pubPem],
      (fx) => fx.keys.ed.pem,
    ),
  },
  {
    id: 'sa-rsa768-signing-key',
    expect: 'rsa-key-too-small',
    build: sa(
      (fx) => [fx.keys.rsa768.pubPem],
      (fx) => fx.keys.rsa768.pem,
    ),
  },
];

let problem: string | undefined;
let oracle: BuiltOracle;
let results: Map<string, OracleResult>;
const built = new Map<string, Built>();
let fx: Fixtures;

beforeAll(async () => {
  try {
    oracle = await buildOracle();
  } catch (e) {
    // Every test below fails with this (a throw here would only mark them skipped).
    problem = (e as Error).message;
    return;
  }
  const g = (spec: Parameters<typeof genKey>[0]) => genKey(spec);
  const rsa = () => g({ kind: 'rsa', bits: 2048 });
  const keys = {
    ca: rsa(),
    ca2: rsa(),
    foreign: rsa(),
    inter: rsa(),
    leaf: rsa(),
    other: rsa(),
    sa: rsa(),
    sa2: rsa(),
    rsa512: g({ kind: 'rsa', bits: 512 }),
    rsa768: g({ kind: 'rsa', bits: 768 }),
    rsa1024: g({ kind: 'rsa', bits: 1024 }),
    rsa4096: g({ kind: 'rsa', bits: 4096 }),
    p256: g({ kind: 'ec', curve: 'P-256' }),
    p384: g({ kind: 'ec', curve: 'P-384' }),
    p224: g({ kind: 'ec', curve: 'P-224' }),
    ed: g({ kind: 'ed25519' }),
  };
  const ca = rootCa(keys.ca);
  const inter = forge({
    subject: { cn: 'Kubernetes Intermediate', o: ['Kubernetes'] },
    key: keys.inter,
    issuer: ca,
    bc: { ca: true },
    notAfter: ahead(1800),
  });
  const apiserver = forge({
    subject: { cn: 'kubernetes', o: ['Kubernetes'] },
    key: keys.leaf,
    issuer: ca,
    eku: [EKU.serverAuth, EKU.clientAuth],
    ...SANS,
  });
  fx = { dir: await mkdtemp(join(tmpdir(), 'hardway-x509-diff-')), keys, ca, inter, apiserver };
  for (const v of VARIANTS) {
    const b = await v.build(fx, v.id);
    b.oracle.id = v.id;
    built.set(v.id, b);
  }
  results = await runOracle(oracle.path, [...built.values()].map((b) => b.oracle).concat({ id: 'info', kind: 'info' }));
}, 600_000);

afterAll(async () => {
  if (fx) await rm(fx.dir, { recursive: true, force: true });
});

describe('hardway judges credentials exactly as Go does (differential test against crypto/x509, crypto/tls and client-go)', () => {
  beforeEach(() => {
    if (problem) throw new Error(problem);
  });

  it('the Go oracle was built and judged every variant of a corpus of at least 40', () => {
    expect(oracle.path).toMatch(/x509-oracle/);
    expect(VARIANTS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(VARIANTS.map((v) => v.id)).size).toBe(VARIANTS.length);
    expect([...results.keys()].filter((k) => k !== 'info').sort()).toEqual(VARIANTS.map((v) => v.id).sort());
    // Both verdicts occur, and most failure classes: the corpus is not one-sided.
    const codes = new Set(VARIANTS.map((v) => v.expect));
    expect(codes.has('ok')).toBe(true);
    expect(codes.size).toBeGreaterThanOrEqual(25);
  });

  it("the oracle runs with Kubernetes v1.34's GODEBUG defaults (godebug default=go1.24), whatever toolchain built it", () => {
    const info = results.get('info')!.info!;
    expect(info).toMatch(/^go1\.(2[4-9]|[3-9]\d)/);
    // go1.25 turned tlssha1 off; a go1.24 default keeps it on. Newer toolchains list it as a non-default.
    if (!/^go1\.24/.test(info)) expect(info).toContain('tlssha1=1');
    expect(info).not.toMatch(/rsa1024min=0|x509negativeserial=1|x509sha1=1/);
  });

  for (const v of VARIANTS) {
    it(`${v.id}: ${v.expect === 'ok' ? 'Go accepts it' : `Go refuses it (${v.expect})`}, and so does hardway`, async () => {
      const go = results.get(v.id)!;
      const goCodes = go.ok ? [] : codesForGoError(go.error ?? '');
      // The corpus is what it claims to be: Go's own verdict.
      if (v.expect === 'ok') expect(go.ok, `Go: ${go.stage}: ${go.error}`).toBe(true);
      else {
        expect(go.ok, 'Go accepted it').toBe(false);
        expect(goCodes, `Go's reason (${go.stage}): ${go.error}`).toContain(v.expect);
      }
      const hw = await built.get(v.id)!.judge();
      const hwCodes = [...new Set(hw.findings.map((f) => f.code))].sort();
      const why = `hardway: ${hw.findings.map((f) => `${f.code} ${f.subject}: ${f.message}`).join(' | ') || 'no finding'}; Go: ${go.ok ? 'ok' : `${go.stage}: ${go.error}`}`;
      // Same verdict; a failure's codes are those of Go's reason.
      expect(hwCodes.length === 0, why).toBe(go.ok);
      for (const c of hwCodes) expect(goCodes, why).toContain(c);
      expect(hwCodes, why).toEqual(v.expect === 'ok' ? [] : [v.expect]);
      for (const w of v.warn ?? [])
        expect(
          hw.warnings.map((x) => x.code),
          why,
        ).toContain(w);
      for (const f of hw.findings) {
        expect(f.subject).not.toBe('');
        expect(f.message).not.toMatch(/\n/);
        expect(f.fix).not.toBe('');
      }
    });
  }

  it("the Verify port gives Go's own error text for every name of every pair variant", () => {
    let compared = 0;
    for (const v of VARIANTS) {
      const b = built.get(v.id)!;
      const go = results.get(v.id)!;
      if (!b.pair || go.steps.some((s) => s.stage === 'load' && s.error) || go.steps.some((s) => s.stage === 'trust' && s.error)) continue;
      const bundle = readCertificates(b.pair.cert, 'cert');
      const roots = new Pool();
      for (const c of readCertificates(b.pair.trust, 'trust', { pool: true }).certs) roots.add(c);
      const intermediates = new Pool();
      for (const c of bundle.certs.slice(1)) intermediates.add(c);
      for (const name of b.pair.names.length ? b.pair.names : ['']) {
        const step = go.steps.find((s) => s.stage === (name ? `verify:${name}` : 'verify'))!;
        const mine = goVerify(bundle.certs[0]!, {
          roots,
          intermediates,
          now: NOW,
          purpose: b.pair.purpose,
          ...(name ? { dnsName: name } : {}),
        });
        expect(mine.err?.go, `${v.id} ${name}`).toBe(step.error);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(50);
  });

  it('kubeconfigs resolve to what clientcmd resolves: server, server name, referenced files, the client certificate', async () => {
    const { createHash } = await import('node:crypto');
    let compared = 0;
    for (const v of VARIANTS) {
      const go = results.get(v.id)!;
      if (built.get(v.id)!.oracle.kind !== 'kubeconfig' || !go.resolved) continue;
      const c = built.get(v.id)!.oracle;
      const text = await readFile(c.kubeconfig!, 'utf8');
      const mine = await judgeKubeconfig(text, c.kubeconfig!, async (p) => readFile(p, 'utf8').catch(() => undefined), {
        component: 'kubectl',
        clientCa: [],
      });
      const r = mine.resolved;
      if (go.resolved.host === 'http://localhost:8080') {
        // kubectl's fallback when the context names no cluster: hardway names the cause instead.
        expect(
          mine.findings.map((f) => f.code),
          v.id,
        ).toEqual(expect.arrayContaining([expect.stringMatching(/kubeconfig-(no-context|cluster-missing)/)]));
        compared++;
        continue;
      }
      expect(r.cluster?.server, v.id).toBe(go.resolved.host);
      if (go.steps.some((s) => s.stage === 'tls-config' && !s.error)) expect(r.cluster?.serverName, v.id).toBe(go.resolved.serverName);
      if (go.resolved.caFile) expect(r.cluster?.ca?.path, v.id).toBe(go.resolved.caFile);
      if (go.resolved.certFile) expect(r.user?.cert?.path, v.id).toBe(go.resolved.certFile);
      if (go.resolved.keyFile) expect(r.user?.key?.path, v.id).toBe(go.resolved.keyFile);
      for (const f of [go.resolved.caFile, go.resolved.certFile, go.resolved.keyFile]) if (f) expect(r.files, v.id).toContain(f);
      if (go.resolved.certSha256) expect(createHash('sha256').update(r.user!.cert!.pem!).digest('hex'), v.id).toBe(go.resolved.certSha256);
      expect(r.user?.token ?? false, v.id).toBe(go.resolved.token);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });
});
