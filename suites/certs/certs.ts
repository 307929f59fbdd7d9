// The certs suite: the seed's "Отладка сертификатов" (cfssl-certinfo by hand) made automatic, and
// made to agree with the components themselves: every credential the cluster's components use
// (found by discovery: their flags, configs and kubeconfigs) is judged as Go's crypto/x509 and
// crypto/tls judge it, against the trust file of the peer that verifies it, for the names that
// peer connects to (credentials.ts, harness/pki/x509). The checks below report those findings by
// kind; hardway's own rules (identities RBAC expects, names the model expects, placement) are
// named as such in each finding. README: "certs".
import { CODES } from '../../harness/pki/x509/index.ts';
import { isPrivateKeyPem, parseCertificates, publicKeyDerOf } from '../../harness/pki/keys.ts';
import { type Finding, type Outcome, type Suite, hostCheck, inconclusive, notApplicable, outcome } from '../../harness/verify/check.ts';
import { fileOn, fileStateOn, judgeHost, listFilesOn, prefetch } from './credentials.ts';

const codes = (list: string[]) => Object.fromEntries(list.map((c) => [c, (CODES as Record<string, { what: string }>)[c]?.what ?? c]));

type Judged = Awaited<ReturnType<typeof judgeHost>>;

/** What a check looks at on a host: how many of it the judgement judged, and why none is not-applicable. */
interface Looks {
  count: (j: Judged) => number;
  none: (host: string) => string;
}
const CREDENTIALS: Looks = { count: (j) => j.credentials, none: (host) => `no component of ${host} uses a certificate` };

/** A check reporting the judgement's findings (and warnings) whose codes it owns. */
function byCodes(id: string, title: string, owned: string[], warn: string[] = [], looks: Looks = CREDENTIALS) {
  return hostCheck({
    id,
    title,
    on: {},
    codes: codes([...owned, ...warn]),
    async run(ctx, h): Promise<Outcome> {
      if (!h.facts.components.length) return notApplicable(`discovery found no Kubernetes component on ${h.name}`);
      const j = await judgeHost(ctx, h.name);
      const n = looks.count(j);
      const findings = j.findings.filter((f) => owned.includes(f.code));
      // Only what this check judges counts: a host with only client certificates has nothing for
      // certs.sans to look at (the other checks report the rest of the judgement).
      if (!n && !findings.length) return notApplicable(looks.none(h.name));
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
  [],
  {
    count: (j) => j.identities,
    none: (host) =>
      `no client certificate on ${host} whose identity RBAC binds (a kubelet, kube-proxy, controller manager, scheduler or admin kubeconfig)`,
  },
);
const sans = byCodes(
  'certs.sans',
  'serving certificates cover every name and address their clients connect to',
  ['san-missing'],
  ['san-expected-missing'],
  { count: (j) => j.serving, none: (host) => `no serving certificate on ${host}` },
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
  { count: (j) => j.kubeconfigs, none: (host) => `no component of ${host} uses a kubeconfig` },
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

/** The checks of what sits on a worker do not apply to a host that is also a master. */
export function alsoMaster(ctx: Parameters<typeof judgeHost>[0], host: string): Outcome | undefined {
  return ctx.cluster.masters.some((m) => m.host === host)
    ? notApplicable(`${host} is also a master: its CA key and admin credential belong there`)
    : undefined;
}

/** The files a check could not read, as the reason it cannot tell. */
export function unreadableFiles(host: string, paths: string[], what: string): string {
  return `cannot tell whether ${what}: ${paths.join(', ')} on ${host} ${paths.length > 1 ? 'exist but are' : 'exists but is'} not readable by hardway's user (connect as root, or with sudo)`;
}

const caKeyPlacement = hostCheck({
  id: 'certs.ca-key-placement',
  title: "no CA's private key sits on a worker (under any name, wherever its components keep keys)",
  on: { role: 'worker' },
  codes: { 'ca-key-on-worker': 'the private key of a CA the cluster trusts is on a worker' },
  async run(ctx, h) {
    const master = alsoMaster(ctx, h.name);
    if (master) return master;
    if (!h.facts.components.length) return notApplicable(`discovery found no Kubernetes component on ${h.name}`);
    // Every key file the host's components use, and every PEM key in the folders they keep them.
    const dirs = [...new Set(h.facts.components.flatMap((c) => c.files.map((f) => f.path.replace(/\/[^/]*$/, ''))))].filter(
      (d) => d && d !== '/',
    );
    const files = [
      ...new Set((await Promise.all(dirs.map((d) => listFilesOn(ctx, h.name, d)))).flat().filter((p) => /\.(pem|key|crt)$/.test(p))),
    ];
    await prefetch(ctx, h.name, files);
    const keys: { path: string; pub?: Buffer }[] = [];
    const unreadable: string[] = [];
    for (const path of files) {
      const f = await fileStateOn(ctx, h.name, path);
      if (f.state === 'unreadable') unreadable.push(path);
      if (f.state !== 'present' || !isPrivateKeyPem(f.text)) continue;
      try {
        keys.push({ path, pub: publicKeyDerOf(f.text) });
      } catch {
        keys.push({ path });
      }
    }
    const cas = keys.length ? await clusterCaKeys(ctx) : [];
    const findings: Finding[] = [];
    for (const k of keys) {
      const ca = k.pub && cas.find((c) => c.der.equals(k.pub!));
      if (ca)
        findings.push({
          code: 'ca-key-on-worker',
          host: h.name,
          subject: k.path,
          message: `is the private key of the CA in ${ca.path}: anyone with root on ${h.name} can mint cluster-admin certificates`,
          fix: 'delete it: CA keys belong on the masters (or offline), never on a worker',
        });
    }
    // A file hardway may not read could be a CA's key: without a finding the check cannot tell
    // (findings fail it first; security.ca-key-on-workers may turn accepted ones into warnings).
    if (unreadable.length) {
      return outcome(findings, keys.length, { inconclusive: unreadableFiles(h.name, unreadable, "a CA's private key sits on it") });
    }
    if (!keys.length) return notApplicable(`no private key in ${dirs.join(', ') || 'any folder of its components'} on ${h.name}`);
    // No CA certificate to compare with: "no key is a CA's" would be said of nothing.
    if (!cas.length)
      return inconclusive(
        `no CA certificate could be read from the cluster's trust files (the client, kubelet, etcd and root CAs its components name), so the ${keys.length} private key${keys.length > 1 ? 's' : ''} on ${h.name} cannot be compared with any CA`,
        keys.length,
      );
    return outcome(findings, keys.length);
  },
});

export const certsSuite: Suite = {
  name: 'certs',
  title: "Certificates as Go's TLS stack judges them: presence, chains, validity, keys, usages, identities, names, kubeconfigs, CA keys",
  dependsOn: [],
  checks: [present, chain, validity, keyMatch, usage, identity, sans, kubeconfig, caKeyPlacement],
};
