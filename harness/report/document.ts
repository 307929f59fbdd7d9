// The report document: what `--reporter json` prints and reports/<run>/report.json holds.
// Schema (documented in the README):
//   { target, ok, suites: [ { name, checks: [ { id, title, status, host?, diagnosis? } ] } ] }
// plus informational fields (run, startedAt, durationMs, warnings) that consumers may ignore.
import type { CheckResult } from '../verify/check.ts';

export interface SuiteReport {
  name: string;
  title?: string;
  durationMs?: number;
  checks: CheckResult[];
}

export interface ReportDocument {
  target: string;
  ok: boolean;
  run?: string;
  startedAt?: string;
  durationMs?: number;
  suites: SuiteReport[];
  /** Images and text attached by checks (screenshots), by check id and host; HTML report only. */
  attachments?: { check: string; host?: string; name: string; contentType: string; path: string }[];
}

export function summarize(doc: ReportDocument): { passed: number; failed: number; skipped: number; warnings: number } {
  const all = doc.suites.flatMap((s) => s.checks);
  return {
    passed: all.filter((c) => c.status === 'passed').length,
    failed: all.filter((c) => c.status === 'failed').length,
    skipped: all.filter((c) => c.status === 'skipped').length,
    warnings: all.reduce((n, c) => n + (c.warnings?.length ?? 0), 0),
  };
}

/** Failed check ids (with host), the form the fault catalogue compares. */
export function failedChecks(doc: ReportDocument): string[] {
  return doc.suites.flatMap((s) => s.checks.filter((c) => c.status === 'failed').map((c) => (c.host ? `${c.id}@${c.host}` : c.id)));
}
