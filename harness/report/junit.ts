// JUnit XML for CI systems: one testsuite per hardway suite, one testcase per (check, host).
import type { ReportDocument } from './document.ts';

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function junitXml(doc: ReportDocument): string {
  const suites = doc.suites.map((s) => {
    const cases = s.checks.map((c) => {
      const name = c.host ? `${c.id} @${c.host}` : c.id;
      const time = ((c.durationMs ?? 0) / 1000).toFixed(3);
      const head = `    <testcase classname="${esc(s.name)}" name="${esc(name)}" time="${time}">`;
      if (c.status === 'failed')
        return `${head}\n      <failure message="${esc(c.diagnosis?.split('\n')[0] ?? 'failed')}">${esc(c.diagnosis ?? '')}</failure>\n    </testcase>`;
      if (c.status === 'skipped') return `${head}\n      <skipped message="${esc(c.diagnosis ?? '')}"/>\n    </testcase>`;
      return `${head}</testcase>`;
    });
    const failures = s.checks.filter((c) => c.status === 'failed').length;
    const skipped = s.checks.filter((c) => c.status === 'skipped').length;
    const time = ((s.durationMs ?? 0) / 1000).toFixed(3);
    return `  <testsuite name="${esc(s.name)}" tests="${s.checks.length}" failures="${failures}" skipped="${skipped}" time="${time}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hardway verify ${esc(doc.target)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
