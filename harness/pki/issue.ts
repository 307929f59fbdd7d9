// Issues the cluster's PKI from the certificate plan with @peculiar/x509 (no cfssl needed).
// Existing CA and keys are reused so that re-rendering never silently invalidates what is
// deployed: the seed warns that a new CA means re-issuing and re-copying everything.
import { randomBytes } from 'node:crypto';
import type { CertSpec, CertPlan, Usage } from './plan.ts';
import { type KeyMaterial, RSA_SIGNING, generateRsaKey, readPrivateKey, x509 } from './keys.ts';

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
  let ca: IssuedCert;
  if (existing.caCert && existing.caKey) {
    ca = { spec: plan.ca, certPem: existing.caCert, key: await readPrivateKey(existing.caKey) };
  } else {
    ca = await issueCa(plan.ca);
  }
  const entries = await Promise.all(
    plan.certs.map(async (spec) => {
      const old = existing.keys.get(spec.id);
      const key = old ? await readPrivateKey(old) : await generateRsaKey();
      return [spec.id, await issueLeaf(ca, spec, key)] as const;
    }),
  );
  return { ca, certs: new Map(entries) };
}
