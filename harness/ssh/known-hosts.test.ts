// known_hosts matching against OpenSSH itself: for a generated set of entries (plain, hashed by
// `ssh-keygen -H`, [host]:port, * and ? patterns, !negation, comma lists, @revoked,
// @cert-authority, bad markers), `ssh-keygen -F <name>` and our matcher must find the same lines
// for every (entry set, host, port). The connection-time decision (@revoked rejects, a CA line is
// no host key) is what -F cannot show: session.test.ts holds it to the real ssh client and sshd.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { hostFieldMatches, hostPattern, judgeHostKey, matchingLines, preferredHostKeyAlgorithms } from './known-hosts.ts';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'hardway-kh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small deterministic PRNG, so a failing case can be reproduced. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const keys = Array.from({ length: 3 }, () => ssh2.utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' '));
const HOSTS = ['a.example', 'b.example', 'node-1', 'node-10', '10.0.0.5', '10.0.0.15', '2001:db8::7', 'Mixed.Example'];
const PORTS = [22, 2222, 8022];
const PATTERNS = [
  '*.example',
  'node-?',
  'node-*',
  '10.0.0.?',
  '10.0.0.*',
  '[*.example]:2222',
  '[10.0.0.?]:*',
  '[node-1]:*',
  '*',
  '[2001:db8::7]:8022',
  'MIXED.example',
];

function entrySet(rand: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const one = (): string => {
    const r = rand();
    if (r < 0.3) return pick(HOSTS);
    if (r < 0.55) return hostPattern(pick(HOSTS), pick(PORTS));
    if (r < 0.8) return pick(PATTERNS);
    return `!${rand() < 0.5 ? pick(HOSTS) : pick(PATTERNS)}`;
  };
  const lines: string[] = [];
  for (let i = 0; i < 9; i++) {
    const r = rand();
    if (r < 0.05) {
      lines.push('# a comment');
      continue;
    }
    if (r < 0.08) {
      lines.push('');
      continue;
    }
    const field = Array.from({ length: 1 + Math.floor(rand() * 3) }, one).join(',');
    const m = rand();
    const marker = m < 0.15 ? '@revoked ' : m < 0.3 ? '@cert-authority ' : m < 0.33 ? '@bogus ' : '';
    lines.push(`${marker}${field} ${pick(keys)}${rand() < 0.3 ? ' comment here' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Line numbers `ssh-keygen -F name -f file` reports. */
async function keygenFind(file: string, name: string): Promise<number[]> {
  const r = await run('ssh-keygen', ['-F', name, '-f', file]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return [...r.stdout.matchAll(/^# Host .* found: line (\d+)/gm)].map((m) => Number(m[1]));
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

describe('known_hosts matching agrees with ssh-keygen -F (differential)', () => {
  it('on every generated entry set, plain and hashed, for every host and port', async () => {
    const rand = prng(12);
    const files: string[] = [];
    for (let i = 0; i < 14; i++) {
      const f = join(tmp, `set-${i}`);
      writeFileSync(f, entrySet(rand));
      files.push(f);
      // `ssh-keygen -H` hashes every plain name (lists become one line per name; patterns stay).
      const h = join(tmp, `set-${i}-hashed`);
      copyFileSync(f, h);
      await run('ssh-keygen', ['-H', '-f', h]).catch(() => undefined);
      files.push(h);
    }
    const cases = files.flatMap((file) => HOSTS.flatMap((host) => PORTS.map((port) => ({ file, host, port }))));
    const disagreements: string[] = [];
    const found = { cases: 0, hashed: 0, revoked: 0, ca: 0 };
    await pool(cases, 8, async ({ file, host, port }) => {
      const want = await keygenFind(file, hostPattern(host, port));
      const text = readFileSync(file, 'utf8').split('\n');
      if (want.length) found.cases++;
      for (const n of want) {
        if (text[n - 1]!.startsWith('|1|')) found.hashed++;
        if (text[n - 1]!.startsWith('@revoked')) found.revoked++;
        if (text[n - 1]!.startsWith('@cert-authority')) found.ca++;
      }
      const got = matchingLines(readFileSync(file, 'utf8'), host, port).map((l) => l.line);
      if (JSON.stringify(got) !== JSON.stringify(want))
        disagreements.push(`${file} ${hostPattern(host, port)}: ssh-keygen ${want.join(',') || '-'}, ours ${got.join(',') || '-'}`);
    });
    expect(disagreements).toEqual([]);
    // The generated sets exercise every form: matches of hashed, revoked and CA lines included.
    expect(found.cases).toBeGreaterThan(cases.length / 4);
    expect(Math.min(found.hashed, found.revoked, found.ca)).toBeGreaterThan(10);
    expect(cases.length).toBe(28 * HOSTS.length * PORTS.length);
  }, 120_000);

  it('a hand-picked table of forms', () => {
    const table: [field: string, name: string, matches: boolean][] = [
      ['[10.0.0.5]:2222', '[10.0.0.5]:2222', true], // what ssh-keyscan -p writes: never matched before
      ['10.0.0.5', '[10.0.0.5]:2222', false],
      ['[10.0.0.5]:2222', '10.0.0.5', false],
      ['[10.0.0.?]:22*', '[10.0.0.5]:2222', true],
      ['a.example,b.example', 'b.example', true],
      ['!b.example,*.example', 'b.example', false],
      ['*.example,!b.example', 'b.example', false],
      ['!b.example', 'a.example', false], // negation alone never matches
      ['A.Example', 'a.example', true],
      ['a.example', 'A.EXAMPLE', true],
      ['node-?', 'node-10', false],
      ['node-*', 'node-10', true],
      ['[node-1]:*', '[node-1]:8022', true],
      ['|1|bm90LWEtdmFsaWQtc2FsdA==|abc=', 'a.example', false], // malformed hash: skipped
    ];
    for (const [field, name, want] of table) expect(hostFieldMatches(field, name), `${field} vs ${name}`).toBe(want);
  });
});

describe('the connection-time decision (hostfile.c)', () => {
  const [k1, k2] = keys.map((k) => Buffer.from(k.split(' ')[1]!, 'base64'));
  const line = (b: Buffer) => `ssh-ed25519 ${b!.toString('base64')}`;
  const table: [name: string, text: string, verdict: string][] = [
    ['the recorded key on a non-22 port', `[h.example]:2222 ${line(k1!)}\n`, 'ok'],
    ['a changed key on a non-22 port is CHANGED, not unknown', `[h.example]:2222 ${line(k2!)}\n`, 'changed'],
    ['the entry without the port holds the key (ssh accepts it)', `h.example ${line(k1!)}\n`, 'ok'],
    ['the entry without the port holds another key', `h.example ${line(k2!)}\n`, 'unknown'],
    ['@revoked rejects even next to a matching plain entry', `[h.example]:2222 ${line(k1!)}\n@revoked * ${line(k1!)}\n`, 'revoked'],
    ['@revoked of another key does not reject', `[h.example]:2222 ${line(k1!)}\n@revoked * ${line(k2!)}\n`, 'ok'],
    ['@cert-authority is not a host key', `@cert-authority * ${line(k1!)}\n`, 'unknown'],
    ['a CA line next to a changed key: still changed', `@cert-authority * ${line(k1!)}\n[h.example]:2222 ${line(k2!)}\n`, 'changed'],
    ['a negated pattern vetoes the line', `!*h.example*,* ${line(k1!)}\n`, 'unknown'],
    ['a wildcard with port', `[*.example]:* ${line(k1!)}\n`, 'ok'],
  ];
  for (const [name, text, verdict] of table) {
    it(name, () => {
      const v = judgeHostKey(text, 'h.example', 2222, k1!);
      expect(v.ok ? 'ok' : v.reason).toBe(verdict);
    });
  }

  it('asks first for the key types on record (as OpenSSH orders HostKeyAlgorithms)', () => {
    const f = join(tmp, 'pref');
    writeFileSync(f, '[h]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7\n');
    expect(preferredHostKeyAlgorithms(f, 'h', 2222, ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'])).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
    ]);
    expect(preferredHostKeyAlgorithms(f, 'other', 22, ['ssh-ed25519', 'ssh-rsa'])).toEqual(['ssh-ed25519', 'ssh-rsa']);
  });
});
