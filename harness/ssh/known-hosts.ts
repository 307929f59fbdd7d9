// known_hosts as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT", hostfile.c, match.c):
// a line is [@cert-authority|@revoked] hostpatterns keytype base64-key [comment]. The name looked
// up is "host" on port 22 and "[host]:port" elsewhere (what ssh-keyscan -p writes). A pattern
// field is either one hashed name (|1|salt|HMAC-SHA1) or a comma list of patterns with * and ?
// (case-insensitive) where a matching !negation vetoes the line. At connection time a presented
// key equal to a matching @revoked entry is refused outright; otherwise a matching plain entry
// with the same key accepts it, any other matching plain entry means the key CHANGED, and no
// plain entry means unknown. @cert-authority lines vouch for host certificates, never for a
// plain host key (ssh2 does not do host certificates), so they are not host keys here.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  type: string;
  /** Base64 of the SSH wire-format public key. */
  blob: string;
}

export interface KnownHostsLine extends KnownKey {
  /** 1-based line number in the file. */
  line: number;
  marker?: 'cert-authority' | 'revoked';
  /** The host pattern field as written. */
  hosts: string;
}

export function fingerprint(blob: Buffer | string): string {
  const buf = typeof blob === 'string' ? Buffer.from(blob, 'base64') : blob;
  return `SHA256:${createHash('sha256').update(buf).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format key blob (e.g. "ssh-ed25519"). */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

/** The name OpenSSH looks up for host:port (put_host_port). */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's match_pattern: '*' any run, '?' one character, everything else literal. */
function globMatch(text: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\/]/g, '\\$&')
      .replace(/\*/g, '[\\s\\S]*')
      .replace(/\?/g, '[\\s\\S]')}$`,
  );
  return re.test(text);
}

/** A hashed field: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashedMatch(field: string, name: string): boolean {
  const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(field);
  if (!m) return false; // a malformed hash: OpenSSH skips the line
  const salt = Buffer.from(m[1]!, 'base64');
  if (salt.length !== 20) return false;
  return createHmac('sha1', salt).update(name).digest('base64') === m[2];
}

/** Whether a host pattern field matches the looked-up name (match_maybe_hashed). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, name);
  const host = name.toLowerCase();
  let positive = false;
  for (const raw of field.split(',')) {
    const neg = raw.startsWith('!');
    const p = (neg ? raw.slice(1) : raw).toLowerCase();
    if (!globMatch(host, p)) continue;
    if (neg) return false; // a negated match vetoes the whole line
    positive = true;
  }
  return positive;
}

/** Parses known_hosts text; lines OpenSSH would skip (bad marker, truncated) are left out. */
export function parseKnownHosts(text: string): KnownHostsLine[] {
  const out: KnownHostsLine[] = [];
  text.split('\n').forEach((raw, i) => {
    let rest = raw.replace(/^[ \t]+/, '').replace(/\r$/, '');
    if (!rest || rest.startsWith('#')) return;
    let marker: KnownHostsLine['marker'];
    if (rest.startsWith('@')) {
      const m = /^@(\S+)[ \t]+/.exec(rest);
      if (!m || (m[1] !== 'cert-authority' && m[1] !== 'revoked')) return;
      marker = m[1];
      rest = rest.slice(m[0].length);
      if (rest.startsWith('@')) return; // only one marker is allowed
    }
    const [hosts, type, blob] = rest.split(/[ \t]+/);
    if (!hosts || !type || !blob || type.startsWith('#')) return;
    out.push({ line: i + 1, ...(marker ? { marker } : {}), hosts, type, blob });
  });
  return out;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Lines of a known_hosts text whose host field matches host:port (any marker). */
export function matchingLines(text: string, host: string, port: number): KnownHostsLine[] {
  const name = hostPattern(host, port);
  return parseKnownHosts(text).filter((l) => hostFieldMatches(l.hosts, name));
}

/** Plain host keys recorded for host:port in a known_hosts file (empty when none or no file). */
export function knownKeys(file: string, host: string, port: number): KnownKey[] {
  return matchingLines(readText(file), host, port)
    .filter((l) => !l.marker)
    .map(({ type, blob }) => ({ type, blob }));
}

export function recordKey(file: string, host: string, port: number, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${hostPattern(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

export type HostKeyVerdict =
  | { ok: true }
  | {
      ok: false;
      reason: 'unknown' | 'changed' | 'revoked';
      fingerprint: string;
      known?: string[];
      lines?: number[];
      onlyCertAuthority?: boolean;
    };

const sameKey = (blob: string, presented: Buffer) => Buffer.from(blob, 'base64').equals(presented);

function judgeName(lines: KnownHostsLine[], presented: Buffer): HostKeyVerdict {
  const fp = fingerprint(presented);
  const revoked = lines.filter((l) => l.marker === 'revoked' && sameKey(l.blob, presented));
  if (revoked.length) return { ok: false, reason: 'revoked', fingerprint: fp, lines: revoked.map((l) => l.line) };
  const plain = lines.filter((l) => !l.marker);
  if (plain.some((l) => sameKey(l.blob, presented))) return { ok: true };
  if (plain.length)
    return {
      ok: false,
      reason: 'changed',
      fingerprint: fp,
      known: plain.map((l) => `${l.type} ${fingerprint(l.blob)}`),
      lines: plain.map((l) => l.line),
    };
  return {
    ok: false,
    reason: 'unknown',
    fingerprint: fp,
    ...(lines.some((l) => l.marker === 'cert-authority') ? { onlyCertAuthority: true } : {}),
  };
}

/**
 * The connection-time decision for a presented key (hostfile.c check_hostkeys_by_key_or_type,
 * sshconnect.c check_host_key): on a port other than 22, a host unknown as "[host]:port" is
 * accepted when its entry without the port holds exactly this key (ssh's "found matching key
 * w/out port"); anything else there leaves it unknown.
 */
export function judgeHostKey(text: string, host: string, port: number, presented: Buffer): HostKeyVerdict {
  const v = judgeName(matchingLines(text, host, port), presented);
  if (v.ok || v.reason !== 'unknown' || port === 22) return v;
  return judgeName(matchingLines(text, host, 22), presented).ok ? { ok: true } : v;
}

/** Compares a presented key with the file's entries for host:port. */
export function checkHostKey(file: string, host: string, port: number, presented: Buffer): HostKeyVerdict {
  return judgeHostKey(readText(file), host, port, presented);
}

/** Host key algorithms for each known_hosts key type. */
const ALGORITHMS_OF: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * `defaults` reordered so that algorithms of key types on record for host:port come first, as
 * OpenSSH orders HostKeyAlgorithms (sshconnect2.c order_hostkeyalgs): a host with several keys
 * then shows the one on record instead of an unrecorded one that would look like a changed key.
 * A type counts as on record when its first plain entry is not @revoked.
 */
export function preferredHostKeyAlgorithms(file: string, host: string, port: number, defaults: string[]): string[] {
  const lines = matchingLines(readText(file), host, port);
  const known = new Set<string>();
  for (const type of new Set(lines.filter((l) => !l.marker).map((l) => l.type))) {
    const first = lines.find((l) => !l.marker && l.type === type)!;
    if (lines.some((l) => l.marker === 'revoked' && l.blob === first.blob)) continue;
    for (const a of ALGORITHMS_OF[type] ?? [type]) known.add(a);
  }
  return [...defaults.filter((a) => known.has(a)), ...defaults.filter((a) => !known.has(a))];
}
