// IPv4/IPv6 address and CIDR arithmetic: the little the model needs to validate and derive
// addresses (the `kubernetes` service IP, overlap checks), without a dependency.
import { isIP } from 'node:net';

export function isIpAddress(s: string): boolean {
  return isIP(s) !== 0;
}

export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
  text: string;
}

function ipToBigInt(ip: string): { family: 4 | 6; value: bigint } {
  const family = isIP(ip);
  if (family === 4) {
    return { family: 4, value: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (family === 6) {
    // A trailing dotted quad (::ffff:10.0.0.1) is the last two 16-bit groups.
    const q = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
    if (q) ip = `${q[1]}${((Number(q[2]) << 8) | Number(q[3])).toString(16)}:${((Number(q[4]) << 8) | Number(q[5])).toString(16)}`;
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
  }
  throw new Error(`not an IP address: ${ip}`);
}

function bigIntToIp(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run of two or more zero groups (the first of equal runs), as
  // Go, x509 libraries and kubectl print addresses, so that text comparisons agree.
  let best = { start: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j > i ? j : i + 1;
  }
  if (best.start < 0) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.len).join(':')}`;
}

/** Parses "10.32.0.0/24"; returns undefined when the text is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m || !isIpAddress(m[1]!)) return undefined;
  const { family, value } = ipToBigInt(m[1]!);
  const prefix = Number(m[2]);
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const base = (value >> hostBits) << hostBits;
  return { family, base, prefix, text };
}

function size(c: Cidr): bigint {
  return 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

export function cidrContains(c: Cidr, ip: string): boolean {
  if (!isIpAddress(ip)) return false;
  const { family, value } = ipToBigInt(ip);
  return family === c.family && value >= c.base && value < c.base + size(c);
}

/** The n-th address of a CIDR (n=1 gives the `kubernetes` service address of a service CIDR). */
export function nthAddress(c: Cidr, n: number): string {
  return bigIntToIp(c.family, c.base + BigInt(n));
}

/** The network address of a CIDR (10.200.0.0 for 10.200.0.0/16). */
export function networkAddress(c: Cidr): string {
  return bigIntToIp(c.family, c.base);
}

/** How many subnets of prefix `len` a CIDR holds. */
export function subnetCount(c: Cidr, len: number): bigint {
  if (len < c.prefix) return 0n;
  return 1n << BigInt(len - c.prefix);
}
