// Benchmark of the lab's main job, printed as numbers (never asserted in tests):
//   npm run bench            warm: node image and binaries cached
//   npm run bench -- --cold  cold: empty hardway cache, empty Go caches, node image rebuilt
// Phases of `lab up` (as the lab reports them), then three full verifications of the running lab
// (each must pass: a flake shows up here), then `lab down`. Needs the default lab to be free.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const HARDWAY = join(ROOT, 'bin/hardway');
const cold = process.argv.includes('--cold');
const runs = Number(process.argv.find((a) => a.startsWith('--verify-runs='))?.split('=')[1] ?? 3);

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((res) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d);
    });
    p.on('close', (code) => res({ code: code ?? 1, out, err, ms: Date.now() - t0 }));
  });
}

const rows: [string, string][] = [];
const row = (k: string, v: string) => {
  rows.push([k, v]);
  process.stderr.write(`bench: ${k}: ${v}\n`);
};

/** Start-up of the CLI: `hardway --help` and `hardway render --help`, best of 5 (goal < 0.5 s). */
export async function helpStartupRows(): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const args of [['--help'], ['render', '--help']]) {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) ms.push((await sh(HARDWAY, args)).ms);
    out.push([`hardway ${args.join(' ')}`, `${(Math.min(...ms) / 1000).toFixed(2)}s (best of 5, median ${(ms.sort((a, b) => a - b)[2]! / 1000).toFixed(2)}s)`]);
  }
  return out;
}

for (const [k, v] of await helpStartupRows()) row(k, v);

const env: NodeJS.ProcessEnv = {};
const temps: string[] = [];
if (cold) {
  for (const k of ['HARDWAY_CACHE', 'GOCACHE', 'GOMODCACHE']) {
    const d = mkdtempSync(join(tmpdir(), `hardway-bench-${k.toLowerCase()}-`));
    temps.push(d);
    env[k] = d;
  }
  // The node image is tagged by its recipe: remove it so that it is rebuilt.
  const img = await sh('docker', ['images', '-q', '--filter', 'reference=hardway-node']);
  for (const id of img.out.split('\n').filter(Boolean)) await sh('docker', ['rmi', '-f', id]);
}

try {
  await sh(HARDWAY, ['lab', 'down']);
  const up = await sh(HARDWAY, ['lab', 'up'], env);
  if (up.code !== 0) throw new Error(`lab up failed (exit ${up.code})`);
  const phases = /phases: (.*)/.exec(up.err)?.[1] ?? '';
  for (const part of phases.split(', ')) {
    const [name, value] = part.split(' ');
    if (name && value) row(`lab up: ${name}`, value);
  }
  row('lab up: wall clock', `${(up.ms / 1000).toFixed(1)}s`);
  let passed = 0;
  for (let i = 1; i <= runs; i++) {
    const v = await sh(HARDWAY, ['verify', '--target', 'lab', '--reporter', 'json'], env);
    let ok = false;
    let checks = 0;
    try {
      const doc = JSON.parse(v.out) as { ok: boolean; suites: { checks: unknown[] }[] };
      ok = doc.ok;
      checks = doc.suites.reduce((n, s) => n + s.checks.length, 0);
    } catch {
      ok = false;
    }
    if (ok) passed++;
    row(`verify run ${i}`, `${(v.ms / 1000).toFixed(1)}s, ${checks} checks, ${ok ? 'all passed' : 'FAILED'}`);
  }
  row('verify: runs passing', `${passed}/${runs}`);
  const down = await sh(HARDWAY, ['lab', 'down']);
  row('lab down', `${(down.ms / 1000).toFixed(1)}s`);
} finally {
  await sh(HARDWAY, ['lab', 'down']);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
}

const title = `hardway bench (${cold ? 'cold: nothing cached' : 'warm: image and binaries cached'}), ${new Date().toISOString()}`;
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`${title}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
mkdirSync(join(ROOT, 'reports'), { recursive: true });
writeFileSync(join(ROOT, 'reports', `bench-${cold ? 'cold' : 'warm'}-${Date.now()}.json`), JSON.stringify({ title, rows }, null, 2) + '\n');
