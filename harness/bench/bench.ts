// Benchmark of the lab's main jobs, printed as numbers (never asserted in tests):
//   npm run bench                       warm: `lab up`, 5 verifications (median, critical path),
//                                       `npm run lab` end to end, the 6-worker lab, the faults
//   npm run bench -- --cold             the same from empty caches (node image rebuilt)
//   npm run bench -- --no-faults --no-scale   skip the fault catalogue / the 6-worker lab
// Every verification must pass: a flake shows up here. Needs the default lab to be free.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readLabState } from '../providers/lab/lab.ts';
import { criticalPath } from '../report/critical-path.ts';
import type { ReportDocument } from '../report/document.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const HARDWAY = join(ROOT, 'bin/hardway');
const argv = process.argv.slice(2);
const cold = argv.includes('--cold');
const runs = Number(argv.find((a) => a.startsWith('--verify-runs='))?.split('=')[1] ?? 5);
const withFaults = !argv.includes('--no-faults');
const withScale = !argv.includes('--no-scale');

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
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Start-up of the CLI: `hardway --help` and `hardway render --help`, best of 5 (goal < 0.5 s). */
async function helpStartupRows(): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const args of [['--help'], ['render', '--help']]) {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) ms.push((await sh(HARDWAY, args)).ms);
    out.push([
      `hardway ${args.join(' ')}`,
      `${(Math.min(...ms) / 1000).toFixed(2)}s (best of 5, median ${(median(ms) / 1000).toFixed(2)}s)`,
    ]);
  }
  return out;
}

/** Busy and total core-seconds of the machine so far (/proc/stat, USER_HZ 100): whether a run is
 * bound by the CPU (busy close to cores x wall clock) or by waiting. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: steal (a hypervisor's) is not this machine's.
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 7).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

async function verifyRuns(label: string, target: string, n: number, env: NodeJS.ProcessEnv): Promise<number> {
  const { SUITES } = await import('../verify/registry.ts');
  const deps = Object.fromEntries(SUITES.map((s) => [s.name, s.dependsOn]));
  const times: number[] = [];
  let passed = 0;
  for (let i = 1; i <= n; i++) {
    const cpu0 = machineCpu();
    const v = await sh(HARDWAY, ['verify', '--target', target, '--reporter', 'json', '--strict'], env);
    const cpu1 = machineCpu();
    let doc: ReportDocument | undefined;
    try {
      doc = JSON.parse(v.out) as ReportDocument;
    } catch {
      doc = undefined;
    }
    const checks = doc?.suites.reduce((k, s) => k + s.checks.length, 0) ?? 0;
    const failed = doc?.suites.flatMap((s) => s.checks.filter((c) => c.status === 'failed')).length ?? 0;
    if (doc?.ok) passed++;
    times.push(doc?.durationMs ?? v.ms);
    row(
      `${label} run ${i}`,
      `${secs(doc?.durationMs ?? v.ms)} (${secs(v.ms)} with start-up and cleanup), ${checks} checks, ${doc?.ok ? 'all passed (--strict)' : `${failed} FAILED`}, CPU ${(cpu1.busy - cpu0.busy).toFixed(1)} of ${(cpu1.total - cpu0.total).toFixed(1)} core-s busy`,
    );
    if (doc && i === n) row(`${label} critical path`, criticalPath(doc, deps));
  }
  row(`${label}: median of ${n}`, `${secs(median(times))}; ${passed}/${n} runs green`);
  return median(times);
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
  // The node images (systemd, OpenRC) are tagged by their recipes: removed, they are rebuilt.
  const img = await sh('docker', ['images', '-q', '--filter', 'reference=hardway-node*']);
  for (const id of img.out.split('\n').filter(Boolean)) await sh('docker', ['rmi', '-f', id]);
}

// The bench brings the default lab up and down: never over a lab someone is using.
if (readLabState('lab')) {
  process.stderr.write(
    'bench: the default lab is running (hardway lab up); the bench would replace and remove it. fix: hardway lab down, then npm run bench\n',
  );
  process.exit(2);
}

try {
  const up = await sh(HARDWAY, ['lab', 'up'], env);
  if (up.code !== 0) throw new Error(`lab up failed (exit ${up.code})`);
  const phases = /phases: (.*)/.exec(up.err)?.[1] ?? '';
  for (const part of phases.split(', ')) {
    const [name, value] = part.split(' ');
    if (name && value) row(`lab up: ${name}`, value);
  }
  row('lab up: wall clock', secs(up.ms));
  const two = await verifyRuns('verify (2 workers)', 'lab', runs, env);
  if (withFaults) {
    const f = await sh(HARDWAY, ['faults', '--reporter', 'json'], env);
    let caught = '?';
    try {
      const doc = JSON.parse(f.out) as { faults: { caught: boolean }[] };
      caught = `${doc.faults.filter((x) => x.caught).length}/${doc.faults.length} caught`;
    } catch {
      caught = `exit ${f.code}`;
    }
    row('hardway faults (every lab fault)', `${secs(f.ms)}, ${caught}`);
  }
  const down = await sh(HARDWAY, ['lab', 'down']);
  row('lab down', secs(down.ms));
  const e2e = await sh(HARDWAY, ['lab', 'run'], env);
  row('npm run lab (lab run: up, every suite, down)', `${secs(e2e.ms)}, exit ${e2e.code}`);
  if (withScale) {
    const big = await sh(HARDWAY, ['lab', 'up', '--workers', '6'], env);
    if (big.code !== 0) row('lab up --workers 6', `FAILED (exit ${big.code})`);
    else {
      row('lab up --workers 6: wall clock', secs(big.ms));
      const six = await verifyRuns('verify (6 workers)', 'lab', Math.max(3, Math.floor(runs / 2)), env);
      row('verify(6 workers) / verify(2 workers)', (six / two).toFixed(2));
    }
    await sh(HARDWAY, ['lab', 'down']);
  }
} finally {
  await sh(HARDWAY, ['lab', 'down']);
  for (const d of temps) rmSync(d, { recursive: true, force: true });
}

const title = `hardway bench (${cold ? 'cold: nothing cached' : 'warm: image and binaries cached'}), ${new Date().toISOString()}`;
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`${title}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
mkdirSync(join(ROOT, 'reports'), { recursive: true });
writeFileSync(join(ROOT, 'reports', `bench-${cold ? 'cold' : 'warm'}-${Date.now()}.json`), `${JSON.stringify({ title, rows }, null, 2)}\n`);
