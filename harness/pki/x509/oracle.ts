// The Go oracle of the differential tests: harness/pki/x509/oracle/ built with the local Go
// toolchain into the cache (keyed by a hash of its sources and the Go version, so it is built
// once and reused), run once per test file with every case on stdin.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR } from '../../cache.ts';

export const ORACLE_SOURCE = join(import.meta.dirname, 'oracle');
const FILES = ['main.go', 'go.mod', 'go.sum'];

export interface OracleCase {
  id: string;
  kind: 'pair' | 'kubeconfig' | 'sa' | 'info';
  purpose?: 'serving' | 'client';
  cert?: string;
  key?: string;
  trust?: string;
  names?: string[];
  /** RFC 3339; the oracle's clock for Verify and the handshake. */
  now?: string;
  kubeconfig?: string;
  servingCert?: string;
  servingKey?: string;
  clientCA?: string;
  verifyKeys?: string[];
  signingKey?: string;
}

export interface OracleResult {
  id: string;
  ok: boolean;
  stage?: string;
  error?: string;
  steps: { stage: string; error?: string }[];
  /** kind info: the Go version and the binary's DefaultGODEBUG. */
  info?: string;
  resolved?: {
    host: string;
    serverName: string;
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    certSha256?: string;
    token: boolean;
  };
}

export const GO_HINT = 'the x509 oracle needs Go 1.24 or newer (go on PATH); install it (bin/prepare-machine does) and run the tests again';

/** The Go version, or why Go cannot be used. */
export function goVersion(): { version?: string; problem?: string } {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (r.error) return { problem: `go cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); ${GO_HINT}` };
  const v = r.stdout.trim();
  const m = /^go1\.(\d+)/.exec(v);
  if (!m || Number(m[1]) < 24) return { problem: `found ${v || 'no Go version'}; ${GO_HINT}` };
  return { version: v };
}

export interface BuiltOracle {
  path: string;
  /** Whether this call compiled it (false: taken from the cache). */
  built: boolean;
  ms: number;
  goVersion: string;
}

/**
 * Builds the oracle into ~/.cache/hardway/x509-oracle/<hash>/ unless it is there already. Test
 * files running in parallel share one build: the first takes a lock, the others wait for it.
 */
export async function buildOracle(): Promise<BuiltOracle> {
  const t0 = Date.now();
  const go = goVersion();
  if (!go.version) throw new Error(go.problem);
  const h = createHash('sha256').update(go.version);
  for (const f of FILES) h.update(f).update(readFileSync(join(ORACLE_SOURCE, f)));
  const dir = join(CACHE_DIR, 'x509-oracle', h.digest('hex').slice(0, 16));
  const bin = join(dir, 'oracle');
  const done = (built: boolean): BuiltOracle => ({ path: bin, built, ms: Date.now() - t0, goVersion: go.version! });
  if (existsSync(bin)) return done(false);
  mkdirSync(join(CACHE_DIR, 'x509-oracle'), { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(bin)) return done(false);
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      // A build never takes this long: its owner died.
      if (age > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  // Build in a copy so that the repository's tree is never written (go.sum updates, build files).
  const work = mkdtempSync(join(tmpdir(), 'hardway-x509-oracle-'));
  try {
    if (existsSync(bin)) return done(false);
    for (const f of FILES) copyFileSync(join(ORACLE_SOURCE, f), join(work, f));
    const out = join(work, 'oracle');
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const p = spawn('go', ['build', '-trimpath', '-o', out, '.'], {
        cwd: work,
        env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', (e) => resolve({ code: 127, stderr: e.message }));
      p.on('close', (code) => resolve({ code: code ?? 1, stderr }));
    });
    if (r.code !== 0) throw new Error(`building the x509 oracle failed: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    const partial = `${dir}.partial-${process.pid}`;
    mkdirSync(partial, { recursive: true });
    renameSync(out, join(partial, 'oracle'));
    renameSync(partial, dir);
    // Builds of older sources are not needed any more (a day's grace for other checkouts).
    for (const e of readdirSync(join(CACHE_DIR, 'x509-oracle'))) {
      const p = join(CACHE_DIR, 'x509-oracle', e);
      if (p !== dir && /^[0-9a-f]{16}$/.test(e) && Date.now() - statSync(p).mtimeMs > 86400_000)
        rmSync(p, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
  return done(true);
}

/** Runs every case in one oracle process. */
export async function runOracle(bin: string, cases: OracleCase[]): Promise<Map<string, OracleResult>> {
  const p = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => resolve(code ?? 1));
  });
  p.stdin.end(JSON.stringify(cases));
  const code = await done;
  if (code !== 0) throw new Error(`the x509 oracle exited with ${code}: ${err.trim()}`);
  const results = JSON.parse(out) as OracleResult[];
  return new Map(results.map((r) => [r.id, r]));
}

/**
 * The finding codes that correspond to Go's reason. Some Go errors cover two of hardway's codes
 * (Go's ConstraintViolationError is the same text for CA:FALSE and for a keyUsage without
 * keyCertSign; IncompatibleUsage for the leaf's and a CA's extended key usage).
 */
export function codesForGoError(text: string): string[] {
  const rules: [RegExp, string[]][] = [
    [/insecure algorithm/, ['signature-algorithm-insecure']],
    [/algorithm unimplemented|signature algorithm specifies an/, ['signature-algorithm-unsupported']],
    [/-bit keys are insecure|RSA key size too small/, ['rsa-key-too-small']],
    [/parent certificate cannot sign this kind of certificate/, ['issuer-not-ca', 'issuer-no-certsign']],
    [/not authorized to sign other certificates/, ['issuer-not-ca']],
    [/too many intermediates for path length constraint/, ['path-len-exceeded']],
    [/expired or is not yet valid: current time \S+ is after/, ['expired']],
    [/expired or is not yet valid: current time \S+ is before/, ['not-yet-valid']],
    [/unhandled critical extension/, ['critical-extension']],
    [/incompatible key usage/, ['eku-missing', 'eku-ca-restricts']],
    [/not authorized to sign for this name/, ['name-constraints']],
    [/certificate is valid for|doesn't contain any IP SANs|not valid for any names|relies on legacy Common Name/, ['san-missing']],
    [/private key (type )?does not match public key/, ['key-mismatch']],
    [/signed by unknown authority|verification error|verification failure/, ['chain-unknown-authority']],
    [/context was not found for specified context/, ['kubeconfig-context-missing']],
    [/kubectl would talk plain http/, ['kubeconfig-no-context', 'kubeconfig-cluster-missing', 'kubeconfig-no-server']],
    [/no configuration has been provided/, ['kubeconfig-no-context']],
    [/client-key-data or client-key must be specified/, ['kubeconfig-client-key-missing']],
    [/are both specified|insecure flag is not allowed|more than one authentication method/, ['kubeconfig-conflict']],
    [/unable to read|no such file or directory/, ['missing']],
    [/didn't provide a certificate|certificate required/, ['kubeconfig-no-credential', 'kubeconfig-user-missing']],
    [/duplicate name|illegal base64|yaml:|json:/, ['kubeconfig-unreadable']],
    [/no service-account verification key matches/, ['sa-key-mismatch']],
    [
      /unsupported certificate curve|doesn't support any of the certificate's signature algorithms|unsupported certificate/,
      ['key-unsupported-tls'],
    ],
    [
      /valid RSA or ECDSA|unknown private key type|no certificate Go can parse|failed to find|failed to parse|x509: (negative serial|malformed|invalid|unsupported|inner and outer|cannot parse)/,
      ['unreadable'],
    ],
  ];
  for (const [re, codes] of rules) if (re.test(text)) return codes;
  return [];
}
