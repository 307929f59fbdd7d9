// Issues the cluster's PKI from the certificate plan with @peculiar/x509 (no cfssl needed).
// Existing CA and keys are reused so that re-rendering never silently invalidates what is
// deployed: the seed warns that a new CA means re-issuing and re-copying everything. So a CA is
// never replaced implicitly: a missing half, a pair that does not match or an unreadable file is
// refused naming the file; only an explicit rotation (no `existing`) makes a new one.
import { randomBytes } from 'node:crypto';
import type { CertSpec, CertPlan, Usage } from './plan.ts';
import { type KeyMaterial, RSA_SIGNING, generateRsaKey, publicKeyDerOf, readPrivateKey, x509 } from './keys.ts';
import { generateProfileKey, issueProfiledCa, issueProfiledLeaf } from './profile.ts';

/** Reused PKI material that cannot be used as it is: one line naming the file and the fix. */
export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}

export interface IssuedCert {
  spec: CertSpec;
  certPem: string;
  key: KeyMaterial;
}

export interface Pki {
  ca: IssuedCert;
  /** Issued certificates by spec id. */
  certs: Map<string, IssuedCert>;
}

/** Previously issued material, read back from a PKI folder (PEM text by spec id). */
export interface ExistingPki {
  caCert?: string;
  caKey?: string;
  keys: Map<string, string>;
  /** Where each piece was read from, for messages (default: ca.pem, ca-key.pem, <id>-key.pem). */
  files?: { caCert: string; caKey: string; key: (id: string) => string };
  /** An earlier rendering had a CA: its absence is then an error, not a reason for a new one. */
  hadCa?: boolean;
}

const ROTATE = "or pass --rotate-ca to issue a new CA and keys (then copy every host's files again)";

/** The CA to reuse, checked: both halves present, readable, a CA, and belonging together. */
async function reusedCa(plan: CertPlan, e: ExistingPki): Promise<IssuedCert | undefined> {
  const f = e.files ?? { caCert: 'ca.pem', caKey: 'ca-key.pem', key: (id: string) => `${id}-key.pem` };
  if (!e.caCert && !e.caKey) {
    if (e.hadCa)
      throw new PkiError(
        `${f.caCert} and ${f.caKey}: missing, but this folder was rendered with a CA: a new CA would invalidate every certificate on every host; fix: restore both from your backup, ${ROTATE}`,
      );
    return undefined;
  }
  if (!e.caKey)
    throw new PkiError(
      `${f.caKey}: missing, but ${f.caCert} is there: a new CA would invalidate every certificate issued with it; fix: restore ca-key.pem from your backup, ${ROTATE}`,
    );
  if (!e.caCert) throw new PkiError(`${f.caCert}: missing, but ${f.caKey} is there; fix: restore ca.pem from your backup, ${ROTATE}`);
  let key: KeyMaterial;
  try {
    key = await readPrivateKey(e.caKey);
  } catch (err) {
    throw new PkiError(`${f.caKey}: ${(err as Error).message}; fix: restore the CA key from your backup, ${ROTATE}`);
  }
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(e.caCert);
  } catch (err) {
    throw new PkiError(
      `${f.caCert}: not a readable PEM certificate (${(err as Error).message.split('\n')[0]}); fix: restore it from your backup, ${ROTATE}`,
    );
  }
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca)
    throw new PkiError(`${f.caCert}: not a CA certificate (basicConstraints CA:TRUE missing); fix: restore the cluster CA, ${ROTATE}`);
  if (!Buffer.from(cert.publicKey.rawData).equals(publicKeyDerOf(e.caKey))) {
    throw new PkiError(
      `${f.caCert} does not belong to ${f.caKey} (another public key): certificates signed with the key would not verify against ca.pem; fix: restore the matching pair, ${ROTATE}`,
    );
  }
  return { spec: plan.ca, certPem: e.caCert, key };
}

const DAY = 24 * 3600 * 1000;

function serial(): string {
  // Positive 128-bit serial, as RFC 5280 asks.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function subjectOf(spec: CertSpec): string {
  return spec.o ? `CN=${spec.cn}, O=${spec.o}, OU=hardway` : `CN=${spec.cn}, OU=hardway`;
}

const EKU: Record<Usage, string> = { server: x509.ExtendedKeyUsage.serverAuth, client: x509.ExtendedKeyUsage.clientAuth };

export interface IssueOptions {
  notBefore?: Date;
  notAfter?: Date;
}

export async function issueCa(spec: CertSpec, key?: KeyMaterial, opts: IssueOptions = {}): Promise<IssuedCert> {
  if (spec.profile) return issueProfiledCa(spec, key, opts); // a layout's exact recipe (KTHW's ca.conf)
  const k = key ?? (await generateRsaKey());
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subjectOf(spec),
    notBefore: opts.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: opts.notAfter ?? new Date(Date.now() + 10 * 365 * DAY),
    keys: { privateKey: k.privateKey, publicKey: k.publicKey },
    signingAlgorithm: RSA_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
    ],
  });
  return { spec, certPem: cert.toString('pem'), key: k };
}

/** Issues a leaf certificate for `spec`, signed by `ca`, for the public key in `key`. */
export async function issueLeaf(ca: IssuedCert, spec: CertSpec, key: KeyMaterial, opts: IssueOptions = {}): Promise<IssuedCert> {
  if (spec.profile) return issueProfiledLeaf(ca, spec, key, opts);
  const caCert = new x509.X509Certificate(ca.certPem);
  const names: { type: 'dns' | 'ip'; value: string }[] = [
    ...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...spec.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    await x509.SubjectKeyIdentifierExtension.create(key.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (spec.usages.length) extensions.push(new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => EKU[u])));
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subjectOf(spec),
    issuer: caCert.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: opts.notAfter ?? new Date(Date.now() + 365 * DAY),
    signingKey: ca.key.privateKey,
    publicKey: key.publicKey,
    signingAlgorithm: RSA_SIGNING,
    extensions,
  });
  return { spec, certPem: cert.toString('pem'), key };
}

/** Issues the whole plan, reusing the CA and every key found in `existing`. */
export async function issuePki(plan: CertPlan, existing: ExistingPki = { keys: new Map() }): Promise<Pki> {
  const ca = (await reusedCa(plan, existing)) ?? (await issueCa(plan.ca));
  const keyFile = existing.files?.key ?? ((id: string) => `${id}-key.pem`);
  const entries = await Promise.all(
    plan.certs.map(async (spec) => {
      const old = existing.keys.get(spec.id);
      const key = old
        ? await readPrivateKey(old).catch((err: Error) => {
            throw new PkiError(
              `${keyFile(spec.id)}: ${err.message}; fix: restore it from your backup, or delete it to issue a new key for the ${spec.id} certificate (then copy that host's files again)`,
            );
          })
        : spec.profile
          ? await generateProfileKey(spec.profile)
          : await generateRsaKey();
      return [spec.id, await issueLeaf(ca, spec, key)] as const;
    }),
  );
  return { ca, certs: new Map(entries) };
}
