// The console reporter's lines: one per check as it ends (live progress), the diagnosis indented
// under a failure, and a summary counting each verdict kind and saying where the files went.
import type { CheckResult } from '../verify/check.ts';
import { type ReportDocument, summarize } from './document.ts';

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);

export function checkLine(r: CheckResult): string {
  const mark = r.status === 'passed' ? paint(32, '✓') : r.status === 'failed' ? paint(31, '✗') : paint(90, '-');
  const name = `${r.id}${r.host ? ` @${r.host}` : ''}${r.gate ? ' (gate)' : ''}`;
  const time = r.durationMs !== undefined && r.durationMs >= 1000 ? paint(90, ` ${(r.durationMs / 1000).toFixed(1)}s`) : '';
  const lines = [`${mark} ${name}${time}${r.status === 'skipped' ? paint(90, ` (${r.skip}: ${r.diagnosis ?? ''})`) : ''}`];
  if (r.status === 'failed' && r.diagnosis) lines.push(...r.diagnosis.split('\n').map((l) => `    ${paint(31, l)}`));
  for (const w of r.warnings ?? []) lines.push(`    ${paint(33, `warning: ${w}`)}`);
  for (const n of r.notes ?? []) lines.push(`    ${paint(90, n)}`);
  return lines.join('\n');
}

export function summaryLine(doc: ReportDocument, runDir?: string): string {
  const s = summarize(doc);
  const verdict = doc.ok ? paint(32, 'OK') : paint(31, 'FAILED');
  const kinds = Object.entries(s.skip)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return (
    `${verdict}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${kinds.length ? ` (${kinds.join(', ')})` : ''}, ${s.warnings} warnings` +
    (doc.durationMs !== undefined ? ` in ${(doc.durationMs / 1000).toFixed(1)} s` : '') +
    (!doc.ok && s.failed === 0 && s.passed === 0 ? ' (nothing was verified: no check found anything to examine)' : '') +
    (doc.strict && !doc.ok && s.failed === 0 && s.passed > 0 ? ' (--strict: inconclusive or blocked checks fail the run)' : '') +
    (runDir ? `\nreports: ${runDir}/report.html (also report.json, junit.xml)` : '')
  );
}
