// The certs suite: the seed's "Отладка сертификатов" (cfssl-certinfo by hand) made automatic, and
// made to agree with the components themselves: every credential the cluster's components use
// (found by discovery: their flags, configs and kubeconfigs) is judged as Go's crypto/x509 and
// crypto/tls judge it, against the trust file of the peer that verifies it, for the names that
// peer connects to (credentials.ts, harness/pki/x509). The checks below report those findings by
// kind; hardway's own rules (identities RBAC expects, names the model expects, placement) are
// named as such in each finding. README: "certs".
import { CODES } from '../../harness/pki/x509/index.ts';
import { isPrivateKeyPem, parseCertificates, publicKeyDerOf } from '../../harness/pki/keys.ts';
import { type Finding, type Outcome, type Suite, hostCheck, notApplicable, outcome } from '../../harness/verify/check.ts';
import { fileOn, judgeHost } from './credentials.ts';

const codes = (list: string[]) => Object.fromEntries(list.map((c) => [c, (CODES as Record<string, { what: string }>)[c]?.what ?? c]));

/** A check reporting the judgement's findings (and warnings) whose codes it owns. */
function byCodes(
  id: string,
  title: string,
  owned: string[],
  warn: string[] = [],
  what = (j: Awaited<ReturnType<typeof judgeHost>>) => j.credentials,
) {
  return hostCheck({
    id,
    title,
    on: {},
    codes: codes([...owned, ...warn]),
    async run(ctx, h): Promise<Outcome> {
      if (!h.facts.components.length) return notApplicable(`discovery found no Kubernetes component on ${h.name}`);
      const j = await judgeHost(ctx, h.name);
      const n = what(j);
      if (!n && !j.findings.length)
        return notApplicable(`no component of ${h.name} uses a ${id === 'certs.kubeconfig' ? 'kubeconfig' : 'certificate'}`);
      const findings = j.findings.filter((f) => owned.includes(f.code));
      const warnings = j.warnings.filter((f) => warn.includes(f.code));
      return outcome(findings, n, warnings.length ? { warnings } : {});
    },
  });
}

const present = byCodes(
  'certs.present',
  'every certificate, key and trust file a component names is there and readable',
  ['missing', 'unreadable'],
  ['trust-partly-unreadable'],
);
const chain = byCodes(
  'certs.chain',
  "every certificate chains to the trust file of the peer that verifies it, by Go's rules (CA, keyCertSign, path length, algorithms, key sizes)",
  [
    'chain-unknown-authority',
    'issuer-not-ca',
    'issuer-no-certsign',
    'path-len-exceeded',
    'signature-algorithm-insecure',
    'signature-algorithm-unsupported',
    'rsa-key-too-small',
    'key-unsupported-tls',
    'eku-ca-restricts',
    'name-constraints',
    'critical-extension',
  ],
  ['rsa-key-weak', 'root-signature-weak', 'policies-unchecked', 'name-constraints-unchecked'],
);
const validity = byCodes(
  'certs.validity',
  'every certificate of every chain is inside its validity window (warns before expiry, and where a leaf outlives its CA)',
  ['expired', 'not-yet-valid'],
  ['expires-soon', 'outlives-ca'],
);
const keyMatch = byCodes(
  'certs.key-match',
  'every private key matches its certificate; the service-account signing key is one the apiserver verifies with',
  ['key-mismatch', 'sa-key-mismatch'],
);
const usage = byCodes(
  'certs.usage',
  'certificates carry the extended key usages their role needs (serverAuth, clientAuth)',
  ['eku-missing'],
  ['ns-cert-type'],
);
const identity = byCodes(
  'certs.identity',
  "client certificates carry the identity RBAC expects (kubelets: system:node:<name> in system:nodes) — hardway's rule",
  ['identity-cn', 'identity-o'],
);
const sans = byCodes(
  'certs.sans',
  'serving certificates cover every name and address their clients connect to',
  ['san-missing'],
  ['san-expected-missing'],
);
const kubeconfig = byCodes(
  'certs.kubeconfig',
  'every kubeconfig reads as client-go reads it (current context, embedded or referenced files) and gives its component a credential',
  [
    'kubeconfig-unreadable',
    'kubeconfig-no-context',
    'kubeconfig-context-missing',
    'kubeconfig-cluster-missing',
    'kubeconfig-user-missing',
    'kubeconfig-no-server',
    'kubeconfig-conflict',
    'kubeconfig-client-key-missing',
    'kubeconfig-no-credential',
  ],
  ['kubeconfig-insecure', 'kubeconfig-no-ca'],
  (j) => j.kubeconfigs,
);

/** The CA certificates the cluster trusts (every trust file its components name). */
async function clusterCaKeys(ctx: Parameters<typeof judgeHost>[0]): Promise<{ path: string; der: Buffer }[]> {
  return ctx.memo('certs:ca-keys', async () => {
    const out: { path: string; der: Buffer }[] = [];
    for (const h of ctx.facts.hosts) {
      for (const c of h.components) {
        for (const f of c.files.filter((x) =>
          ['client-ca', 'kubelet-ca', 'etcd-ca', 'peer-ca', 'root-ca', 'cluster-signing-cert'].includes(x.role),
        )) {
          const pem = await fileOn(ctx, h.host, f.path);
          for (const cert of pem ? parseCertificates(pem) : [])
            out.push({ path: `${h.host}:${f.path}`, der: Buffer.from(cert.publicKey.rawData) });
        }
      }
    }
    return out;
  });
}

const caKeyPlacement = hostCheck({
  id: 'certs.ca-key-placement',
  title: "no CA's private key sits on a worker (under any name, wherever its components keep keys)",
  on: { role: 'worker' },
  codes: { 'ca-key-on-worker': 'the private key of a CA the cluster trusts is on a worker' },
  async run(ctx, h) {
    if (!h.facts.components.length) return notApplicable(`discovery found no Kubernetes component on ${h.name}`);
    const cas = await clusterCaKeys(ctx);
    // Every key file the host's components use, and every PEM key in the folders they keep them.
    const dirs = [...new Set(h.facts.components.flatMap((c) => c.files.map((f) => f.path.replace(/\/[^/]*$/, ''))))].filter(
      (d) => d && d !== '/',
    );
    const files = [
      ...new Set((await Promise.all(dirs.map((d) => h.access.listFiles(d)))).flat().filter((p) => /\.(pem|key|crt)$/.test(p))),
    ];
    const findings: Finding[] = [];
    let examined = 0;
    for (const path of files) {
      const text = await fileOn(ctx, h.name, path);
      if (!text || !isPrivateKeyPem(text)) continue;
      examined++;
      let pub: Buffer;
      try {
        pub = publicKeyDerOf(text);
      } catch {
        continue;
      }
      const ca = cas.find((c) => c.der.equals(pub));
      if (ca)
        findings.push({
          code: 'ca-key-on-worker',
          host: h.name,
          subject: path,
          message: `is the private key of the CA in ${ca.path}: anyone with root on ${h.name} can mint cluster-admin certificates`,
          fix: 'delete it: CA keys belong on the masters (or offline), never on a worker',
        });
    }
    if (!examined) return notApplicable(`no private key in ${dirs.join(', ') || 'any folder of its components'} on ${h.name}`);
    return outcome(findings, examined);
  },
});

export const certsSuite: Suite = {
  name: 'certs',
  title: "Certificates as Go's TLS stack judges them: presence, chains, validity, keys, usages, identities, names, kubeconfigs, CA keys",
  dependsOn: [],
  checks: [present, chain, validity, keyMatch, usage, identity, sans, kubeconfig, caKeyPlacement],
};
