// Strict DER, as Go's cryptobyte reads it: definite minimal lengths, minimal INTEGERs. The reader
// keeps raw bytes of every element (Go compares RawSubject/RawIssuer byte for byte); the writer
// builds the test corpus's certificates.

export class DerError extends Error {}

export interface Element {
  tag: number;
  /** Whole element (tag, length, value). */
  raw: Buffer;
  value: Buffer;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  BMPString: 0x1e,
  NumericString: 0x12,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag [n], constructed or primitive. */
export const ctx = (n: number, constructed: boolean) => (constructed ? 0xa0 : 0x80) | n;

export class Reader {
  private buf: Buffer;
  private pos = 0;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  empty(): boolean {
    return this.pos >= this.buf.length;
  }
  peekTag(): number | undefined {
    return this.empty() ? undefined : this.buf[this.pos];
  }
  /** Reads any element; throws on malformed encodings. */
  read(): Element {
    const b = this.buf;
    const start = this.pos;
    if (start + 2 > b.length) throw new DerError('truncated element');
    const tag = b[start]!;
    if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
    let len = b[start + 1]!;
    let off = start + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new DerError('indefinite or oversized length');
      if (off + n > b.length) throw new DerError('truncated length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[off + i]!;
      if (b[off] === 0 || len < 128) throw new DerError('non-minimal length');
      off += n;
    }
    if (off + len > b.length) throw new DerError('truncated value');
    this.pos = off + len;
    return { tag, raw: b.subarray(start, off + len), value: b.subarray(off, off + len) };
  }
  expect(tag: number, what: string): Element {
    const t = this.peekTag();
    if (t !== tag) throw new DerError(what);
    return this.read();
  }
  optional(tag: number): Element | undefined {
    return this.peekTag() === tag ? this.read() : undefined;
  }
}

export function children(e: Element): Element[] {
  const r = new Reader(e.value);
  const out: Element[] = [];
  while (!r.empty()) out.push(r.read());
  return out;
}

/** An INTEGER's value as a bigint, refusing non-minimal encodings as cryptobyte does. */
export function integer(e: Element): bigint {
  const v = e.value;
  if (!v.length) throw new DerError('empty integer');
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) throw new DerError('non-minimal integer');
  let n = 0n;
  for (const x of v) n = (n << 8n) | BigInt(x);
  if (v[0]! & 0x80) n -= 1n << BigInt(8 * v.length);
  return n;
}

export function oid(e: Element): string {
  const v = e.value;
  if (!v.length || v[v.length - 1]! & 0x80) throw new DerError('malformed OID');
  const parts: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    if (acc === 0 && v[i] === 0x80) throw new DerError('non-minimal OID');
    acc = acc * 128 + (v[i]! & 0x7f);
    if (!(v[i]! & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  const first = parts.shift()!;
  const a = first < 40 ? 0 : first < 80 ? 1 : 2;
  return [a, first - a * 40, ...parts].join('.');
}

export function bitString(e: Element): { bytes: Buffer; unused: number } {
  const v = e.value;
  if (!v.length || v[0]! > 7 || (v.length === 1 && v[0] !== 0)) throw new DerError('malformed bit string');
  const unused = v[0]!;
  if (unused && v[v.length - 1]! & ((1 << unused) - 1)) throw new DerError('malformed bit string');
  return { bytes: v.subarray(1), unused };
}

export function bitAt(bits: { bytes: Buffer; unused: number }, i: number): boolean {
  const byte = i >> 3;
  if (byte >= bits.bytes.length || (byte === bits.bytes.length - 1 && 7 - (i & 7) < bits.unused)) return false;
  return ((bits.bytes[byte]! >> (7 - (i & 7))) & 1) === 1;
}

export function boolean(e: Element): boolean {
  if (e.value.length !== 1 || (e.value[0] !== 0 && e.value[0] !== 0xff)) throw new DerError('malformed boolean');
  return e.value[0] === 0xff;
}

/** UTCTime / GeneralizedTime as cryptobyte accepts them (Z or an offset; seconds required in GeneralizedTime). */
export function time(e: Element): Date {
  const s = e.value.toString('latin1');
  let m: RegExpExecArray | null;
  let y: number;
  let rest: string;
  if (e.tag === TAG.UTCTime) {
    m = /^(\d{2})(\d{10}(?:\d{2})?)(Z|[+-]\d{4})$/.exec(s);
    if (!m) throw new DerError('malformed UTCTime');
    y = Number(m[1]);
    y += y < 50 ? 2000 : 1900;
    rest = m[2]!.length === 10 ? `${m[2]}00` : m[2]!;
  } else if (e.tag === TAG.GeneralizedTime) {
    m = /^(\d{4})(\d{10}(?:\.\d*[1-9])?)(Z|[+-]\d{4})$/.exec(s);
    if (!m) throw new DerError('malformed GeneralizedTime');
    y = Number(m[1]);
    rest = m[2]!;
  } else throw new DerError('unsupported time format');
  const [mo, d, h, mi, sec] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [number, number, number, number, number];
  const frac = rest.length > 10 ? Number(`0${rest.slice(10)}`) : 0;
  let t = Date.UTC(y, mo - 1, d, h, mi, sec) + Math.floor(frac * 1000);
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) throw new DerError('malformed time');
  const zone = m[3]!;
  if (zone !== 'Z') t -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  return new Date(t);
}

// ---- writer ----

function lengthBytes(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | out.length, ...out]);
}

export function tlv(tag: number, value: Buffer | Buffer[]): Buffer {
  const v = Array.isArray(value) ? Buffer.concat(value) : value;
  return Buffer.concat([Buffer.from([tag]), lengthBytes(v.length), v]);
}

export const seq = (...items: Buffer[]) => tlv(TAG.SEQUENCE, items);
export const set = (...items: Buffer[]) => tlv(TAG.SET, items);
export const nul = () => Buffer.from([TAG.NULL, 0]);
export const octets = (b: Buffer) => tlv(TAG.OCTET_STRING, b);
export const bool = (b: boolean) => tlv(TAG.BOOLEAN, Buffer.from([b ? 0xff : 0]));
export const utf8 = (s: string) => tlv(TAG.UTF8String, Buffer.from(s, 'utf8'));
export const printable = (s: string) => tlv(TAG.PrintableString, Buffer.from(s, 'latin1'));
export const ia5 = (s: string) => tlv(TAG.IA5String, Buffer.from(s, 'latin1'));

export function int(n: bigint | number): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const last = v >= -128n && v <= 127n;
    v >>= 8n;
    if (last) break;
  }
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

/** A positive INTEGER from raw big-endian bytes (a serial number). */
export function uint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && !(b[1]! & 0x80)) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(TAG.INTEGER, b);
}

export function objectId(dotted: string): Buffer {
  const p = dotted.split('.').map(Number);
  const body: number[] = [];
  const enc = (n: number) => {
    const out = [n & 0x7f];
    n = Math.floor(n / 128);
    while (n > 0) {
      out.unshift(0x80 | (n & 0x7f));
      n = Math.floor(n / 128);
    }
    body.push(...out);
  };
  enc(p[0]! * 40 + p[1]!);
  for (const x of p.slice(2)) enc(x);
  return tlv(TAG.OID, Buffer.from(body));
}

export function bits(bytes: Buffer, unused = 0): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** Named bits (bit 0 first) as DER wants them: trailing zero bits dropped. */
export function namedBits(set: number[]): Buffer {
  if (!set.length) return bits(Buffer.alloc(0));
  const max = Math.max(...set);
  const bytes = Buffer.alloc((max >> 3) + 1);
  for (const i of set) bytes[i >> 3]! |= 0x80 >> (i & 7);
  return bits(bytes, 7 - (max & 7));
}

export function utcOrGeneralized(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, '0');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return y >= 1950 && y < 2050
    ? tlv(TAG.UTCTime, Buffer.from(`${p(y % 100)}${body}`))
    : tlv(TAG.GeneralizedTime, Buffer.from(`${y}${body}`));
}
