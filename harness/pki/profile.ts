// Issuance for certificates whose layout prescribes exactly how they are made (CertProfile: KTHW's
// ca.conf): subject attributes in order with openssl's string types, RSA keys of the given size in
// the given PEM form, the signature hash, the lifetime from now, and the extensions in openssl's
// order, Netscape ones included. issue.ts hands every spec with a profile to this module.
import { generateKeyPair, createPrivateKey } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { IssuedCert } from './issue.ts';
import { type KeyMaterial, readPrivateKey, x509 } from './keys.ts';
import type { CertProfile, CertSpec, KeyUsageName } from './plan.ts';

const generateKeyPairAsync = promisify(generateKeyPair);
const DAY = 24 * 3600 * 1000;

const NS_CERT_TYPE = '2.16.840.1.113730.1.1';
const NS_COMMENT = '2.16.840.1.113730.1.13';

const KEY_USAGE: Record<KeyUsageName, number> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
};
const EKU = { server: x509.ExtendedKeyUsage.serverAuth, client: x509.ExtendedKeyUsage.clientAuth } as const;

export interface ProfileIssueOptions {
  notBefore?: Date;
  notAfter?: Date;
}

/** A new RSA key as the profile asks (openssl genrsa 4096 writes PKCS#8). */
export async function generateProfileKey(p: CertProfile): Promise<KeyMaterial> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: p.keyBits });
  return readPrivateKey(privateKey.export({ format: 'pem', type: p.keyFormat }).toString());
}

/** openssl's names: countryName is a PrintableString, every other attribute UTF8 (utf8only). */
function name(subject: [string, string][]): x509.Name {
  return new x509.Name(subject.map(([k, v]) => ({ [k]: [k === 'C' ? { printableString: v } : { utf8String: v }] })));
}

/** 20 random bytes, positive: the size openssl gives (-CAcreateserial, req -x509). */
function serial(): string {
  const b = randomBytes(20);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** DER of a Netscape certificate type BIT STRING: bit 0 SSL client, bit 1 SSL server. */
function nsCertTypeDer(types: ('client' | 'server')[]): Buffer {
  const bits = (types.includes('client') ? 0x80 : 0) | (types.includes('server') ? 0x40 : 0);
  const unused = bits & 0x40 ? 6 : 7;
  return Buffer.from([0x03, 0x02, unused, bits]);
}

function ia5Der(text: string): Buffer {
  const body = Buffer.from(text, 'ascii');
  if (body.length > 127) throw new Error(`nsComment longer than 127 bytes: ${text}`);
  return Buffer.concat([Buffer.from([0x16, body.length]), body]);
}

async function extensions(p: CertProfile, subjectKey: CryptoKey, issuerKeyId?: string): Promise<x509.Extension[]> {
  const out: x509.Extension[] = [new x509.BasicConstraintsExtension(p.basicConstraints.ca, undefined, false)];
  if (p.extendedKeyUsage?.length)
    out.push(
      new x509.ExtendedKeyUsageExtension(
        p.extendedKeyUsage.map((u) => EKU[u]),
        false,
      ),
    );
  if (p.keyUsage)
    out.push(
      new x509.KeyUsagesExtension(
        p.keyUsage.usages.reduce((f, u) => f | KEY_USAGE[u], 0),
        p.keyUsage.critical,
      ),
    );
  if (p.nsCertType?.length) out.push(new x509.Extension(NS_CERT_TYPE, false, new Uint8Array(nsCertTypeDer(p.nsCertType))));
  if (p.nsComment) out.push(new x509.Extension(NS_COMMENT, false, new Uint8Array(ia5Der(p.nsComment))));
  if (p.altNames?.length) out.push(new x509.SubjectAlternativeNameExtension(p.altNames.map((a) => ({ type: a.type, value: a.value }))));
  if (p.subjectKeyIdentifier) out.push(await x509.SubjectKeyIdentifierExtension.create(subjectKey));
  if (p.authorityKeyIdentifier && issuerKeyId) out.push(new x509.AuthorityKeyIdentifierExtension(issuerKeyId, false));
  return out;
}

function validity(p: CertProfile, opts: ProfileIssueOptions): { notBefore: Date; notAfter: Date } {
  // openssl neither backdates nor keeps milliseconds.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return { notBefore: opts.notBefore ?? now, notAfter: opts.notAfter ?? new Date(now.getTime() + p.days * DAY) };
}

/** A signing key for `hash` (WebCrypto binds an RSA key to one hash). */
async function signingKey(key: KeyMaterial, hash: CertProfile['hash']): Promise<CryptoKey> {
  const pkcs8 = createPrivateKey({ key: key.pem, format: 'pem' }).export({ format: 'der', type: 'pkcs8' });
  return globalThis.crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
}

/** The self-signed CA of a profile (openssl req -x509 -new -key ca.key -days N). */
export async function issueProfiledCa(spec: CertSpec, key: KeyMaterial | undefined, opts: ProfileIssueOptions = {}): Promise<IssuedCert> {
  const p = spec.profile!;
  const k = key ?? (await generateProfileKey(p));
  const subject = name(p.subject);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: subject,
    ...validity(p, opts),
    signingKey: await signingKey(k, p.hash),
    publicKey: k.publicKey,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: p.hash },
    extensions: await extensions(p, k.publicKey),
  });
  return { spec, certPem: `${cert.toString('pem')}\n`, key: k };
}

/** A leaf of a profile signed by `ca` (openssl x509 -req -copy_extensions copyall -CA ca.crt). */
export async function issueProfiledLeaf(
  ca: IssuedCert,
  spec: CertSpec,
  key: KeyMaterial,
  opts: ProfileIssueOptions = {},
): Promise<IssuedCert> {
  const p = spec.profile!;
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name(p.subject),
    // The CA's subject as encoded in its certificate, so that chains match byte for byte.
    issuer: new x509.Name(caCert.subjectName.toArrayBuffer()),
    ...validity(p, opts),
    signingKey: await signingKey(ca.key, p.hash),
    publicKey: key.publicKey,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: p.hash },
    extensions: await extensions(p, key.publicKey, caKeyId),
  });
  return { spec, certPem: `${cert.toString('pem')}\n`, key };
}
