// A port of crypto/x509's Certificate.Verify (verify.go, Go 1.24–1.26) for the chains Kubernetes
// components check: isValid, CheckSignatureFrom, buildChains with its candidate order and its
// error bookkeeping, VerifyHostname, checkChainForKeyUsage and checkChainConstraints (DNS and IP).
// Each error carries Go's text and a hardway finding code.
import { createHash } from 'node:crypto';
import { type ParsedCert, OID, checkSignature } from './cert.ts';

export type Purpose = 'serving' | 'client';

export interface GoError {
  code: string;
  /** Go's error text, as Verify or CheckSignatureFrom would return it. */
  go: string;
  /** The certificate the problem is about (a CA for issuer problems). */
  cert: ParsedCert;
  /** For "signed by unknown authority": the candidate's error Go hints at, and that candidate. */
  hint?: GoError;
  candidate?: ParsedCert;
}

const goTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class Pool {
  readonly certs: ParsedCert[] = [];
  private sums = new Set<string>();
  private byName = new Map<string, ParsedCert[]>();
  add(c: ParsedCert): void {
    const sum = createHash('sha224').update(c.raw).digest('hex');
    if (this.sums.has(sum)) return;
    this.sums.add(sum);
    this.certs.push(c);
    const k = c.rawSubject.toString('hex');
    this.byName.set(k, [...(this.byName.get(k) ?? []), c]);
  }
  contains(c: ParsedCert): boolean {
    return this.sums.has(createHash('sha224').update(c.raw).digest('hex'));
  }
  /** CertPool.findPotentialParents: same subject; AKID/SKID matches first. */
  findPotentialParents(c: ParsedCert): ParsedCert[] {
    const match: ParsedCert[] = [];
    const one: ParsedCert[] = [];
    const mismatch: ParsedCert[] = [];
    for (const p of this.byName.get(c.rawIssuer.toString('hex')) ?? []) {
      const ski = p.subjectKeyId ?? Buffer.alloc(0);
      const aki = c.authorityKeyId ?? Buffer.alloc(0);
      if (ski.equals(aki)) match.push(p);
      else if ((!ski.length && aki.length) || (ski.length && !aki.length)) one.push(p);
      else mismatch.push(p);
    }
    return [...match, ...one, ...mismatch];
  }
}

type CertType = 'leaf' | 'intermediate' | 'root';

export function isValid(c: ParsedCert, type: CertType, chain: ParsedCert[], now: Date): GoError | undefined {
  if (c.unhandledCritical.length) return { code: 'critical-extension', go: 'x509: unhandled critical extension', cert: c };
  if (chain.length && !chain[chain.length - 1]!.rawIssuer.equals(c.rawSubject)) {
    return { code: 'chain-unknown-authority', go: 'x509: issuer name does not match subject from issuing certificate', cert: c };
  }
  if (now < c.notBefore) {
    return {
      code: 'not-yet-valid',
      go: `x509: certificate has expired or is not yet valid: current time ${goTime(now)} is before ${goTime(c.notBefore)}`,
      cert: c,
    };
  }
  if (now > c.notAfter) {
    return {
      code: 'expired',
      go: `x509: certificate has expired or is not yet valid: current time ${goTime(now)} is after ${goTime(c.notAfter)}`,
      cert: c,
    };
  }
  if (type === 'intermediate' && (!c.basicConstraintsValid || !c.isCA)) {
    return { code: 'issuer-not-ca', go: 'x509: certificate is not authorized to sign other certificates', cert: c };
  }
  if (c.basicConstraintsValid && c.maxPathLen >= 0 && chain.length - 1 > c.maxPathLen) {
    return { code: 'path-len-exceeded', go: 'x509: too many intermediates for path length constraint', cert: c };
  }
  return undefined;
}

const CONSTRAINT_VIOLATION = 'x509: invalid signature: parent certificate cannot sign this kind of certificate';

/** Certificate.CheckSignatureFrom: the parent's CA flag and key usage, then the signature itself. */
export function checkSignatureFrom(c: ParsedCert, parent: ParsedCert): GoError | undefined {
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) {
    return { code: 'issuer-not-ca', go: CONSTRAINT_VIOLATION, cert: parent };
  }
  if (parent.keyUsage !== 0 && !(parent.keyUsage & (1 << 5))) return { code: 'issuer-no-certsign', go: CONSTRAINT_VIOLATION, cert: parent };
  if (parent.publicKeyAlgorithm === 'unknown')
    return { code: 'signature-algorithm-unsupported', go: 'x509: cannot verify signature: algorithm unimplemented', cert: parent };
  const err = checkSignature(c.signatureAlgorithm, c.tbs, c.signature, parent);
  if (!err) return undefined;
  if (err.includes('insecure algorithm')) return { code: 'signature-algorithm-insecure', go: err, cert: c };
  if (err.startsWith('crypto/rsa:') && err.includes('-bit keys are insecure')) return { code: 'rsa-key-too-small', go: err, cert: parent };
  if (err.includes('algorithm unimplemented') || err.includes('signature algorithm specifies'))
    return { code: 'signature-algorithm-unsupported', go: err, cert: c };
  // The key does not verify the signature: another CA with the same name signed it.
  return { code: 'chain-unknown-authority', go: err, cert: c };
}

function alreadyInChain(candidate: ParsedCert, chain: ParsedCert[]): boolean {
  const san = (x: ParsedCert) => x.extensions.find((e) => e.oid === OID.san)?.value;
  for (const c of chain) {
    if (!candidate.rawSubject.equals(c.rawSubject) || !candidate.rawSpki.equals(c.rawSpki)) continue;
    const a = san(candidate);
    const b = san(c);
    if (!a && !b) return true;
    if (!a || !b) return false;
    if (a.equals(b)) return true;
  }
  return false;
}

function candidateName(c: ParsedCert): string {
  return c.subject.cn || c.subject.o[0] || `serial:${c.serial}`;
}

export function unknownAuthority(c: ParsedCert, hint?: { err: GoError; cand: ParsedCert }): GoError {
  if (!hint) return { code: 'chain-unknown-authority', go: 'x509: certificate signed by unknown authority', cert: c };
  return {
    code: hint.err.code,
    go: `x509: certificate signed by unknown authority (possibly because of ${JSON.stringify(hint.err.go)} while trying to verify candidate authority certificate ${JSON.stringify(candidateName(hint.cand))})`,
    cert: hint.err.cert,
    hint: hint.err,
    candidate: hint.cand,
  };
}

export interface ChainOptions {
  roots: Pool;
  intermediates: Pool;
  now: Date;
}

const SIGNATURE_LIMIT = 100;

/** buildChains, including how Go's err variable ends up holding the last failure. */
export function buildChains(
  c: ParsedCert,
  chain: ParsedCert[],
  opts: ChainOptions,
  sigChecks = { n: 0 },
): { chains: ParsedCert[][]; err?: GoError } {
  let hint: { err: GoError; cand: ParsedCert } | undefined;
  let err: GoError | undefined;
  let limit = false;
  const chains: ParsedCert[][] = [];
  const consider = (type: 'root' | 'intermediate', cand: ParsedCert) => {
    if (++sigChecks.n > SIGNATURE_LIMIT) {
      limit = true;
      err = {
        code: 'chain-unknown-authority',
        go: 'x509: signature check attempts limit reached while verifying certificate chain',
        cert: c,
      };
      return;
    }
    if (!cand.publicKey && cand.publicKeyAlgorithm === 'unknown') return;
    if (alreadyInChain(cand, chain)) return;
    const sigErr = checkSignatureFrom(c, cand);
    if (sigErr) {
      hint ??= { err: sigErr, cand };
      return;
    }
    err = isValid(cand, type, chain, opts.now);
    if (err) {
      hint ??= { err, cand };
      return;
    }
    if (type === 'root') chains.push([...chain, cand]);
    else {
      const r = buildChains(cand, [...chain, cand], opts, sigChecks);
      err = r.err;
      chains.push(...r.chains);
    }
  };
  outer: for (const [type, pool] of [
    ['root', opts.roots],
    ['intermediate', opts.intermediates],
  ] as const) {
    for (const p of pool.findPotentialParents(c)) {
      consider(type, p);
      if (limit) break outer;
    }
  }
  if (chains.length) err = undefined;
  if (!chains.length && !err) err = unknownAuthority(c, hint);
  return err ? { chains, err } : { chains };
}

// ---- host names (VerifyHostname) ----

/** net.ParseIP: dotted IPv4 without leading zeros, or IPv6 (no zone). 16 bytes, IPv4 mapped. */
export function parseIP(s: string): Buffer | undefined {
  const v4 = (t: string): number[] | undefined => {
    const p = t.split('.');
    if (p.length !== 4) return undefined;
    const out: number[] = [];
    for (const x of p) {
      if (!/^\d{1,3}$/.test(x) || (x.length > 1 && x[0] === '0') || Number(x) > 255) return undefined;
      out.push(Number(x));
    }
    return out;
  };
  const four = v4(s);
  if (four) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...four]);
  if (!s.includes(':')) return undefined;
  let tail: number[] = [];
  let t = s;
  const lastColon = t.lastIndexOf(':');
  if (t.slice(lastColon + 1).includes('.')) {
    const x = v4(t.slice(lastColon + 1));
    if (!x) return undefined;
    tail = x;
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const group = (g: string) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN);
  const head = halves[0] ? halves[0].split(':').map(group) : [];
  const rest = halves.length === 2 ? (halves[1] ? halves[1].split(':').map(group) : []) : [];
  if ([...head, ...rest].some(Number.isNaN)) return undefined;
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (groups.length !== 8 || (halves.length === 2 && head.length + rest.length > 7)) return undefined;
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(g, i * 2);
  for (const [i, x] of tail.entries()) b[12 + i] = x;
  return b;
}

const to16 = (ip: Buffer) => (ip.length === 4 ? Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip]) : ip);
const isV4Mapped = (ip: Buffer) => ip.length === 16 && ip.subarray(0, 10).every((x) => x === 0) && ip[10] === 0xff && ip[11] === 0xff;

/** net.IP.String(). */
export function ipString(ip: Buffer): string {
  if (ip.length === 4 || isV4Mapped(ip)) return [...(ip.length === 4 ? ip : ip.subarray(12))].join('.');
  if (ip.length !== 16) return `?${ip.toString('hex')}`;
  const g = Array.from({ length: 8 }, (_, i) => ip.readUInt16BE(i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = Math.max(i, j);
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function validHostname(host: string, isPattern: boolean): boolean {
  if (!isPattern) host = host.replace(/\.$/, '');
  if (!host || host === '*') return false;
  const parts = host.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (!part) return false;
    if (isPattern && i === 0 && part === '*') continue;
    for (let j = 0; j < part.length; j++) {
      const c = part[j]!;
      if (/[a-zA-Z0-9_]/.test(c) || (c === '-' && j !== 0)) continue;
      return false;
    }
  }
  return true;
}

const splitHostname = (h: string) => lowerAscii(h.replace(/\.$/, '')).split('.');

function matchHostnames(pattern: string, hostParts: string[]): boolean {
  pattern = lowerAscii(pattern);
  if (!pattern || !hostParts.length) return false;
  const p = pattern.split('.');
  if (p.length !== hostParts.length) return false;
  return p.every((x, i) => (i === 0 && x === '*') || x === hostParts[i]);
}

function matchExactly(a: string, b: string): boolean {
  if (!a || a === '.' || !b || b === '.') return false;
  return lowerAscii(a) === lowerAscii(b);
}

function hostnameError(c: ParsedCert, host: string): string {
  if (!c.hasSAN && matchHostnames(c.subject.cn, splitHostname(host)))
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  let valid: string;
  if (parseIP(host)) {
    if (!c.ips.length) return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    valid = c.ips.map(ipString).join(', ');
  } else valid = c.dnsNames.join(', ');
  if (!valid) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${valid}, not ${host}`;
}

/** Certificate.VerifyHostname: IP SANs for addresses, DNS SANs (left-most wildcard) for names, never the CN. */
export function verifyHostname(c: ParsedCert, h: string): GoError | undefined {
  let candidateIP = h;
  if (h.length >= 3 && h[0] === '[' && h[h.length - 1] === ']') candidateIP = h.slice(1, -1);
  const ip = parseIP(candidateIP);
  if (ip) {
    if (c.ips.some((x) => to16(x).equals(ip))) return undefined;
    return { code: 'san-missing', go: hostnameError(c, candidateIP), cert: c };
  }
  const name = lowerAscii(h);
  const validName = validHostname(name, false);
  const parts = splitHostname(name);
  for (const m of c.dnsNames) {
    if (validName && validHostname(m, true) ? matchHostnames(m, parts) : matchExactly(m, name)) return undefined;
  }
  return { code: 'san-missing', go: hostnameError(c, h), cert: c };
}

// ---- extended key usage ----

/** checkChainForKeyUsage; on failure, the certificate where the usage was crossed out. */
export function chainKeyUsage(chain: ParsedCert[], usage: string): ParsedCert | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i]!;
    if (!c.extKeyUsage.length || c.extKeyUsage.includes(OID.ekuAny)) continue;
    if (!c.extKeyUsage.includes(usage)) return c;
  }
  return undefined;
}

export const USAGE: Record<Purpose, string> = { serving: OID.serverAuth, client: OID.clientAuth };

// ---- name constraints (DNS and IP; email and URI reported as not covered) ----

function dnsHasSuffix(a: string, b: string): boolean {
  if (a.length > b.length) return false;
  if (lowerAscii(b.slice(b.length - a.length)) !== lowerAscii(a)) return false;
  if (a[0] !== '.' && b.length > a.length && b[b.length - a.length - 1] !== '.') return false;
  return true;
}

function domainNameValid(s: string): boolean {
  if (!s) return true;
  if (s.endsWith('.')) return false;
  for (const label of s.split('.')) {
    if (!label) return false;
    for (const ch of label) if (ch.charCodeAt(0) < 33 || ch.charCodeAt(0) > 126) return false;
  }
  return true;
}

const trimFirstLabel = (s: string) => (s.includes('.') ? s.slice(s.indexOf('.')) : '');

function ipInRange(ip: Buffer, r: { ip: Buffer; mask: Buffer }): boolean {
  if (ip.length !== r.ip.length) return false;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & r.mask[i]!) !== (r.ip[i]! & r.mask[i]!)) return false;
  return true;
}

function rangeString(r: { ip: Buffer; mask: Buffer }): string {
  let ones = 0;
  for (const b of r.mask) for (let i = 7; i >= 0; i--) if ((b >> i) & 1) ones++;
  return `${ipString(r.ip)}/${ones}`;
}

export interface ConstraintResult {
  err?: GoError;
  /** Email or URI names under email/URI constraints: not checked by hardway. */
  unchecked: boolean;
}

export function checkChainConstraints(chain: ParsedCert[]): ConstraintResult {
  const withNc = chain.map((c, i) => ({ c, i })).filter((x) => x.c.extensions.some((e) => e.oid === OID.nameConstraints));
  let unchecked = false;
  if (!withNc.length) return { unchecked };
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (!c.hasSAN) continue;
    const above = withNc.filter((x) => x.i > i);
    if (!above.length) return { unchecked };
    for (const { c: ca } of above) {
      const nc = ca.nameConstraints!;
      const fail = (detail: string): ConstraintResult => ({
        err: {
          code: 'name-constraints',
          go: `x509: a root or intermediate certificate is not authorized to sign for this name: ${detail}`,
          cert: ca,
        },
        unchecked,
      });
      for (const ip of c.ips) {
        const family = (r: { ip: Buffer }) => r.ip.length === ip.length;
        const permitted = nc.permittedIP.filter(family);
        const excluded = nc.excludedIP.filter(family);
        if (nc.permittedIP.length && !permitted.some((r) => ipInRange(ip, r)))
          return fail(`IP address "${ipString(ip)}" is not permitted by any constraint`);
        const ex = excluded.find((r) => ipInRange(ip, r));
        if (ex) return fail(`IP address "${ipString(ip)}" is excluded by constraint "${rangeString(ex)}"`);
      }
      for (const d of c.dnsNames) {
        if (!domainNameValid(d)) return { err: { code: 'name-constraints', go: `x509: cannot parse dnsName "${d}"`, cert: c }, unchecked };
        if (nc.permittedDNS.length && !nc.permittedDNS.some((p) => p === '' || dnsHasSuffix(p, d)))
          return fail(`DNS name "${d}" is not permitted by any constraint`);
        let ex = nc.excludedDNS.find((p) => p === '' || dnsHasSuffix(p, d));
        if (!ex && d.startsWith('*')) {
          const t = trimFirstLabel(lowerAscii(d));
          ex = nc.excludedDNS.find((p) => trimFirstLabel(p.toLowerCase()) === t && t !== '');
        }
        if (ex !== undefined) return fail(`DNS name "${d}" is excluded by constraint "${ex}"`);
      }
      if (
        (c.emails.length && (nc.permittedEmail.length || nc.excludedEmail.length)) ||
        (c.uris.length && (nc.permittedURI.length || nc.excludedURI.length))
      )
        unchecked = true;
    }
  }
  return { unchecked };
}

// ---- Verify ----

export interface VerifyOptions extends ChainOptions {
  purpose: Purpose;
  dnsName?: string;
}

/** Certificate.Verify for one role, as a Kubernetes component runs it. */
export function goVerify(leaf: ParsedCert, opts: VerifyOptions): { chains: ParsedCert[][]; err?: GoError; unchecked: boolean } {
  const e = isValid(leaf, 'leaf', [], opts.now);
  if (e) return { chains: [], err: e, unchecked: false };
  if (opts.dnsName) {
    const h = verifyHostname(leaf, opts.dnsName);
    if (h) return { chains: [], err: h, unchecked: false };
  }
  let candidates: ParsedCert[][];
  if (opts.roots.contains(leaf)) candidates = [[leaf]];
  else {
    const r = buildChains(leaf, [leaf], opts);
    if (r.err) return { chains: [], err: r.err, unchecked: false };
    candidates = r.chains;
  }
  let usageErr: GoError | undefined;
  let constraintErr: GoError | undefined;
  let unchecked = false;
  const ok = candidates.filter((chain) => {
    const bad = chainKeyUsage(chain, USAGE[opts.purpose]);
    if (bad) {
      usageErr ??= {
        code: bad === leaf ? 'eku-missing' : 'eku-ca-restricts',
        go: 'x509: certificate specifies an incompatible key usage',
        cert: bad,
      };
      return false;
    }
    const cc = checkChainConstraints(chain);
    unchecked ||= cc.unchecked;
    if (cc.err) {
      constraintErr ??= cc.err;
      return false;
    }
    return true;
  });
  if (!ok.length) return { chains: [], err: constraintErr ?? usageErr, unchecked };
  return { chains: ok, unchecked };
}
