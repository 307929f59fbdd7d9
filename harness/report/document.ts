// The report document: what `--reporter json` prints and reports/<run>/report.json holds.
// Schema (documented in the README):
//   { target, ok, counts, suites: [ { name, checks: [ { id, title, status, skip?, host?,
//     diagnosis?, findings?, examined } ] } ] }
// plus informational fields (run, startedAt, durationMs, warnings, notes, timings) that
// consumers may ignore.
import type { CheckResult, SkipKind } from '../verify/check.ts';
import { SKIP_KINDS } from '../verify/check.ts';

export interface SuiteReport {
  name: string;
  title?: string;
  /** Sum of the suite's check durations. */
  durationMs?: number;
  /** When the suite could start and when its last check ended, in ms since the run started. */
  startedMs?: number;
  endedMs?: number;
  /** Run only as a prerequisite's gate (`--suite` of a dependant). */
  gateOnly?: boolean;
  blockedBy?: string[];
  checks: CheckResult[];
}

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  /** Skipped checks by kind. */
  skip: Record<SkipKind, number>;
  warnings: number;
}

export interface ReportDocument {
  target: string;
  /** No check failed (and, with --strict, none inconclusive or blocked). */
  ok: boolean;
  strict?: boolean;
  counts?: Counts;
  run?: string;
  startedAt?: string;
  durationMs?: number;
  suites: SuiteReport[];
  /** Images and text attached by checks (screenshots), by check id and host; HTML report only. */
  attachments?: { check: string; host?: string; name: string; contentType: string; path: string }[];
}

export function summarize(doc: ReportDocument): Counts {
  const all = doc.suites.flatMap((s) => s.checks);
  const skip = Object.fromEntries(SKIP_KINDS.map((k) => [k, 0])) as Record<SkipKind, number>;
  for (const c of all) if (c.status === 'skipped') skip[c.skip ?? 'inconclusive']++;
  return {
    passed: all.filter((c) => c.status === 'passed').length,
    failed: all.filter((c) => c.status === 'failed').length,
    skipped: all.filter((c) => c.status === 'skipped').length,
    skip,
    warnings: all.reduce((n, c) => n + (c.warnings?.length ?? 0), 0),
  };
}

/** Whether a run is green: nothing failed; with strict, nothing inconclusive or blocked either. */
export function isOk(counts: Counts, strict: boolean, total: number): boolean {
  // A run that verified nothing (no check passed: an empty tree, every check not-applicable) is
  // not green: green means looked and found it right.
  if (total === 0 || counts.passed === 0 || counts.failed > 0) return false;
  return !strict || (counts.skip.inconclusive === 0 && counts.skip.blocked === 0);
}

export const keyOf = (c: { id: string; host?: string }): string => (c.host ? `${c.id}@${c.host}` : c.id);

/** Failed check ids (with host), the form the fault catalogue compares. */
export function failedChecks(doc: ReportDocument): string[] {
  return doc.suites.flatMap((s) => s.checks.filter((c) => c.status === 'failed').map(keyOf));
}
