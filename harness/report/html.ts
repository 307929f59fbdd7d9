// A single self-contained HTML page per run: summary, one table per suite, diagnoses in full,
// attached screenshots inline (so the report can be mailed or uploaded as one file).
import { readFileSync } from 'node:fs';
import { type ReportDocument, summarize } from './document.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:1.6em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.passed{color:#176f2c}.failed{color:#b00020;font-weight:bold}.skipped{color:#777}
pre{white-space:pre-wrap;margin:0;font:12px/1.4 ui-monospace,monospace}.warn{color:#8a5a00}
img{max-width:900px;border:1px solid #ccc;margin:6px 0}`;

export function reportHtml(doc: ReportDocument): string {
  const sum = summarize(doc);
  const imgs = (check: string, host?: string) =>
    (doc.attachments ?? [])
      .filter((a) => a.check === check && a.host === host && a.contentType.startsWith('image/'))
      .map((a) => {
        let data = '';
        try {
          data = readFileSync(a.path).toString('base64');
        } catch {
          return `<div class="warn">attachment ${esc(a.name)} is missing</div>`;
        }
        return `<div>${esc(a.name)}<br><img alt="${esc(a.name)}" src="data:${a.contentType};base64,${data}"></div>`;
      })
      .join('');
  const suites = doc.suites.map((s) => {
    const rows = s.checks.map((c) => {
      const warn =
        (c.warnings ?? []).map((w) => `<div class="warn">warning: ${esc(w)}</div>`).join('') +
        (c.notes ?? []).map((n) => `<div class="skipped">${esc(n)}</div>`).join('');
      return `<tr><td class="${c.status}">${c.status}</td><td>${esc(c.id)}</td><td>${esc(c.host ?? '')}</td><td>${esc(c.title)}</td><td><pre>${esc(c.diagnosis ?? '')}</pre>${warn}${imgs(c.id, c.host)}</td></tr>`;
    });
    return `<h2>${esc(s.name)}${s.title ? ` — ${esc(s.title)}` : ''}</h2>
<table><tr><th>status</th><th>check</th><th>host</th><th>what</th><th>diagnosis</th></tr>
${rows.join('\n')}</table>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>hardway verify ${esc(doc.target)}</title><style>${STYLE}</style></head><body>
<h1>hardway verify ${esc(doc.target)}: <span class="${doc.ok ? 'passed' : 'failed'}">${doc.ok ? 'OK' : 'FAILED'}</span></h1>
<p>${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped, ${sum.warnings} warnings${doc.startedAt ? ` — started ${esc(doc.startedAt)}` : ''}${doc.durationMs !== undefined ? `, ${(doc.durationMs / 1000).toFixed(1)} s` : ''}</p>
${suites.join('\n')}
</body></html>
`;
}
