// Gets every cluster binary at its pinned version into a cache folder outside the repo
// (~/.cache/hardway/bin/<component>-<version>/), by building from source (default here) or by
// downloading the official release and checking its SHA-256. Long steps report progress.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserFacingError } from '../cli/errors.ts';
import { CACHE_DIR } from '../cache.ts';
import { COMPONENTS, type Component, type ReleaseFile } from './manifest.ts';
import { buildPool } from './schedule.ts';

export type BinarySource = 'build' | 'download';

/** Installed name -> local path. */
export type BinarySet = Map<string, string>;

const HERE = import.meta.dirname;

/** A short hash of hardway's own entry points for a component (so that a change rebuilds it). */
function entryPointsKey(c: Component): string {
  const folders = Object.values(c.build.entryPoints ?? {});
  if (!folders.length) return '';
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(p.slice(HERE.length)).update(readFileSync(p));
    }
  };
  for (const f of folders) walk(join(HERE, f));
  return `-${h.digest('hex').slice(0, 8)}`;
}

function componentDir(c: Component): string {
  return join(CACHE_DIR, 'bin', `${c.name}-${c.version}${entryPointsKey(c)}`);
}

function complete(c: Component): boolean {
  const dir = componentDir(c);
  return existsSync(join(dir, '.complete')) && c.binaries.every((b) => existsSync(join(dir, b)));
}

function elapsed(t0: number): string {
  const s = Math.round((Date.now() - t0) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function goVersionOk(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const p = spawn('go', ['env', 'GOVERSION'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', () => resolve(undefined));
    p.on('close', () => resolve(out.trim() || undefined));
  });
}

function goBuildEnv(c: Component, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const b = c.build;
  return {
    ...process.env,
    CGO_ENABLED: b.cgo ? '1' : '0',
    GO_BUILD_REPLACE: [
      ...Object.entries(b.stubs ?? {}).map(([mod, folder]) => `${mod}=${join(HERE, 'stubs', folder)}`),
      ...Object.entries(b.entryPoints ?? {}).map(([mod, folder]) => `${mod}=${join(HERE, folder)}`),
    ].join(' '),
    GOFLAGS: [process.env.GOFLAGS, b.cgo ? '-tags=netgo,osusergo' : ''].filter(Boolean).join(' '),
    ...extra,
  };
}

/** go-build.sh for a component, its output in `logPath`; resolves with the exit code. */
function goBuild(c: Component, out: string, logPath: string, extra: NodeJS.ProcessEnv = {}): Promise<number> {
  const log = createWriteStream(logPath);
  const b = c.build;
  return new Promise<number>((resolve) => {
    const p = spawn(join(HERE, 'go-build.sh'), [b.module, b.version, out, b.staging, b.ldflags, ...b.packages], {
      env: goBuildEnv(c, extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.stdout.pipe(log, { end: false });
    p.stderr.pipe(log, { end: false });
    p.on('error', () => resolve(127));
    p.on('close', (code) => resolve(code ?? 1));
  }).finally(() => log.end());
}

function logFile(name: string): string {
  const logDir = join(CACHE_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  return join(logDir, name);
}

async function requireGo(c: Component): Promise<void> {
  const goVersion = await goVersionOk();
  const m = goVersion && /^go1\.(\d+)/.exec(goVersion);
  if (!m || Number(m[1]) < 24) {
    throw new UserFacingError(
      `building ${c.name} ${c.version} from source needs Go 1.24 or newer (found ${goVersion ?? 'no go'}); fix: install Go from go.dev or your distribution's backports, or use --binaries download on a machine with internet access`,
    );
  }
}

/** Downloads the modules a component's build needs, ahead of its build slot (network, not CPU). */
function prefetch(c: Component): Promise<void> {
  // A failure here is the build's to report, with its own log.
  return goBuild(c, '-', logFile(`${c.name}-${c.version}-fetch.log`), { GO_BUILD_FETCH_ONLY: '1' }).then(
    () => undefined,
    () => undefined,
  );
}

async function buildComponent(c: Component, progress: (l: string) => void): Promise<void> {
  await requireGo(c);
  const dir = componentDir(c);
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const logPath = logFile(`${c.name}-${c.version}.log`);
  const b = c.build;
  const t0 = Date.now();
  progress(`binaries: building ${c.name} ${c.version} from source through the Go module proxy (log: ${logPath})`);
  const heartbeat = setInterval(() => progress(`binaries: still building ${c.name} (${elapsed(t0)})`), 30_000);
  const code = await goBuild(c, tmp, logPath).finally(() => clearInterval(heartbeat));
  if (code !== 0) {
    const tail = existsSync(logPath)
      ? readFileSync(logPath, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('go: downloading'))
          .slice(-2)
          .join(' | ')
      : '';
    throw new UserFacingError(`building ${c.name} ${c.version} failed (exit ${code}): ${tail}; the full log is ${logPath}`);
  }
  for (const [from, to] of Object.entries(b.rename ?? {})) renameSync(join(tmp, from), join(tmp, to));
  for (const bin of c.binaries) {
    if (!existsSync(join(tmp, bin))) throw new UserFacingError(`building ${c.name}: ${bin} was not produced; see ${logPath}`);
  }
  writeFileSync(join(tmp, '.complete'), `${c.name} ${c.version} built ${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  progress(`binaries: ${c.name} ${c.version} built in ${elapsed(t0)}`);
}

/** Verifies a file against a published checksum file's text ("<hex>" or "<hex>  <name>"). */
export function checksumMatches(data: Buffer, published: string): { ok: boolean; expected: string; actual: string } {
  const expected = (published.trim().split(/\s+/)[0] ?? '').toLowerCase();
  const actual = createHash('sha256').update(data).digest('hex');
  return { ok: /^[0-9a-f]{64}$/.test(expected) && expected === actual, expected, actual };
}

async function fetchBytes(url: string): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(300_000) });
  } catch (e) {
    throw new UserFacingError(
      `cannot download ${url} (${(e as Error).cause ?? (e as Error).message}); fix: check internet access, or build from source (--binaries build)`,
    );
  }
  if (!res.ok)
    throw new UserFacingError(`download of ${url} answered HTTP ${res.status}; fix: check the version in harness/binaries/manifest.ts`);
  return Buffer.from(await res.arrayBuffer());
}

async function extractMember(archive: Buffer, member: string, out: string): Promise<void> {
  const p = spawn('tar', ['-xzO', '-f', '-', '--wildcards', `*${member}`], { stdio: ['pipe', 'pipe', 'ignore'] });
  const file = createWriteStream(out, { mode: 0o755 });
  p.stdout.pipe(file);
  const done = Promise.all([once(p, 'close') as Promise<[number | null]>, once(file, 'close')]);
  p.stdin.end(archive);
  // Both must be over: tar has exited and the file is flushed (either may come first).
  const [[code]] = await done;
  if (code !== 0) throw new UserFacingError(`the release archive has no ${member}`);
}

export async function downloadRelease(files: ReleaseFile[], dir: string, progress: (l: string) => void): Promise<void> {
  for (const f of files) {
    progress(`binaries: downloading ${f.url}`);
    const [data, sum] = await Promise.all([fetchBytes(f.url), fetchBytes(f.sha256Url)]);
    const check = checksumMatches(data, sum.toString('utf8'));
    if (!check.ok) {
      throw new UserFacingError(
        `checksum mismatch for ${f.url}: published ${check.expected || '(unreadable)'}, downloaded ${check.actual}; fix: retry; if it persists, do not use this file`,
      );
    }
    const out = join(dir, f.installAs);
    if (f.member) await extractMember(data, f.member, out);
    else writeFileSync(out, data, { mode: 0o755 });
  }
}

async function downloadComponent(c: Component, progress: (l: string) => void): Promise<void> {
  const dir = componentDir(c);
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await downloadRelease(c.release, tmp, progress);
  writeFileSync(join(tmp, '.complete'), `${c.name} ${c.version} downloaded ${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** The cluster's components: every one but those only the HTTPS edge needs. */
export const CLUSTER_COMPONENTS = COMPONENTS.filter((c) => !c.edge);
/** The HTTPS edge's components (cert-manager, the gateway controller): see harness/edge. */
export const EDGE_COMPONENTS = COMPONENTS.filter((c) => c.edge);

/**
 * Every component's binaries, cached, downloaded or built. Builds go through the shared build pool
 * (schedule.ts: two at a time, the cluster's first, the longest first), their modules fetched ahead.
 */
export async function ensureBinaries(
  source: BinarySource,
  progress: (l: string) => void,
  components: Component[] = CLUSTER_COMPONENTS,
): Promise<BinarySet> {
  await Promise.all(
    components.map(async (c) => {
      if (complete(c)) progress(`binaries: ${c.name} ${c.version} cached`);
      else if (source === 'download' && c.release.length > 0) await downloadComponent(c, progress);
      else {
        if (source === 'download')
          progress(
            `binaries: ${c.name} publishes no binaries (only images: ${(c.images ?? []).join(', ') || 'none'}); building it from source`,
          );
        const fetched = prefetch(c);
        await buildPool.run([c.edge ? 1 : 0, -(c.buildMinutes ?? 1)], () => buildComponent(c, progress));
        await fetched;
      }
    }),
  );
  const set: BinarySet = new Map();
  for (const c of components) for (const b of c.binaries) set.set(b, join(componentDir(c), b));
  return set;
}
