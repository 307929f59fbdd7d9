// Test-time certificate forge: DER built by hand and signed with node:crypto, so the corpus can
// hold what @peculiar/x509 refuses to make (MD5 and SHA-1 signatures, 512-bit keys, v1 CAs, a CA
// without basicConstraints, critical unknown extensions, negative serials). Nothing here is
// committed output: keys and certificates exist only while the tests run.
import { createHash, generateKeyPairSync, randomBytes, sign as nodeSign, constants, type KeyObject } from 'node:crypto';
import { bits, bool, ctx, int, namedBits, nul, objectId, octets, printable, seq, set, tlv, uint, utcOrGeneralized, utf8 } from '../der.ts';
import { parseIP } from '../verify.ts';

export type KeySpec = { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: 'P-224' | 'P-256' | 'P-384' | 'P-521' } | { kind: 'ed25519' };

export interface Key {
  spec: KeySpec;
  priv: KeyObject;
  pub: KeyObject;
  spki: Buffer;
  /** The private key in PEM: PKCS#1 for RSA (as cfssl and openssl genrsa write), SEC1 for EC, PKCS#8 for Ed25519. */
  pem: string;
  pubPem: string;
}

const NODE_CURVE = { 'P-224': 'secp224r1', 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

export function genKey(spec: KeySpec): Key {
  const { privateKey, publicKey } =
    spec.kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: spec.bits })
      : spec.kind === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: NODE_CURVE[spec.curve] })
        : generateKeyPairSync('ed25519');
  const type = spec.kind === 'rsa' ? 'pkcs1' : spec.kind === 'ec' ? 'sec1' : 'pkcs8';
  return {
    spec,
    priv: privateKey,
    pub: publicKey,
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    pem: privateKey.export({ format: 'pem', type }).toString(),
    pubPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export type HashName = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

const RSA_SIG: Record<HashName, string> = {
  md5: '1.2.840.113549.1.1.4',
  sha1: '1.2.840.113549.1.1.5',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
const EC_SIG: Partial<Record<HashName, string>> = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const HASH_OID = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' } as const;
const HASH_LEN = { sha256: 32, sha384: 48, sha512: 64 } as const;

function sigAlgorithm(signer: Key, hash: HashName, pss: boolean, salt?: number): Buffer {
  if (signer.spec.kind === 'ed25519') return seq(objectId('1.3.101.112'));
  if (signer.spec.kind === 'ec') return seq(objectId(EC_SIG[hash]!));
  if (pss) {
    const h = hash as keyof typeof HASH_OID;
    const hashAi = seq(objectId(HASH_OID[h]), nul());
    return seq(
      objectId('1.2.840.113549.1.1.10'),
      seq(
        tlv(ctx(0, true), hashAi),
        tlv(ctx(1, true), seq(objectId('1.2.840.113549.1.1.8'), hashAi)),
        tlv(ctx(2, true), int(salt ?? HASH_LEN[h])),
      ),
    );
  }
  return seq(objectId(RSA_SIG[hash]), nul());
}

export interface NameSpec {
  cn?: string;
  o?: string[];
  c?: string;
  extra?: [string, string][];
}

export function encodeName(n: NameSpec): Buffer {
  const rdns: Buffer[] = [];
  const atv = (o: string, v: Buffer) => set(seq(objectId(o), v));
  if (n.c) rdns.push(atv('2.5.4.6', printable(n.c)));
  for (const o of n.o ?? []) rdns.push(atv('2.5.4.10', utf8(o)));
  for (const [o, v] of n.extra ?? []) rdns.push(atv(o, utf8(v)));
  if (n.cn !== undefined) rdns.push(atv('2.5.4.3', utf8(n.cn)));
  return seq(...rdns);
}

export const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;
export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  any: '2.5.29.37.0',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

export interface CertSpec {
  subject: NameSpec;
  /** The subject's DER as another tool wrote it (to re-make a CA under its exact name). */
  rawSubject?: Buffer;
  key: Key;
  /** The issuing certificate; absent: self-signed with `key`. */
  issuer?: Forged;
  version?: 1 | 3;
  serial?: bigint;
  notBefore?: Date;
  notAfter?: Date;
  hash?: HashName;
  pss?: boolean;
  /** RSA-PSS salt length (default: the hash length, the only one Go accepts). */
  pssSalt?: number;
  /** null: no basicConstraints extension. */
  bc?: { ca: boolean; pathLen?: number } | null;
  /** Bit numbers (KU.*); null: no keyUsage extension. */
  ku?: number[] | null;
  eku?: string[];
  dns?: string[];
  ips?: string[];
  /** Raw IP SAN bytes (for a 16-byte IPv4-mapped address). */
  rawIps?: Buffer[];
  nsCertType?: number;
  nameConstraints?: { permittedDNS?: string[] };
  extra?: { oid: string; critical: boolean; value: Buffer }[];
  ski?: boolean;
  /** false: no authorityKeyIdentifier (Go then tries every CA with the issuer's name in file order). */
  aki?: boolean;
}

export interface Forged {
  der: Buffer;
  pem: string;
  key: Key;
  subject: Buffer;
  ski?: Buffer;
  notAfter: Date;
}

const DAY = 86400_000;

function ext(o: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(objectId(o), bool(true), octets(value)) : seq(objectId(o), octets(value));
}

export function toPem(der: Buffer, type = 'CERTIFICATE'): string {
  return `-----BEGIN ${type}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${type}-----\n`;
}

export function forge(s: CertSpec): Forged {
  const version = s.version ?? 3;
  const signer = s.issuer?.key ?? s.key;
  const hash = s.hash ?? 'sha256';
  const alg = sigAlgorithm(signer, hash, !!s.pss, s.pssSalt);
  const subject = s.rawSubject ?? encodeName(s.subject);
  const issuer = s.issuer?.subject ?? subject;
  const notBefore = s.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = s.notAfter ?? new Date(Date.now() + 365 * DAY);
  const ski = createHash('sha1').update(s.key.spki).digest();
  const exts: Buffer[] = [];
  if (version === 3) {
    if (s.bc !== null) {
      const bc = s.bc ?? { ca: false };
      exts.push(ext('2.5.29.19', true, seq(...(bc.ca ? [bool(true)] : []), ...(bc.pathLen !== undefined ? [int(bc.pathLen)] : []))));
    }
    if (s.ku !== null)
      exts.push(
        ext('2.5.29.15', true, namedBits(s.ku ?? (s.bc?.ca ? [KU.keyCertSign, KU.cRLSign] : [KU.digitalSignature, KU.keyEncipherment]))),
      );
    if (s.eku?.length) exts.push(ext('2.5.29.37', false, seq(...s.eku.map(objectId))));
    const names = [
      ...(s.dns ?? []).map((d) => tlv(ctx(2, false), Buffer.from(d, 'latin1'))),
      ...(s.ips ?? []).map((ip) => {
        const b = parseIP(ip)!;
        const v4 = b.subarray(0, 12).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) && !ip.includes(':');
        return tlv(ctx(7, false), v4 ? b.subarray(12) : b);
      }),
      ...(s.rawIps ?? []).map((b) => tlv(ctx(7, false), b)),
    ];
    if (names.length) exts.push(ext('2.5.29.17', false, seq(...names)));
    if (s.ski !== false) exts.push(ext('2.5.29.14', false, octets(ski)));
    if (s.issuer?.ski && s.aki !== false) exts.push(ext('2.5.29.35', false, seq(tlv(ctx(0, false), s.issuer.ski))));
    if (s.nsCertType !== undefined) exts.push(ext('2.16.840.1.113730.1.1', false, bits(Buffer.from([s.nsCertType]))));
    if (s.nameConstraints?.permittedDNS) {
      exts.push(
        ext(
          '2.5.29.30',
          true,
          seq(
            tlv(
              ctx(0, true),
              s.nameConstraints.permittedDNS.map((d) => seq(tlv(ctx(2, false), Buffer.from(d)))),
            ),
          ),
        ),
      );
    }
    for (const e of s.extra ?? []) exts.push(ext(e.oid, e.critical, e.value));
  }
  const serial = s.serial !== undefined ? int(s.serial) : uint(Buffer.concat([Buffer.from([0x01]), randomBytes(15)]));
  const tbs = seq(
    ...(version === 3 ? [tlv(ctx(0, true), int(2))] : []),
    serial,
    alg,
    issuer,
    seq(utcOrGeneralized(notBefore), utcOrGeneralized(notAfter)),
    subject,
    s.key.spki,
    ...(version === 3 && exts.length ? [tlv(ctx(3, true), seq(...exts))] : []),
  );
  let sig: Buffer;
  if (signer.spec.kind === 'ed25519') sig = nodeSign(null, tbs, signer.priv);
  else if (signer.spec.kind === 'ec') sig = nodeSign(hash, tbs, { key: signer.priv, dsaEncoding: 'der' });
  else if (s.pss)
    sig = nodeSign(hash, tbs, {
      key: signer.priv,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: s.pssSalt ?? HASH_LEN[hash as keyof typeof HASH_LEN],
    });
  else sig = nodeSign(hash, tbs, signer.priv);
  const der = seq(tbs, alg, bits(sig));
  return { der, pem: toPem(der), key: s.key, subject, ...(s.ski !== false && version === 3 ? { ski } : {}), notAfter };
}
