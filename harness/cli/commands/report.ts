// `hardway report`: the history of verify runs kept under reports/ — what changed since the
// previous run of a target, the list of runs, and the index page with the trend.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type RunEntry,
  diffReports,
  formatDiff,
  previousRun,
  readRunsChecked,
  reportShapeProblem,
  skippedLines,
  writeHistoryIndex,
} from '../../report/history.ts';
import { summarize } from '../../report/document.ts';
import { REPORTS_DIR } from '../../verify/verify.ts';
import { type Command, parse } from '../command.ts';
import { UsageError, UserFacingError } from '../errors.ts';

const HELP = `Usage: hardway report <diff|list|index> [options]

Every hardway verify run keeps reports/<run>/ (report.json, junit.xml, report.html); after each run
reports/index.html shows, per target, the runs, their durations and the failed checks per suite.

  hardway report diff [--target <target>] [<run-a> [<run-b>]] [--json]
      what changed between two runs of a target: newly failing, fixed and still failing checks,
      new and removed checks, the duration change. Without runs: the latest run (of --target, or
      of any target) against the previous run of the same target; with one run: that run against
      its previous one. A run is a folder name under reports/ or a path to it (or its report.json).
  hardway report list [--target <target>]
      the runs, oldest first: run, target, result, counts, duration
  hardway report index
      regenerate reports/index.html (verify does this after every run)

--reports <dir> reads another reports folder (default: reports/ in the repository, or $HARDWAY_REPORTS).
Exit code: 0, or 2 on bad input (no such run, nothing to compare with).
`;

function findRun(runs: RunEntry[], ref: string): RunEntry {
  const byName = runs.find((r) => r.run === ref);
  if (byName) return byName;
  const p = resolve(ref);
  const dir = existsSync(p) && statSync(p).isFile() ? dirname(p) : p;
  const byPath = runs.find((r) => resolve(r.dir) === dir);
  if (byPath) return byPath;
  const file = existsSync(p) && statSync(p).isFile() ? p : join(dir, 'report.json');
  if (existsSync(file)) {
    // Named explicitly but not in the history: say why instead of "no such run".
    let why: string | undefined;
    try {
      why = reportShapeProblem(JSON.parse(readFileSync(file, 'utf8')));
    } catch (e) {
      why = `not valid JSON (${(e as Error).message.split('\n')[0]})`;
    }
    if (why) throw new UserFacingError(`${file}: not a hardway report (${why}); fix: name another run (hardway report list)`);
  }
  const near = runs.filter((r) => r.run.includes(ref)).map((r) => r.run);
  if (near.length === 1) return runs.find((r) => r.run === near[0])!;
  throw new UserFacingError(
    `no run "${ref}" with a report.json${near.length ? ` (it matches ${near.length} runs: ${near.slice(0, 3).join(', ')}...)` : ''}; fix: name a folder listed by hardway report list`,
  );
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'the history of verify runs: what changed since the previous run, the list, the index page',
  help: HELP,
  async run(argv) {
    const { values, positionals } = parse(
      'report',
      argv,
      {
        target: { type: 'string', short: 't' },
        json: { type: 'boolean' },
        reports: { type: 'string' },
      },
      true,
    );
    const [sub, ...refs] = positionals;
    if (values.help || !sub) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    const dir = values.reports ? resolve(values.reports) : REPORTS_DIR;
    if (values.reports && !(existsSync(dir) && statSync(dir).isDirectory())) {
      throw new UserFacingError(
        `--reports ${values.reports}: ${existsSync(dir) ? 'is not a folder' : 'no such folder'}; fix: name the reports folder verify writes (reports/ by default, or $HARDWAY_REPORTS)`,
      );
    }
    const { runs: all, skipped } = readRunsChecked(dir);
    // A malformed report.json is named and left out; the other runs still count.
    if (sub !== 'index') for (const l of skippedLines(skipped)) process.stderr.write(`hardway report: ${l}\n`);
    const target = values.target;
    const runs = target ? all.filter((r) => r.doc.target === target) : all;
    if (target && runs.length === 0 && sub !== 'index') {
      const known = [...new Set(all.map((r) => r.doc.target))];
      throw new UserFacingError(
        `no runs of target "${target}" in ${dir}${known.length ? ` (targets there: ${known.join(', ')})` : ''}; fix: run hardway verify --target ${target} first`,
      );
    }
    switch (sub) {
      case 'index': {
        if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
        process.stdout.write(`${writeHistoryIndex(dir, (l) => process.stderr.write(`hardway report: ${l}\n`))}\n`);
        return 0;
      }
      case 'list': {
        if (values.json) {
          process.stdout.write(
            `${JSON.stringify(
              runs.map((r) => ({
                run: r.run,
                target: r.doc.target,
                ok: r.doc.ok,
                startedAt: r.doc.startedAt,
                durationMs: r.doc.durationMs,
                ...summarize(r.doc),
              })),
              null,
              2,
            )}\n`,
          );
          return 0;
        }
        for (const r of runs) {
          const s = summarize(r.doc);
          process.stdout.write(
            `${r.run}  ${r.doc.target}  ${r.doc.ok ? 'OK' : 'FAILED'}  ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped  ${((r.doc.durationMs ?? 0) / 1000).toFixed(1)} s\n`,
          );
        }
        if (!runs.length) process.stdout.write(`no runs in ${dir}\n`);
        return 0;
      }
      case 'diff': {
        if (refs.length > 2) throw new UsageError('hardway report diff: at most two runs (see: hardway report --help)');
        let a: RunEntry | undefined;
        let b: RunEntry;
        if (refs.length === 2) {
          a = findRun(all, refs[0]!);
          b = findRun(all, refs[1]!);
        } else {
          if (!runs.length) throw new UserFacingError(`no runs in ${dir}; fix: run hardway verify first`);
          b = refs.length === 1 ? findRun(all, refs[0]!) : runs[runs.length - 1]!;
          a = previousRun(all, b);
          if (!a)
            throw new UserFacingError(
              `${b.run} is the first run of target "${b.doc.target}": nothing to compare it with; fix: run hardway verify --target ${b.doc.target} again, or name two runs`,
            );
        }
        if (a.doc.target !== b.doc.target)
          process.stderr.write(`hardway report diff: note: comparing runs of different targets (${a.doc.target}, ${b.doc.target})\n`);
        const d = diffReports(a, b);
        process.stdout.write(values.json ? `${JSON.stringify(d, null, 2)}\n` : formatDiff(d));
        return 0;
      }
      default:
        throw new UsageError(`hardway report: unknown subcommand "${sub}" (diff, list, index)`);
    }
  },
};
