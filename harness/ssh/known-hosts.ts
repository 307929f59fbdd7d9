// known_hosts handling, OpenSSH-compatible: plain and hashed (|1|salt|hash) host patterns,
// "[host]:port" for non-standard ports, SHA256 fingerprints as `ssh-keygen -lf` prints them.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  type: string;
  /** Base64 of the SSH wire-format public key. */
  blob: string;
}

export function fingerprint(blob: Buffer | string): string {
  const buf = typeof blob === 'string' ? Buffer.from(blob, 'base64') : blob;
  return 'SHA256:' + createHash('sha256').update(buf).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH wire-format key blob (e.g. "ssh-ed25519"). */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return pattern.split(',').some((p) => {
    if (p.startsWith('!')) return false;
    const re = new RegExp('^' + p.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
    return re.test(name);
  });
}

/** Keys recorded for host:port in a known_hosts file (empty when none or no file). */
export function knownKeys(file: string, host: string, port: number): KnownKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const name = hostPattern(host, port);
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const offset = parts[0]!.startsWith('@') ? 1 : 0; // @cert-authority / @revoked markers
    if (offset && parts[0] === '@revoked') continue;
    const [pattern, type, blob] = parts.slice(offset);
    if (pattern && type && blob && matches(pattern, name)) out.push({ type, blob });
  }
  return out;
}

export function recordKey(file: string, host: string, port: number, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${hostPattern(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

export type HostKeyVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'changed'; fingerprint: string; known?: string[] };

/** Compares a presented key with the file's entries for host:port. */
export function checkHostKey(file: string, host: string, port: number, presented: Buffer): HostKeyVerdict {
  const keys = knownKeys(file, host, port);
  const b64 = presented.toString('base64');
  if (keys.some((k) => k.blob === b64)) return { ok: true };
  const fp = fingerprint(presented);
  if (keys.length === 0) return { ok: false, reason: 'unknown', fingerprint: fp };
  return { ok: false, reason: 'changed', fingerprint: fp, known: keys.map((k) => `${k.type} ${fingerprint(k.blob)}`) };
}
