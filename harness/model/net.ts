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

/** The network a CIDR names, as routes print it (10.200.64.0/18 for 10.200.65.1/18); undefined when
 * the text is not a CIDR. */
export function networkOf(text: string): string | undefined {
  const c = parseCidr(text);
  return c ? `${networkAddress(c)}/${c.prefix}` : undefined;
}

/** How many subnets of prefix `len` a CIDR holds. */
export function subnetCount(c: Cidr, len: number): bigint {
  if (len < c.prefix) return 0n;
  return 1n << BigInt(len - c.prefix);
}

/** An address as the host part of a URL or host:port: IPv6 in brackets (RFC 3986). */
export function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** "address:port", with IPv6 bracketed: https://${hostPort(a, 6443)}. */
export function hostPort(address: string, port: number): string {
  return `${urlHost(address)}:${port}`;
}

/** For a CIDR whose address has bits beyond its prefix, the network it means (10.32.0.5/24 -> 10.32.0.0/24). */
export function cidrWithHostBits(text: string): string | undefined {
  const c = parseCidr(text);
  if (!c) return undefined;
  const addr = text.slice(0, text.indexOf('/'));
  return ipToBigInt(addr).value === c.base ? undefined : `${networkAddress(c)}/${c.prefix}`;
}

/** Address bits left for hosts in a CIDR (8 for a /24). */
export function hostBits(c: Cidr): number {
  return (c.family === 4 ? 32 : 128) - c.prefix;
}

/**
 * A CoreDNS forward destination as the model allows it: an absolute resolv.conf path, an
 * IPv4 or IPv6 address, "a.b.c.d:port" or "[v6]:port". Returns why not, or undefined.
 */
export function upstreamProblem(s: string): string | undefined {
  if (s.startsWith('/')) return undefined;
  const port = (p: string) =>
    /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535 ? undefined : `port ${p} is not a port number (1-65535)`;
  if (isIP(s)) return undefined;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
  if (v6) return isIP(v6[1]!) === 6 ? port(v6[2]!) : `"${v6[1]}" in brackets is not an IPv6 address`;
  if (/^\[[^\]]+\]$/.test(s)) return isIP(s.slice(1, -1)) === 6 ? undefined : `"${s}" is not an IPv6 address`;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(.*))?$/.exec(s);
  if (v4) {
    if (!isIP(v4[1]!)) return `${v4[1]} is not an IPv4 address (each octet is 0-255)`;
    return v4[2] !== undefined ? port(v4[2]) : undefined;
  }
  if (/^[\d.]+(:\d*)?$/.test(s)) return `${s.replace(/:.*$/, '')} is not an IPv4 address (four octets 0-255)`;
  return 'expected a resolv.conf path or an address';
}
