// Reports with history: every run keeps its folder under reports/; this module reads them back,
// says what changed between two runs of a target (`hardway report diff`) and writes
// reports/index.html: per target, the runs, their durations and the failures per suite over time.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Status } from '../verify/check.ts';
import { type ReportDocument, summarize } from './document.ts';

export interface RunEntry {
  /** The run folder's name (reports/<run>/). */
  run: string;
  dir: string;
  doc: ReportDocument;
}

/** A report.json that cannot be part of the history, and why. */
export interface SkippedRun {
  file: string;
  why: string;
}

const STATUSES = new Set(['passed', 'failed', 'skipped']);

/** What is wrong with a parsed report.json's shape (the fields history reads), or undefined. */
export function reportShapeProblem(doc: unknown): string | undefined {
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(doc)) return 'not a JSON object';
  if (typeof doc.target !== 'string') return '"target" is not a string';
  if (typeof doc.ok !== 'boolean') return '"ok" is not true or false';
  for (const k of ['startedAt', 'run'] as const) if (doc[k] !== undefined && typeof doc[k] !== 'string') return `"${k}" is not a string`;
  if (doc.durationMs !== undefined && typeof doc.durationMs !== 'number') return '"durationMs" is not a number';
  if (!Array.isArray(doc.suites)) return '"suites" is not a list';
  for (const [i, s] of doc.suites.entries()) {
    if (!isObj(s) || typeof s.name !== 'string') return `suites[${i}] has no name`;
    if (s.durationMs !== undefined && typeof s.durationMs !== 'number') return `suites[${i}].durationMs is not a number`;
    if (!Array.isArray(s.checks)) return `suites[${i}].checks is not a list`;
    for (const [j, c] of s.checks.entries()) {
      const at = `suites[${i}].checks[${j}]`;
      if (!isObj(c) || typeof c.id !== 'string') return `${at} has no id`;
      if (typeof c.status !== 'string' || !STATUSES.has(c.status))
        return `${at}.status is ${JSON.stringify(c.status)}, not passed, failed or skipped`;
      for (const k of ['host', 'diagnosis'] as const)
        if (c[k] !== undefined && typeof c[k] !== 'string') return `${at}.${k} is not a string`;
      if (c.warnings !== undefined && !Array.isArray(c.warnings)) return `${at}.warnings is not a list`;
    }
  }
  return undefined;
}

/** Every run under `reportsDir` with a usable report.json, oldest first, and the ones skipped. */
export function readRunsChecked(reportsDir: string): { runs: RunEntry[]; skipped: SkippedRun[] } {
  let names: string[];
  try {
    names = readdirSync(reportsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return { runs: [], skipped: [] };
  }
  const out: RunEntry[] = [];
  const skipped: SkippedRun[] = [];
  for (const run of names) {
    const file = join(reportsDir, run, 'report.json');
    if (!existsSync(file)) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      skipped.push({ file, why: `not valid JSON (${(e as Error).message.split('\n')[0]}; a run that died while writing it?)` });
      continue;
    }
    const why = reportShapeProblem(doc);
    if (why) skipped.push({ file, why: `not a hardway report: ${why}` });
    else out.push({ run, dir: join(reportsDir, run), doc: doc as ReportDocument });
  }
  return { runs: out.sort((a, b) => startOf(a).localeCompare(startOf(b)) || a.run.localeCompare(b.run)), skipped };
}

/** One line per skipped run: it is named, and the history goes on without it. */
export function skippedLines(skipped: SkippedRun[]): string[] {
  return skipped.map((s) => `skipped ${s.file}: ${s.why}; fix: move the run's folder away or delete it`);
}

/** Every run under `reportsDir` with a usable report.json, oldest first (bad ones left out). */
export function readRuns(reportsDir: string): RunEntry[] {
  return readRunsChecked(reportsDir).runs;
}

function startOf(r: RunEntry): string {
  return r.doc.startedAt ?? r.run;
}

/** The run before `run` of the same target, if any. */
export function previousRun(runs: RunEntry[], run: RunEntry): RunEntry | undefined {
  const same = runs.filter((r) => r.doc.target === run.doc.target && startOf(r) < startOf(run));
  return same[same.length - 1];
}

export interface CheckState {
  key: string;
  suite: string;
  status?: Status;
  diagnosis?: string;
}

export interface CheckChange {
  /** "<check id>" or "<check id>@<host>". */
  key: string;
  suite: string;
  before?: Status;
  after?: Status;
  /** The diagnosis after (for failures and skips), first line. */
  diagnosis?: string;
  /** Still failing, but for another reason. */
  diagnosisChanged?: boolean;
}

export interface RunDiff {
  target: string;
  from: { run: string; startedAt?: string; durationMs?: number; ok: boolean };
  to: { run: string; startedAt?: string; durationMs?: number; ok: boolean };
  newlyFailing: CheckChange[];
  fixed: CheckChange[];
  stillFailing: CheckChange[];
  /** Other status changes: passed <-> skipped, failed -> skipped. */
  changed: CheckChange[];
  added: CheckChange[];
  /** Checks of suites both runs ran that the later run no longer has. */
  removed: CheckChange[];
  /** Suites the earlier run ran and the later did not (a --suite selection): not compared. */
  suitesNotRun: string[];
  suites: { name: string; beforeMs?: number; afterMs?: number; failedBefore: number; failedAfter: number }[];
}

function states(doc: ReportDocument): Map<string, CheckState> {
  const m = new Map<string, CheckState>();
  for (const s of doc.suites) {
    for (const c of s.checks) {
      const key = c.host ? `${c.id}@${c.host}` : c.id;
      m.set(key, { key, suite: s.name, status: c.status, ...(c.diagnosis ? { diagnosis: c.diagnosis } : {}) });
    }
  }
  return m;
}

const firstLine = (s?: string) => s?.split('\n')[0];

export function diffReports(a: RunEntry, b: RunEntry): RunDiff {
  const before = states(a.doc);
  const after = states(b.doc);
  const d: RunDiff = {
    target: b.doc.target,
    from: {
      run: a.run,
      ...(a.doc.startedAt ? { startedAt: a.doc.startedAt } : {}),
      ...(a.doc.durationMs !== undefined ? { durationMs: a.doc.durationMs } : {}),
      ok: a.doc.ok,
    },
    to: {
      run: b.run,
      ...(b.doc.startedAt ? { startedAt: b.doc.startedAt } : {}),
      ...(b.doc.durationMs !== undefined ? { durationMs: b.doc.durationMs } : {}),
      ok: b.doc.ok,
    },
    newlyFailing: [],
    fixed: [],
    stillFailing: [],
    changed: [],
    added: [],
    removed: [],
    suitesNotRun: [],
    suites: [],
  };
  for (const [key, x] of after) {
    const y = before.get(key);
    const diag = firstLine(x.diagnosis);
    const change: CheckChange = {
      key,
      suite: x.suite,
      ...(y?.status ? { before: y.status } : {}),
      ...(x.status ? { after: x.status } : {}),
      ...(diag ? { diagnosis: diag } : {}),
    };
    if (!y) d.added.push(change);
    else if (x.status === 'failed' && y.status === 'failed')
      d.stillFailing.push(firstLine(y.diagnosis) !== diag ? { ...change, diagnosisChanged: true } : change);
    else if (x.status === 'failed') d.newlyFailing.push(change);
    else if (y.status === 'failed' && x.status === 'passed') d.fixed.push(change);
    else if (x.status !== y.status) d.changed.push(change);
  }
  const ranAfter = new Set(b.doc.suites.map((s) => s.name));
  d.suitesNotRun = a.doc.suites.map((s) => s.name).filter((n) => !ranAfter.has(n));
  for (const [key, y] of before) {
    if (!after.has(key) && ranAfter.has(y.suite)) d.removed.push({ key, suite: y.suite, ...(y.status ? { before: y.status } : {}) });
  }
  const names = [...new Set([...a.doc.suites.map((s) => s.name), ...b.doc.suites.map((s) => s.name)])];
  for (const name of names) {
    const sa = a.doc.suites.find((s) => s.name === name);
    const sb = b.doc.suites.find((s) => s.name === name);
    d.suites.push({
      name,
      ...(sa?.durationMs !== undefined ? { beforeMs: sa.durationMs } : {}),
      ...(sb?.durationMs !== undefined ? { afterMs: sb.durationMs } : {}),
      failedBefore: sa?.checks.filter((c) => c.status === 'failed').length ?? 0,
      failedAfter: sb?.checks.filter((c) => c.status === 'failed').length ?? 0,
    });
  }
  return d;
}

const secs = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

function durationChange(before?: number, after?: number): string {
  if (before === undefined || after === undefined) return `${secs(before)} -> ${secs(after)}`;
  const delta = after - before;
  const pct = before > 0 ? ` (${delta >= 0 ? '+' : ''}${Math.round((delta / before) * 100)}%)` : '';
  return `${secs(before)} -> ${secs(after)}${pct}`;
}

/** The diff as text: one section per kind of change, nothing printed for empty sections. */
export function formatDiff(d: RunDiff): string {
  const out: string[] = [];
  out.push(`${d.target}: ${d.from.run} (${d.from.ok ? 'OK' : 'FAILED'}) -> ${d.to.run} (${d.to.ok ? 'OK' : 'FAILED'})`);
  const section = (title: string, list: CheckChange[], line: (c: CheckChange) => string) => {
    if (!list.length) return;
    out.push(`${title} (${list.length}):`);
    for (const c of list) out.push(`  ${line(c)}`);
  };
  section('newly failing', d.newlyFailing, (c) => `${c.key} (was ${c.before})${c.diagnosis ? `: ${c.diagnosis}` : ''}`);
  section('fixed', d.fixed, (c) => c.key);
  section(
    'still failing',
    d.stillFailing,
    (c) => `${c.key}${c.diagnosisChanged ? ' (another reason now)' : ''}${c.diagnosis ? `: ${c.diagnosis}` : ''}`,
  );
  section(
    'other status changes',
    d.changed,
    (c) => `${c.key}: ${c.before} -> ${c.after}${c.after === 'skipped' && c.diagnosis ? ` (${c.diagnosis})` : ''}`,
  );
  section('new checks', d.added, (c) => `${c.key}: ${c.after}${c.after === 'failed' && c.diagnosis ? `: ${c.diagnosis}` : ''}`);
  section('removed checks', d.removed, (c) => `${c.key} (was ${c.before})`);
  if (d.suitesNotRun.length) out.push(`not compared (not run this time): ${d.suitesNotRun.join(', ')}`);
  if (!d.newlyFailing.length && !d.fixed.length && !d.changed.length && !d.added.length && !d.removed.length) {
    out.push(d.stillFailing.length ? 'no change: the same checks fail' : 'no change');
  }
  out.push(`duration: ${durationChange(d.from.durationMs, d.to.durationMs)}`);
  const slower = d.suites.filter((s) => s.beforeMs !== undefined && s.afterMs !== undefined && Math.abs(s.afterMs - s.beforeMs) >= 5000);
  for (const s of slower) out.push(`  ${s.name}: ${durationChange(s.beforeMs, s.afterMs)}`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// reports/index.html

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:2em}h3{font-size:14px;margin:1.2em 0 .4em}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
.ok{color:#176f2c}.failed{color:#b00020;font-weight:bold}.muted{color:#777}
td.cell{text-align:center;min-width:1.6em;padding:3px 4px}.c0{background:#e3f4e6}.cf{background:#f7c9cf;font-weight:bold}.cn{background:#f2f2f2}
svg{display:block;margin:.4em 0}`;

const RECENT = 30;

function durationChart(runs: RunEntry[]): string {
  const w = 14;
  const h = 80;
  const max = Math.max(1, ...runs.map((r) => r.doc.durationMs ?? 0));
  const bars = runs.map((r, i) => {
    const d = r.doc.durationMs ?? 0;
    const bh = Math.max(1, Math.round((d / max) * h));
    return `<rect x="${i * (w + 2)}" y="${h - bh}" width="${w}" height="${bh}" fill="${r.doc.ok ? '#4a9d5b' : '#c0392b'}"><title>${esc(`${r.run}: ${secs(d)}${r.doc.ok ? '' : ', failed'}`)}</title></rect>`;
  });
  return `<svg width="${Math.max(140, runs.length * (w + 2))}" height="${h + 14}" role="img" aria-label="run durations"><g>${bars.join('')}</g><text x="0" y="${h + 12}" font-size="10" fill="#777">max ${esc(secs(max))}</text></svg>`;
}

/** One row per suite, one column per run: failed checks, or the suite's duration. */
function suiteGrid(runs: RunEntry[], what: 'failures' | 'durations'): string {
  const suites = [...new Set(runs.flatMap((r) => r.doc.suites.map((s) => s.name)))];
  const head = `<tr><th>suite</th>${runs.map((r, i) => `<th class="cell muted" title="${esc(r.run)}"><a href="${esc(encodeURIComponent(r.run))}/report.html">${i + 1}</a></th>`).join('')}</tr>`;
  const rows = suites.map((name) => {
    const cells = runs.map((r) => {
      const s = r.doc.suites.find((x) => x.name === name);
      if (!s) return '<td class="cell cn" title="not run"></td>';
      const f = s.checks.filter((c) => c.status === 'failed').length;
      const title = esc(`${r.run}: ${f} failed, ${secs(s.durationMs)}`);
      if (what === 'durations') return `<td class="cell ${f ? 'cf' : ''}" title="${title}">${((s.durationMs ?? 0) / 1000).toFixed(0)}</td>`;
      return `<td class="cell ${f ? 'cf' : 'c0'}" title="${title}">${f || '·'}</td>`;
    });
    return `<tr><td>${esc(name)}</td>${cells.join('')}</tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

export function historyHtml(all: RunEntry[], generatedAt = new Date()): string {
  // The target run most recently first.
  const lastOf = (t: string) => all.filter((r) => r.doc.target === t).pop()!;
  const targets = [...new Set(all.map((r) => r.doc.target))].sort((a, b) => startOf(lastOf(b)).localeCompare(startOf(lastOf(a))));
  const overview = targets.map((t, i) => {
    const last = lastOf(t);
    const s = summarize(last.doc);
    return `<tr><td><a href="#t${i}">${esc(t)}</a></td><td>${all.filter((r) => r.doc.target === t).length}</td><td>${esc(last.doc.startedAt ?? '')}</td><td class="${last.doc.ok ? 'ok' : 'failed'}">${last.doc.ok ? 'OK' : 'FAILED'}</td><td>${s.failed}</td></tr>`;
  });
  const sections = targets.map((t, i) => {
    const runs = all.filter((r) => r.doc.target === t);
    const recent = runs.slice(-RECENT);
    const last = runs[runs.length - 1]!;
    const table = [...runs]
      .reverse()
      .slice(0, 50)
      .map((r) => {
        const s = summarize(r.doc);
        return `<tr><td>${esc(r.doc.startedAt ?? '')}</td><td><a href="${esc(encodeURIComponent(r.run))}/report.html">${esc(r.run)}</a></td><td class="${r.doc.ok ? 'ok' : 'failed'}">${r.doc.ok ? 'OK' : 'FAILED'}</td><td>${s.passed}</td><td>${s.failed}</td><td>${s.skipped}</td><td>${s.warnings}</td><td>${esc(secs(r.doc.durationMs))}</td></tr>`;
      });
    return `<h2 id="t${i}">${esc(t)} — last run <span class="${last.doc.ok ? 'ok' : 'failed'}">${last.doc.ok ? 'OK' : 'FAILED'}</span> (${runs.length} run${runs.length === 1 ? '' : 's'})</h2>
<h3>Duration of the last ${recent.length} runs (red: a check failed)</h3>
${durationChart(recent)}
<h3>Failed checks per suite, last ${recent.length} runs (oldest left)</h3>
${suiteGrid(recent, 'failures')}
<h3>Duration per suite in seconds, last ${recent.length} runs</h3>
${suiteGrid(recent, 'durations')}
<h3>Runs</h3>
<table><tr><th>started</th><th>run</th><th>result</th><th>passed</th><th>failed</th><th>skipped</th><th>warnings</th><th>duration</th></tr>
${table.join('\n')}</table>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>hardway reports</title><style>${STYLE}</style></head><body>
<h1>hardway verify: report history</h1>
<p class="muted">${all.length} runs of ${targets.length} target${targets.length === 1 ? '' : 's'}; generated ${esc(generatedAt.toISOString())}. What changed since the previous run: <code>hardway report diff --target &lt;target&gt;</code></p>
${targets.length ? `<table><tr><th>target</th><th>runs</th><th>last run</th><th>result</th><th>failed</th></tr>\n${overview.join('\n')}</table>` : ''}
${sections.join('\n') || '<p>No runs yet.</p>'}
</body></html>
`;
}

/**
 * Regenerates reportsDir/index.html from every run's report.json; returns its path. A malformed
 * report.json is named through `warn` (stderr by default) and left out.
 */
export function writeHistoryIndex(
  reportsDir: string,
  warn: (line: string) => void = (l) => process.stderr.write(`hardway: ${l}\n`),
): string {
  const file = join(reportsDir, 'index.html');
  const { runs, skipped } = readRunsChecked(reportsDir);
  for (const l of skippedLines(skipped)) warn(l);
  writeFileSync(file, historyHtml(runs));
  return file;
}
