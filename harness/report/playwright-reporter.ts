// hardway's Playwright reporter: collects one CheckResult per test from the annotations the suite
// glue sets, reports suites skipped because a prerequisite failed, and writes the run's JSON,
// JUnit and HTML files. Console output follows the --reporter choice of `hardway verify`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullResult, Reporter, Suite as PwSuite, TestCase, TestResult } from '@playwright/test/reporter';
import type { CheckResult, Status } from '../verify/check.ts';
import { suiteByName } from '../verify/registry.ts';
import { readRunContext } from '../verify/run-context.ts';
import { checkLine, summaryLine } from './console.ts';
import type { ReportDocument } from './document.ts';
import { reportHtml } from './html.ts';
import { junitXml } from './junit.ts';
import { redact } from './redact.ts';

const note = (t: TestCase, type: string) => t.annotations.find((a) => a.type === type)?.description;

export default class HardwayReporter implements Reporter {
  private root?: PwSuite;
  private readonly started = Date.now();
  private readonly results = new Map<TestCase, CheckResult>();
  private readonly attachments: NonNullable<ReportDocument['attachments']> = [];
  private readonly run = readRunContext();

  printsToStdio(): boolean {
    return true;
  }

  onBegin(_config: unknown, suite: PwSuite): void {
    this.root = suite;
  }

  private toResult(test: TestCase, result: TestResult): CheckResult {
    const status: Status = result.status === 'passed' ? 'passed' : result.status === 'skipped' ? 'skipped' : 'failed';
    const id = note(test, 'check') ?? test.title;
    const host = note(test, 'host');
    let diagnosis: string | undefined;
    if (status === 'failed') {
      diagnosis = (result.error?.message ?? (result.status === 'timedOut' ? `timed out after ${test.timeout / 1000} s` : result.status)).replace(/^CheckFailed: /, '');
    } else if (status === 'skipped') {
      diagnosis = result.annotations.find((a) => a.type === 'skip')?.description ?? test.annotations.find((a) => a.type === 'skip')?.description;
    }
    const warnings = [...test.annotations, ...result.annotations].filter((a) => a.type === 'warning').map((a) => redact(a.description ?? ''));
    const notes = [...test.annotations, ...result.annotations].filter((a) => a.type === 'note').map((a) => redact(a.description ?? ''));
    for (const a of result.attachments) {
      if (a.path) this.attachments.push({ check: id, ...(host ? { host } : {}), name: a.name, contentType: a.contentType, path: a.path });
    }
    return {
      id,
      title: note(test, 'title') ?? test.title,
      status,
      ...(host ? { host } : {}),
      ...(diagnosis ? { diagnosis: redact(diagnosis) } : {}),
      ...(warnings.length ? { warnings: [...new Set(warnings)] } : {}),
      ...(notes.length ? { notes: [...new Set(notes)] } : {}),
      durationMs: result.duration,
    };
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const r = this.toResult(test, result);
    this.results.set(test, r);
    if (this.run.reporter === 'console') process.stdout.write(checkLine(r) + '\n');
  }

  onEnd(result: FullResult): void {
    const projects = this.root?.suites ?? [];
    const failedSuites = new Set<string>();
    for (const p of projects) {
      if (p.allTests().some((t) => this.results.get(t)?.status === 'failed')) failedSuites.add(p.title);
    }
    // A suite is blocked by a failed prerequisite, or by a prerequisite that was itself blocked.
    const blockersOf = (name: string, seen = new Set<string>()): string[] => {
      const deps = suiteByName(name)?.dependsOn ?? [];
      return deps.flatMap((d) => {
        if (seen.has(d)) return [];
        seen.add(d);
        return failedSuites.has(d) ? [d] : blockersOf(d, seen).map((b) => `${b} (through ${d})`);
      });
    };
    const suites = projects.map((p) => {
      const def = suiteByName(p.title);
      const blockers = blockersOf(p.title);
      const checks = p.allTests().map((t): CheckResult => {
        const r = this.results.get(t);
        if (r) return r;
        // Never ran: Playwright skips projects whose dependencies failed.
        const r2: CheckResult = {
          id: note(t, 'check') ?? t.title,
          title: note(t, 'title') ?? t.title,
          status: 'skipped',
          ...(note(t, 'host') ? { host: note(t, 'host') } : {}),
          diagnosis: blockers.length ? `prerequisite suite ${blockers.join(', ')} failed` : `not run (${result.status})`,
        };
        if (this.run.reporter === 'console') process.stdout.write(checkLine(r2) + '\n');
        return r2;
      });
      return { name: p.title, ...(def ? { title: def.title } : {}), durationMs: checks.reduce((n, c) => n + (c.durationMs ?? 0), 0), checks };
    });
    const all = suites.flatMap((s) => s.checks);
    const doc: ReportDocument = {
      target: this.run.target,
      ok: all.length > 0 && !all.some((c) => c.status === 'failed') && result.status !== 'interrupted',
      run: this.run.runDir.split('/').pop()!,
      startedAt: new Date(this.started).toISOString(),
      durationMs: Date.now() - this.started,
      suites,
      ...(this.attachments.length ? { attachments: this.attachments } : {}),
    };
    mkdirSync(this.run.runDir, { recursive: true });
    writeFileSync(join(this.run.runDir, 'report.json'), JSON.stringify(doc, null, 2) + '\n');
    writeFileSync(join(this.run.runDir, 'junit.xml'), junitXml(doc));
    writeFileSync(join(this.run.runDir, 'report.html'), reportHtml(doc));
    if (this.run.reporter === 'json') process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    else process.stdout.write(summaryLine(doc, this.run.runDir) + '\n');
  }
}
