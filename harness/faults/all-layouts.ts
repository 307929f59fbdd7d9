// The whole fault catalogue on every layout's lab, one after the other (npm run faults:all-layouts):
// for each layout, its lab up, every lab fault that applies to it, the lab down (also on failure).
// CI runs the seed's catalogue in full and the other layouts as a smoke (their lab tests); this is
// the full run, whose table goes to reports/faults-all-layouts-<time>.md (and docs/fault-catalogue.md).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readLabState } from '../providers/lab/lab.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const HARDWAY = join(ROOT, 'bin/hardway');
const LAYOUTS: { layout: string; lab: string; target: string }[] = [
  { layout: 'seed', lab: 'lab', target: 'lab' },
  { layout: 'kthw', lab: 'kthw', target: 'lab:kthw' },
];

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const p = spawn(HARDWAY, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => res({ code: code ?? 1, out }));
  });
}

const busy = LAYOUTS.filter((l) => readLabState(l.lab));
if (busy.length) {
  process.stderr.write(
    `faults:all-layouts: lab ${busy.map((l) => l.lab).join(', ')} is running; this run would replace and remove it. fix: hardway lab down --layout ${busy[0]!.layout}, then run again\n`,
  );
  process.exit(2);
}

const sections: string[] = [];
let allCaught = true;
for (const l of LAYOUTS) {
  const t0 = Date.now();
  try {
    const up = await run(['lab', 'up', '--layout', l.layout]);
    if (up.code !== 0) {
      sections.push(`## ${l.layout}\n\nlab up failed (exit ${up.code})\n`);
      allCaught = false;
      continue;
    }
    const f = await run(['faults', '--target', l.target, '--reporter', 'json']);
    const doc = JSON.parse(f.out || '{"faults":[]}') as {
      faults: {
        id: string;
        expected: string[];
        failed: string[];
        caught: boolean;
        reasons?: string[];
        durationMs: number;
        batch?: string[];
      }[];
    };
    const caught = doc.faults.filter((x) => x.caught).length;
    allCaught &&= caught === doc.faults.length && f.code === 0;
    const rows = doc.faults.map(
      (x) =>
        `| ${x.id} | ${x.expected.join(', ') || '—'} | ${x.caught ? 'yes' : `NO: ${(x.reasons ?? []).join('; ')}`} | ${Math.round(x.durationMs / 1000)} s${x.batch ? ` (batch with ${x.batch.join(', ')})` : ''} |`,
    );
    sections.push(
      `## ${l.layout} (${caught}/${doc.faults.length} caught, ${Math.round((Date.now() - t0) / 1000)} s with lab up)\n\n| fault | checks that must fail | caught | time (of its batch) |\n|---|---|---|---|\n${rows.join('\n')}\n`,
    );
  } finally {
    await run(['lab', 'down', '--layout', l.layout]);
  }
}

const text = `# The fault catalogue on every layout (${new Date().toISOString()})\n\n${sections.join('\n')}`;
process.stdout.write(text);
mkdirSync(join(ROOT, 'reports'), { recursive: true });
writeFileSync(join(ROOT, 'reports', `faults-all-layouts-${Date.now()}.md`), text);
process.exit(allCaught ? 0 : 1);
