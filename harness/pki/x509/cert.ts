// Certificates, PEM files and private keys read the way Go reads them: crypto/x509's
// parseCertificate (parser.go) with its refusals, encoding/pem's block scanning, and
// crypto/tls's X509KeyPair key handling. Only node:crypto is used for the arithmetic.
import { constants, createHash, createPrivateKey, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { DerError, type Element, Reader, TAG, bitAt, bitString, boolean, children, ctx, integer, oid, time } from './der.ts';

export interface PemBlock {
  type: string;
  headers: boolean;
  der: Buffer;
}

const PRIVATE_KEY = 'PRIVATE' + ' KEY';

/** Every PEM block Go's pem.Decode would return, in order (malformed blocks are skipped as Go skips them). */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /(?:^|\n)-----BEGIN ([^\r\n]*?)-----[ \t]*\r?\n([\s\S]*?)(?:\r?\n)?-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    let body = m[2]!;
    let headers = false;
    // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED") end with a blank line.
    const h = /^((?:[^\n:]+:[^\n]*\r?\n)+)\r?\n/.exec(body);
    if (h) {
      headers = true;
      body = body.slice(h[0].length);
    }
    const b64 = body.replace(/[ \t\r\n]/g, '');
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) continue;
    out.push({ type: m[1]!, headers, der: Buffer.from(b64, 'base64') });
  }
  return out;
}

export interface Name {
  /** Go's pkix.Name.CommonName: the last CN attribute. */
  cn: string;
  /** Every O attribute, in order (the groups the apiserver takes from a client certificate). */
  o: string[];
  /** Go's pkix.Name.String() spelling, for messages. */
  text: string;
}

export type PublicKeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519' | 'DSA' | 'unknown';
export type Hash = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface SignatureAlgorithm {
  /** Go's SignatureAlgorithm.String() ("SHA256-RSA"), or the OID when Go does not know it. */
  name: string;
  /** undefined: Go knows no hash for it (unknown, MD2, or Ed25519's none). */
  hash?: Hash;
  pub: PublicKeyAlgorithm;
  pss: boolean;
  known: boolean;
}

export interface IpRange {
  ip: Buffer;
  mask: Buffer;
}

export interface NameConstraints {
  permittedDNS: string[];
  excludedDNS: string[];
  permittedIP: IpRange[];
  excludedIP: IpRange[];
  permittedEmail: string[];
  excludedEmail: string[];
  permittedURI: string[];
  excludedURI: string[];
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export interface ParsedCert {
  /** Where the certificate was read: the file path (and its position in a bundle). */
  origin: string;
  index: number;
  raw: Buffer;
  tbs: Buffer;
  version: number;
  serial: bigint;
  signatureAlgorithm: SignatureAlgorithm;
  signature: Buffer;
  rawIssuer: Buffer;
  rawSubject: Buffer;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  rawSpki: Buffer;
  publicKeyAlgorithm: PublicKeyAlgorithm;
  publicKey?: KeyObject;
  rsaBits?: number;
  curve?: string;
  extensions: Extension[];
  /** Go's KeyUsage bits (bit i = 1 << i; certSign = 1 << 5); 0 when absent or empty. */
  keyUsage: number;
  basicConstraintsValid: boolean;
  isCA: boolean;
  /** -1 when unlimited. */
  maxPathLen: number;
  hasSAN: boolean;
  dnsNames: string[];
  emails: string[];
  ips: Buffer[];
  uris: string[];
  extKeyUsage: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  nameConstraints?: NameConstraints;
  unhandledCritical: string[];
  /** Netscape cert type bits (client 0x80, server 0x40), which Go ignores and OpenSSL honours. */
  nsCertType?: number;
}

export const OID = {
  rsa: '1.2.840.113549.1.1.1',
  ecdsa: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  x25519: '1.3.101.110',
  dsa: '1.2.840.10040.4.1',
  pss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  cn: '2.5.4.3',
  o: '2.5.4.10',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  san: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  crlDp: '2.5.29.31',
  policies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  aki: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  eku: '2.5.29.37',
  ski: '2.5.29.14',
  inhibitAnyPolicy: '2.5.29.54',
  aia: '1.3.6.1.5.5.7.1.1',
  nsCertType: '2.16.840.1.113730.1.1',
  ekuAny: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const CURVES: Record<string, { name: string; size: number }> = {
  '1.3.132.0.33': { name: 'P-224', size: 28 },
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
  '1.3.132.0.35': { name: 'P-521', size: 66 },
};
const NODE_CURVES: Record<string, string> = { secp224r1: 'P-224', prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

// Go's signatureAlgorithmDetails (x509.go), by OID.
const SIGNATURES: Record<string, Omit<SignatureAlgorithm, 'known' | 'pss'>> = {
  '1.2.840.113549.1.1.2': { name: 'MD2-RSA', pub: 'RSA' },
  '1.2.840.113549.1.1.4': { name: 'MD5-RSA', pub: 'RSA', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', pub: 'RSA', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'SHA1-RSA', pub: 'RSA', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', pub: 'RSA', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', pub: 'RSA', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', pub: 'RSA', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'DSA-SHA1', pub: 'DSA', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'DSA-SHA256', pub: 'DSA', hash: 'sha256' },
  '1.2.840.10045.4.1': { name: 'ECDSA-SHA1', pub: 'ECDSA', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', pub: 'ECDSA', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', pub: 'ECDSA', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', pub: 'ECDSA', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', pub: 'Ed25519' },
};

export const HASH_SIZE: Record<Hash, number> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

const UNKNOWN_SIG = (o: string): SignatureAlgorithm => ({ name: o, pub: 'unknown', pss: false, known: false });

function algorithmIdentifier(e: Element): { oid: string; params?: Element } {
  const r = new Reader(e.value);
  const o = oid(r.expect(TAG.OID, 'malformed OID'));
  const params = r.empty() ? undefined : r.read();
  return { oid: o, ...(params ? { params } : {}) };
}

const isNull = (p?: Element) => !p || (p.tag === TAG.NULL && p.value.length === 0);

/** getSignatureAlgorithmFromAI (x509.go): RSA-PSS only in Go's three fixed parameter sets. */
function signatureAlgorithm(e: Element): SignatureAlgorithm {
  const ai = algorithmIdentifier(e);
  if (ai.oid === OID.ed25519 && ai.params) return UNKNOWN_SIG(ai.oid);
  if (ai.oid !== OID.pss) {
    const d = SIGNATURES[ai.oid];
    return d ? { ...d, pss: false, known: true } : UNKNOWN_SIG(ai.oid);
  }
  try {
    const p = children(ai.params!);
    const field = (n: number) => p.find((x) => x.tag === ctx(n, true));
    const hashAi = algorithmIdentifier(children(field(0)!)[0]!);
    const mgf = algorithmIdentifier(children(field(1)!)[0]!);
    const salt = Number(integer(children(field(2)!)[0]!));
    const trailer = field(3) ? Number(integer(children(field(3)!)[0]!)) : 1;
    const mgfHash = algorithmIdentifier(mgf.params!);
    if (!isNull(hashAi.params) || mgf.oid !== OID.mgf1 || mgfHash.oid !== hashAi.oid || !isNull(mgfHash.params) || trailer !== 1)
      return UNKNOWN_SIG(ai.oid);
    for (const [h, size] of [
      ['sha256', 32],
      ['sha384', 48],
      ['sha512', 64],
    ] as const) {
      if (hashAi.oid === OID[h] && salt === size) return { name: `${h.toUpperCase()}-RSAPSS`, pub: 'RSA', hash: h, pss: true, known: true };
    }
  } catch {
    /* malformed parameters: unknown, as in Go */
  }
  return UNKNOWN_SIG(ai.oid);
}

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.17': 'POSTALCODE',
};

function isPrintable(b: number): boolean {
  const c = String.fromCharCode(b);
  return /[a-zA-Z0-9 '()+,\-./:=?*&]/.test(c);
}

/** parseASN1String (parser.go). */
function asn1String(e: Element): string {
  const v = e.value;
  switch (e.tag) {
    case TAG.T61String:
      return v.toString('latin1');
    case TAG.PrintableString:
      for (const b of v) if (!isPrintable(b)) throw new DerError('invalid PrintableString');
      return v.toString('latin1');
    case TAG.UTF8String: {
      const s = v.toString('utf8');
      if (!Buffer.from(s, 'utf8').equals(v)) throw new DerError('invalid UTF-8 string');
      return s;
    }
    case TAG.BMPString: {
      if (v.length % 2) throw new DerError('invalid BMPString');
      const units: number[] = [];
      let w = v;
      if (w.length >= 2 && w[w.length - 1] === 0 && w[w.length - 2] === 0) w = w.subarray(0, w.length - 2);
      for (let i = 0; i < w.length; i += 2) {
        const p = (w[i]! << 8) | w[i + 1]!;
        if (p === 0xfffe || p === 0xffff || (p >= 0xfdd0 && p <= 0xfdef) || (p >= 0xd800 && p <= 0xdfff))
          throw new DerError('invalid BMPString');
        units.push(p);
      }
      return String.fromCharCode(...units);
    }
    case TAG.IA5String:
      for (const b of v) if (b > 0x7f) throw new DerError('invalid IA5String');
      return v.toString('latin1');
    case TAG.NumericString:
      for (const b of v) if (!((b >= 0x30 && b <= 0x39) || b === 0x20)) throw new DerError('invalid NumericString');
      return v.toString('latin1');
  }
  throw new DerError(`unsupported string type: ${e.tag}`);
}

function parseName(e: Element): Name {
  if (e.tag !== TAG.SEQUENCE) throw new DerError('x509: invalid RDNSequence');
  const rdns: [string, string][][] = [];
  let cn = '';
  const o: string[] = [];
  for (const set of children(e)) {
    if (set.tag !== TAG.SET) throw new DerError('x509: invalid RDNSequence');
    const rdn: [string, string][] = [];
    for (const atv of children(set)) {
      const [t, v] = children(atv);
      if (!t || t.tag !== TAG.OID || !v) throw new DerError('x509: invalid RDNSequence: invalid attribute');
      let value: string;
      try {
        value = asn1String(v);
      } catch (err) {
        throw new DerError(`x509: invalid RDNSequence: invalid attribute value: ${(err as Error).message}`);
      }
      const type = oid(t);
      if (type === OID.cn) cn = value;
      if (type === OID.o) o.push(value);
      rdn.push([type, value]);
    }
    rdns.push(rdn);
  }
  const text = [...rdns]
    .reverse()
    .filter((r) => r.length)
    .map((r) => r.map(([t, v]) => `${SHORT[t] ?? t}=${v.replace(/([,+"\\<>;])/g, '\\$1')}`).join('+'))
    .join(',');
  return { cn, o, text };
}

function publicKey(
  spki: Element,
  algOid: string,
  params: Element | undefined,
  keyBits: Buffer,
): Pick<ParsedCert, 'publicKey' | 'rsaBits' | 'curve'> {
  const node = () => createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  if (algOid === OID.rsa) {
    if (!params || params.tag !== TAG.NULL || params.value.length) throw new DerError('x509: RSA key missing NULL parameters');
    let n: bigint;
    let e: bigint;
    try {
      const [ne, ee] = children(new Reader(keyBits).expect(TAG.SEQUENCE, 'x'));
      n = integer(ne!);
      e = integer(ee!);
    } catch {
      throw new DerError('x509: invalid RSA public key');
    }
    if (n <= 0n) throw new DerError('x509: RSA modulus is not a positive number');
    if (e <= 0n) throw new DerError('x509: RSA public exponent is not a positive number');
    return { publicKey: node(), rsaBits: n.toString(2).length };
  }
  if (algOid === OID.ecdsa) {
    if (!params || params.tag !== TAG.OID) throw new DerError('x509: invalid ECDSA parameters');
    const curve = CURVES[oid(params)];
    if (!curve) throw new DerError('x509: unsupported elliptic curve');
    if (keyBits.length !== 1 + 2 * curve.size || keyBits[0] !== 4) throw new DerError('ecdsa: invalid public key');
    try {
      return { publicKey: node(), curve: curve.name };
    } catch {
      throw new DerError('ecdsa: invalid public key');
    }
  }
  if (algOid === OID.ed25519) {
    if (params) throw new DerError('x509: Ed25519 key encoded with illegal parameters');
    if (keyBits.length !== 32) throw new DerError('x509: wrong Ed25519 public key size');
    return { publicKey: node() };
  }
  if (algOid === OID.dsa) {
    try {
      return { publicKey: node() };
    } catch {
      throw new DerError('x509: invalid DSA public key');
    }
  }
  return {};
}

function ipRange(b: Buffer): IpRange {
  if (b.length !== 8 && b.length !== 32) throw new DerError(`x509: IP constraint contained value of length ${b.length}`);
  const half = b.length / 2;
  const mask = b.subarray(half);
  // A valid mask is ones then zeros.
  let seenZero = false;
  for (let i = 0; i < mask.length * 8; i++) {
    const bit = (mask[i >> 3]! >> (7 - (i & 7))) & 1;
    if (!bit) seenZero = true;
    else if (seenZero) throw new DerError(`x509: IP constraint contained invalid mask ${mask.toString('hex')}`);
  }
  return { ip: b.subarray(0, half), mask };
}

/** parseNameConstraintsExtension: DNS, IP, email and URI subtrees; anything else leaves it unhandled. */
function nameConstraints(value: Buffer): { nc: NameConstraints; unhandled: boolean } {
  const nc: NameConstraints = {
    permittedDNS: [],
    excludedDNS: [],
    permittedIP: [],
    excludedIP: [],
    permittedEmail: [],
    excludedEmail: [],
    permittedURI: [],
    excludedURI: [],
  };
  let unhandled = false;
  const top = new Reader(value).expect(TAG.SEQUENCE, 'x509: invalid NameConstraints extension');
  const parts = children(top);
  if (!parts.length) throw new DerError('x509: empty name constraints extension');
  for (const part of parts) {
    const permitted = part.tag === ctx(0, true);
    if (!permitted && part.tag !== ctx(1, true)) throw new DerError('x509: invalid NameConstraints extension');
    for (const subtree of children(part)) {
      const base = children(subtree)[0];
      if (!base) throw new DerError('x509: invalid NameConstraints extension');
      const v = base.value;
      switch (base.tag) {
        case ctx(2, false):
          (permitted ? nc.permittedDNS : nc.excludedDNS).push(v.toString('latin1'));
          break;
        case ctx(7, false):
          (permitted ? nc.permittedIP : nc.excludedIP).push(ipRange(v));
          break;
        case ctx(1, false):
          (permitted ? nc.permittedEmail : nc.excludedEmail).push(v.toString('latin1'));
          break;
        case ctx(6, false):
          (permitted ? nc.permittedURI : nc.excludedURI).push(v.toString('latin1'));
          break;
        default:
          unhandled = true;
      }
    }
  }
  return { nc, unhandled };
}

function sanEntries(value: Buffer, c: Pick<ParsedCert, 'dnsNames' | 'emails' | 'ips' | 'uris'>): void {
  const top = new Reader(value);
  let s: Element;
  try {
    s = top.expect(TAG.SEQUENCE, 'x');
  } catch {
    throw new DerError('x509: invalid subject alternative names');
  }
  for (const n of children(s)) {
    const ascii = (what: string) => {
      for (const b of n.value) if (b > 0x7f) throw new DerError(`x509: SAN ${what} is malformed`);
      return n.value.toString('latin1');
    };
    switch (n.tag ^ 0x80) {
      case 1:
        c.emails.push(ascii('rfc822Name'));
        break;
      case 2:
        c.dnsNames.push(ascii('dNSName'));
        break;
      case 6:
        c.uris.push(ascii('uniformResourceIdentifier'));
        break;
      case 7:
        if (n.value.length !== 4 && n.value.length !== 16) throw new DerError(`x509: cannot parse IP address of length ${n.value.length}`);
        c.ips.push(Buffer.from(n.value));
        break;
    }
  }
}

/** Parses one DER certificate with Go's refusals; throws DerError carrying Go's message. */
export function parseCertificate(der: Buffer, origin = '', index = 0): ParsedCert {
  const wrap = <T>(msg: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof DerError && e.message.startsWith('x509:')) throw e;
      throw new DerError(msg);
    }
  };
  const outer = wrap('x509: malformed certificate', () => new Reader(der).expect(TAG.SEQUENCE, 'x'));
  const top = new Reader(outer.value);
  const tbsEl = wrap('x509: malformed tbs certificate', () => top.expect(TAG.SEQUENCE, 'x'));
  const tbs = new Reader(tbsEl.value);
  let version = 1;
  const vEl = tbs.optional(ctx(0, true));
  if (vEl) version = wrap('x509: malformed version', () => Number(integer(new Reader(vEl.value).expect(TAG.INTEGER, 'x')))) + 1;
  if (version < 1) throw new DerError('x509: malformed version');
  if (version > 3) throw new DerError('x509: invalid version');
  const serial = wrap('x509: malformed serial number', () => integer(tbs.expect(TAG.INTEGER, 'x')));
  // GODEBUG x509negativeserial=0, the default since go1.23.
  if (serial < 0n) throw new DerError('x509: negative serial number');
  const innerAi = wrap('x509: malformed signature algorithm identifier', () => tbs.expect(TAG.SEQUENCE, 'x'));
  const outerAi = wrap('x509: malformed algorithm identifier', () => top.expect(TAG.SEQUENCE, 'x'));
  if (!innerAi.raw.equals(outerAi.raw)) throw new DerError("x509: inner and outer signature algorithm identifiers don't match");
  const sigAlg = wrap('x509: malformed OID', () => signatureAlgorithm(innerAi));
  const issuerEl = wrap('x509: malformed issuer', () => tbs.expect(TAG.SEQUENCE, 'x'));
  const issuer = wrap('x509: invalid RDNSequence', () => parseName(issuerEl));
  const validity = wrap('x509: malformed validity', () => children(tbs.expect(TAG.SEQUENCE, 'x')));
  const notBefore = wrap('x509: malformed UTCTime', () => time(validity[0]!));
  const notAfter = wrap('x509: malformed UTCTime', () => time(validity[1]!));
  const subjectEl = wrap('x509: malformed issuer', () => tbs.expect(TAG.SEQUENCE, 'x'));
  const subject = wrap('x509: invalid RDNSequence', () => parseName(subjectEl));
  const spki = wrap('x509: malformed spki', () => tbs.expect(TAG.SEQUENCE, 'x'));
  const [pkAiEl, pkBitsEl] = wrap('x509: malformed spki', () => children(spki));
  const pkAi = wrap('x509: malformed public key algorithm identifier', () => algorithmIdentifier(pkAiEl!));
  const pkBits = wrap('x509: malformed subjectPublicKey', () => bitString(pkBitsEl!));
  const pkAlg: PublicKeyAlgorithm =
    ({ [OID.rsa]: 'RSA', [OID.ecdsa]: 'ECDSA', [OID.ed25519]: 'Ed25519', [OID.dsa]: 'DSA' } as Record<string, PublicKeyAlgorithm>)[
      pkAi.oid
    ] ?? 'unknown';
  const key = pkAlg === 'unknown' ? {} : wrap('x509: invalid public key', () => publicKey(spki, pkAi.oid, pkAi.params, pkBits.bytes));

  const c: ParsedCert = {
    origin,
    index,
    raw: outer.raw,
    tbs: tbsEl.raw,
    version,
    serial,
    signatureAlgorithm: sigAlg,
    signature: Buffer.alloc(0),
    rawIssuer: issuerEl.raw,
    rawSubject: subjectEl.raw,
    issuer,
    subject,
    notBefore,
    notAfter,
    rawSpki: spki.raw,
    publicKeyAlgorithm: pkAlg,
    ...key,
    extensions: [],
    keyUsage: 0,
    basicConstraintsValid: false,
    isCA: false,
    maxPathLen: -1,
    hasSAN: false,
    dnsNames: [],
    emails: [],
    ips: [],
    uris: [],
    extKeyUsage: [],
    unhandledCritical: [],
  };
  if (version > 1) {
    wrap('x509: malformed issuerUniqueID', () => tbs.optional(ctx(1, false)));
    wrap('x509: malformed subjectUniqueID', () => tbs.optional(ctx(2, false)));
    const extsEl = version === 3 ? wrap('x509: malformed extensions', () => tbs.optional(ctx(3, true))) : undefined;
    if (extsEl) {
      const list = wrap('x509: malformed extensions', () => children(new Reader(extsEl.value).expect(TAG.SEQUENCE, 'x')));
      const seen = new Set<string>();
      for (const x of list) {
        const parts = wrap('x509: malformed extension', () => children(x));
        const id = wrap('x509: malformed extension OID field', () => oid(parts[0]!));
        let critical = false;
        let i = 1;
        if (parts[i]?.tag === TAG.BOOLEAN) critical = wrap('x509: malformed extension critical field', () => boolean(parts[i++]!));
        const v = parts[i];
        if (!v || v.tag !== TAG.OCTET_STRING) throw new DerError('x509: malformed extension value field');
        if (seen.has(id)) throw new DerError(`x509: certificate contains duplicate extension with OID "${id}"`);
        seen.add(id);
        c.extensions.push({ oid: id, critical, value: Buffer.from(v.value) });
      }
      processExtensions(c);
    }
  }
  c.signature = wrap('x509: malformed signature', () => bitString(top.expect(TAG.BIT_STRING, 'x')).bytes);
  return c;
}

/** processExtensions (parser.go): what Go understands, and which critical extensions it does not. */
function processExtensions(c: ParsedCert): void {
  for (const e of c.extensions) {
    let unhandled = false;
    const w = <T>(msg: string, f: () => T): T => {
      try {
        return f();
      } catch (err) {
        if (err instanceof DerError && err.message.startsWith('x509:')) throw err;
        throw new DerError(msg);
      }
    };
    switch (e.oid) {
      case OID.keyUsage: {
        const b = w('x509: invalid key usage', () => bitString(new Reader(e.value).expect(TAG.BIT_STRING, 'x')));
        let ku = 0;
        for (let i = 0; i < 9; i++) if (bitAt(b, i)) ku |= 1 << i;
        c.keyUsage = ku;
        break;
      }
      case OID.basicConstraints:
        w('x509: invalid basic constraints', () => {
          const r = new Reader(new Reader(e.value).expect(TAG.SEQUENCE, 'x').value);
          const ca = r.optional(TAG.BOOLEAN);
          c.isCA = ca ? boolean(ca) : false;
          const pl = r.optional(TAG.INTEGER);
          if (pl) {
            const n = integer(pl);
            if (n < 0n) throw new DerError('x509: invalid basic constraints');
            c.maxPathLen = Number(n);
          } else c.maxPathLen = -1;
        });
        c.basicConstraintsValid = true;
        break;
      case OID.san:
        sanEntries(e.value, c);
        c.hasSAN = true;
        if (!c.dnsNames.length && !c.emails.length && !c.ips.length && !c.uris.length) unhandled = true;
        break;
      case OID.nameConstraints: {
        const r = w('x509: invalid NameConstraints extension', () => nameConstraints(e.value));
        c.nameConstraints = r.nc;
        unhandled = r.unhandled;
        break;
      }
      case OID.eku:
        c.extKeyUsage = w('x509: invalid extended key usages', () => children(new Reader(e.value).expect(TAG.SEQUENCE, 'x')).map(oid));
        break;
      case OID.ski:
        if (e.critical) throw new DerError('x509: subject key identifier incorrectly marked critical');
        c.subjectKeyId = w('x509: invalid subject key identifier', () =>
          Buffer.from(new Reader(e.value).expect(TAG.OCTET_STRING, 'x').value),
        );
        break;
      case OID.aki: {
        if (e.critical) throw new DerError('x509: authority key identifier incorrectly marked critical');
        const kid = w('x509: invalid authority key identifier', () =>
          children(new Reader(e.value).expect(TAG.SEQUENCE, 'x')).find((x) => x.tag === ctx(0, false)),
        );
        if (kid) c.authorityKeyId = Buffer.from(kid.value);
        break;
      }
      case OID.aia:
        if (e.critical) throw new DerError('x509: authority info access incorrectly marked critical');
        break;
      case OID.crlDp:
      case OID.policies:
      case OID.policyMappings:
      case OID.policyConstraints:
      case OID.inhibitAnyPolicy:
        break; // parsed by Go; their content does not change a verdict for the chains checked here
      case OID.nsCertType: {
        try {
          const b = bitString(new Reader(e.value).expect(TAG.BIT_STRING, 'x'));
          c.nsCertType = b.bytes[0] ?? 0;
        } catch {
          /* Go ignores it; so do we */
        }
        unhandled = true;
        break;
      }
      default:
        unhandled = true;
    }
    if (e.critical && unhandled) c.unhandledCritical.push(e.oid);
  }
}

export interface ReadCerts {
  certs: ParsedCert[];
  /** Go's error for the first block it could not parse (the file is then unusable for a pair). */
  errors: { index: number; error: string }[];
  /** PEM blocks of other types, skipped. */
  skipped: string[];
}

/** Every CERTIFICATE block of a PEM file, parsed. `pool`: as x509.CertPool reads a trust file (blocks with headers skipped). */
export function readCertificates(text: string, origin: string, opts: { pool?: boolean } = {}): ReadCerts {
  const out: ReadCerts = { certs: [], errors: [], skipped: [] };
  let i = 0;
  for (const b of pemBlocks(text)) {
    if (b.type !== 'CERTIFICATE' || (opts.pool && b.headers)) {
      out.skipped.push(b.type);
      continue;
    }
    try {
      out.certs.push(parseCertificate(b.der, origin, i));
    } catch (e) {
      out.errors.push({ index: i, error: (e as Error).message });
    }
    i++;
  }
  return out;
}

export interface PrivateKeyRead {
  key?: KeyObject;
  type?: 'RSA' | 'ECDSA' | 'Ed25519';
  rsaBits?: number;
  curve?: string;
  error?: string;
}

/**
 * Which of Go's private key forms a DER blob is, from its structure (OpenSSL, under node, would
 * read any form whatever type it is told): PKCS#1 RSAPrivateKey (version, then INTEGER modulus),
 * PKCS#8 (version, then the algorithm SEQUENCE) or SEC1 ECPrivateKey (version 1, then OCTET STRING).
 */
export function privateKeyForm(der: Buffer): 'pkcs1' | 'pkcs8' | 'sec1' | undefined {
  try {
    const [v, second] = children(new Reader(der).expect(TAG.SEQUENCE, 'x'));
    if (v?.tag !== TAG.INTEGER || !second) return undefined;
    if (second.tag === TAG.INTEGER) return 'pkcs1';
    if (second.tag === TAG.SEQUENCE) return 'pkcs8';
    if (second.tag === TAG.OCTET_STRING) return 'sec1';
  } catch {
    /* not DER */
  }
  return undefined;
}

/** The key side of tls.X509KeyPair: the first "... PRIVATE KEY" block, PKCS#1, PKCS#8 or SEC1. */
export function readPrivateKeyAsGo(text: string): PrivateKeyRead {
  const blocks = pemBlocks(text);
  if (!blocks.length) return { error: 'tls: failed to find any PEM data in key input' };
  const block = blocks.find((b) => b.type === PRIVATE_KEY || b.type.endsWith(` ${PRIVATE_KEY}`));
  if (!block) {
    if (blocks.some((b) => b.type === 'CERTIFICATE'))
      return { error: 'tls: found a certificate rather than a key in the PEM for the private key' };
    return {
      error: `tls: failed to find PEM block with type ending in "${PRIVATE_KEY}" in key input after skipping PEM blocks of the following types: [${blocks.map((b) => b.type).join(' ')}]`,
    };
  }
  const form = privateKeyForm(block.der);
  let key: KeyObject | undefined;
  try {
    if (form) key = createPrivateKey({ key: block.der, format: 'der', type: form });
  } catch {
    /* unparsable: Go's "failed to parse private key" */
  }
  if (!key) return { error: 'tls: failed to parse private key' };
  const t = key.asymmetricKeyType;
  if (t === 'rsa' && form !== 'sec1') return { key, type: 'RSA', rsaBits: key.asymmetricKeyDetails?.modulusLength ?? 0 };
  if (t === 'ec') {
    const curve = NODE_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) return { error: form === 'pkcs8' ? 'x509: unsupported elliptic curve' : 'x509: unknown elliptic curve' };
    return { key, type: 'ECDSA', curve };
  }
  if (t === 'ed25519' && form === 'pkcs8') return { key, type: 'Ed25519' };
  return { error: 'tls: found unknown private key type in PKCS#8 wrapping' };
}

/** Go's message when a private key and a certificate's public key differ (tls.X509KeyPair). */
export function keyPairMismatch(cert: ParsedCert, key: PrivateKeyRead): string | undefined {
  if (!key.key || !cert.publicKey) return cert.publicKey ? undefined : 'tls: unknown public key algorithm';
  const typeOf: Record<string, string> = { RSA: 'rsa', ECDSA: 'ec', Ed25519: 'ed25519' };
  if (typeOf[cert.publicKeyAlgorithm] !== key.key.asymmetricKeyType) return 'tls: private key type does not match public key type';
  return createPublicKey(key.key).equals(cert.publicKey) ? undefined : 'tls: private key does not match public key';
}

/** checkSignature (x509.go) with allowSHA1 = false, as certificate chains are checked. */
export function checkSignature(alg: SignatureAlgorithm, signed: Buffer, signature: Buffer, parent: ParsedCert): string | undefined {
  if (!alg.hash && alg.pub !== 'Ed25519') return 'x509: cannot verify signature: algorithm unimplemented';
  if (alg.hash === 'md5' || alg.hash === 'sha1') return `x509: cannot verify signature: insecure algorithm ${alg.name}`;
  const pub = parent.publicKey;
  const have = parent.publicKeyAlgorithm;
  if (!pub) return 'x509: cannot verify signature: algorithm unimplemented';
  const goType: Record<string, string> = {
    RSA: '*rsa.PublicKey',
    ECDSA: '*ecdsa.PublicKey',
    Ed25519: 'ed25519.PublicKey',
    DSA: '*dsa.PublicKey',
  };
  if (have === 'DSA') return 'x509: cannot verify signature: algorithm unimplemented';
  if (alg.pub !== have) return `x509: signature algorithm specifies an ${alg.pub} public key, but have public key of type ${goType[have]}`;
  if (have === 'RSA') {
    if ((parent.rsaBits ?? 0) < 1024)
      return `crypto/rsa: ${parent.rsaBits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`;
    const ok = alg.pss
      ? nodeVerify(alg.hash!, signed, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_SIZE[alg.hash!] }, signature)
      : safeVerify(() => nodeVerify(alg.hash!, signed, pub, signature));
    return ok ? undefined : 'crypto/rsa: verification error';
  }
  if (have === 'ECDSA')
    return safeVerify(() => nodeVerify(alg.hash!, signed, { key: pub, dsaEncoding: 'der' }, signature))
      ? undefined
      : 'x509: ECDSA verification failure';
  return safeVerify(() => nodeVerify(null, signed, pub, signature)) ? undefined : 'x509: Ed25519 verification failure';
}

function safeVerify(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

export function fingerprint(c: ParsedCert): string {
  return createHash('sha256').update(c.raw).digest('hex');
}
