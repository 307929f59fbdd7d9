// Reports with history: the diff between runs of a target and the index page.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../verify/check.ts';
import type { ReportDocument } from './document.ts';
import { diffReports, formatDiff, historyHtml, previousRun, readRuns, writeHistoryIndex } from './history.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hardway-history-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const c = (id: string, status: CheckResult['status'], host?: string, diagnosis?: string, durationMs = 100): CheckResult => ({
  id,
  title: id,
  status,
  ...(host ? { host } : {}),
  ...(diagnosis ? { diagnosis } : {}),
  examined: 1,
  durationMs,
});

function doc(target: string, startedAt: string, durationMs: number, suites: Record<string, CheckResult[]>): ReportDocument {
  const all = Object.values(suites).flat();
  return {
    target,
    ok: !all.some((x) => x.status === 'failed'),
    run: '',
    startedAt,
    durationMs,
    suites: Object.entries(suites).map(([name, checks]) => ({
      name,
      durationMs: checks.reduce((n, x) => n + (x.durationMs ?? 0), 0),
      checks,
    })),
  };
}

function store(run: string, d: ReportDocument): void {
  mkdirSync(join(tmp, run), { recursive: true });
  writeFileSync(join(tmp, run, 'report.json'), JSON.stringify({ ...d, run }));
}

store(
  '20260101-000000-prod-1',
  doc('prod', '2026-01-01T00:00:00Z', 60_000, {
    certs: [c('certs.chain', 'passed', 'master'), c('certs.validity', 'failed', 'node-1', 'node-1:/x.pem: expired')],
    etcd: [c('etcd.health', 'passed', 'master'), c('etcd.members', 'failed', 'master', 'member gone'), c('etcd.old', 'passed', 'master')],
    kubelet: [c('kubelet.ready', 'failed', 'node-2', 'not Ready'), c('kubelet.pods-run', 'passed', 'node-1')],
  }),
);
store('20260101-010000-lab-2', doc('lab', '2026-01-01T01:00:00Z', 30_000, { certs: [c('certs.chain', 'passed', 'master')] }));
store(
  '20260102-000000-prod-3',
  doc('prod', '2026-01-02T00:00:00Z', 90_000, {
    certs: [c('certs.chain', 'failed', 'master', 'not signed by ca.pem\nsecond line'), c('certs.validity', 'passed', 'node-1')],
    etcd: [c('etcd.health', 'passed', 'master'), c('etcd.members', 'failed', 'master', 'member unhealthy')],
    kubelet: [
      c('kubelet.ready', 'failed', 'node-2', 'not Ready'),
      c('kubelet.pods-run', 'skipped', 'node-1', 'starts a pod: needs --active'),
    ],
    security: [c('security.kubelet-auth', 'failed', 'node-1', 'kubelet answers anonymously')],
  }),
);
mkdirSync(join(tmp, '20260103-000000-prod-4')); // a run that died before writing its report

describe('report history', () => {
  const runs = readRuns(tmp);

  it('reads runs with a report, oldest first, and finds the previous run of the same target', () => {
    expect(runs.map((r) => r.run)).toEqual(['20260101-000000-prod-1', '20260101-010000-lab-2', '20260102-000000-prod-3']);
    expect(previousRun(runs, runs[2]!)?.run).toBe('20260101-000000-prod-1');
    expect(previousRun(runs, runs[1]!)).toBeUndefined();
  });

  it('says what changed: newly failing, fixed, still failing, other changes, new and removed checks', () => {
    const d = diffReports(runs[0]!, runs[2]!);
    expect(d.newlyFailing.map((x) => x.key)).toEqual(['certs.chain@master']);
    expect(d.newlyFailing[0]!.diagnosis).toBe('not signed by ca.pem');
    expect(d.fixed.map((x) => x.key)).toEqual(['certs.validity@node-1']);
    expect(d.stillFailing.map((x) => [x.key, !!x.diagnosisChanged])).toEqual([
      ['etcd.members@master', true],
      ['kubelet.ready@node-2', false],
    ]);
    expect(d.changed.map((x) => `${x.key} ${x.before}->${x.after}`)).toEqual(['kubelet.pods-run@node-1 passed->skipped']);
    expect(d.added.map((x) => `${x.key} ${x.after}`)).toEqual(['security.kubelet-auth@node-1 failed']);
    expect(d.removed.map((x) => x.key)).toEqual(['etcd.old@master']);
    expect(formatDiff(d)).toBe(`prod: 20260101-000000-prod-1 (FAILED) -> 20260102-000000-prod-3 (FAILED)
newly failing (1):
  certs.chain@master (was passed): not signed by ca.pem
fixed (1):
  certs.validity@node-1
still failing (2):
  etcd.members@master (another reason now): member unhealthy
  kubelet.ready@node-2: not Ready
other status changes (1):
  kubelet.pods-run@node-1: passed -> skipped (starts a pod: needs --active)
new checks (1):
  security.kubelet-auth@node-1: failed: kubelet answers anonymously
removed checks (1):
  etcd.old@master (was passed)
duration: 60.0 s -> 90.0 s (+50%)
`);
  });

  it('a run of fewer suites: the others are "not compared", not removed', () => {
    const d = diffReports(runs[0]!, { ...runs[1]!, doc: { ...runs[1]!.doc, target: 'prod' } });
    // certs ran in both: its check missing later is removed; etcd and kubelet did not run.
    expect(d.removed.map((x) => x.key)).toEqual(['certs.validity@node-1']);
    expect(d.suitesNotRun).toEqual(['etcd', 'kubelet']);
    expect(d.fixed).toEqual([]);
    expect(formatDiff(d)).toContain('\nnot compared (not run this time): etcd, kubelet\n');
  });

  it('"no change" when the same checks pass', () => {
    expect(formatDiff(diffReports(runs[1]!, runs[1]!))).toMatch(/\nno change\nduration: 30\.0 s -> 30\.0 s \(\+0%\)\n$/);
  });

  it('writes index.html with, per target, durations, failures per suite and links to every run', () => {
    const file = writeHistoryIndex(tmp);
    const html = readFileSync(file, 'utf8');
    expect(file).toBe(join(tmp, 'index.html'));
    expect(html).toContain('<h2 id="t1">lab — last run <span class="ok">OK</span> (1 run)</h2>');
    expect(html).toContain('<h2 id="t0">prod — last run <span class="failed">FAILED</span> (2 runs)</h2>');
    expect(html).toContain('href="20260102-000000-prod-3/report.html"');
    // failures per suite: certs went 1 -> 1, security appeared with 1; kubelet 1 -> 1
    expect(html).toMatch(
      /<tr><td>security<\/td><td class="cell cn" title="not run"><\/td><td class="cell cf" title="20260102-000000-prod-3: 1 failed, 0\.1 s">1<\/td><\/tr>/,
    );
    expect((html.match(/<rect /g) ?? []).length).toBe(3);
    // targets most recently run first, in an overview with links to their sections
    expect(html).toMatch(/<tr><td><a href="#t0">prod<\/a><\/td><td>2<\/td>.*FAILED.*\n<tr><td><a href="#t1">lab<\/a><\/td><td>1<\/td>/);
    expect(historyHtml([])).toContain('No runs yet.');
  });
});
