// `hardway verify`: validates the input, opens the target once (one SSH connection per host for
// the whole run), starts the test workloads in the background, runs the suite graph in this
// process, prints each verdict as it ends, writes the reports, and removes what it created.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserFacingError } from '../cli/errors.ts';
import { checkLine, summaryLine } from '../report/console.ts';
import { criticalPath } from '../report/critical-path.ts';
import { type ReportDocument, type SuiteReport, isOk, summarize } from '../report/document.ts';
import { writeHistoryIndex } from '../report/history.ts';
import { reportHtml } from '../report/html.ts';
import { junitXml } from '../report/junit.ts';
import { redact, registerSecret } from '../report/redact.ts';
import { loadTargetCluster, openTarget } from '../targets/open.ts';
import type { Target } from '../targets/target.ts';
import { type Attachment, browserAccess } from './browser.ts';
import type { CheckContext, CheckResult, VerifyOptions } from './check.ts';
import { adoptDiscoveredModel, runContext } from './context.ts';
import { PREPARE_SETTLE_MS, planRun, runPlan, settlePrepares, startPrepares } from './engine.ts';
import { SUITES } from './registry.ts';
import { OWNER_LABEL, removeRunWorkloads, runIdOf, workspaceName } from './workspace.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const REPORTS_DIR = process.env.HARDWAY_REPORTS ?? join(REPO_ROOT, 'reports');

export interface VerifyRequest {
  target: string;
  config?: string;
  suites?: string[];
  options: VerifyOptions;
  reporter: 'console' | 'json' | 'quiet';
  /** Where relative target specs resolve (the user's folder). */
  cwd?: string;
  /** Called with each verdict as it ends (after redaction). */
  onResult?: (suite: string, r: CheckResult) => void;
}

function runName(target: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..+/, '').replace('T', '-');
  const slug = target
    .replace(/^dir:/, 'dir-')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .slice(-40);
  return `${t}-${slug}-${process.pid}`;
}

/** Every line a report can show passes the redaction filter (secrets read by checks included). */
function redacted(r: CheckResult): CheckResult {
  return {
    ...r,
    ...(r.diagnosis ? { diagnosis: redact(r.diagnosis) } : {}),
    ...(r.warnings ? { warnings: r.warnings.map(redact) } : {}),
    ...(r.notes ? { notes: r.notes.map(redact) } : {}),
    ...(r.findings
      ? { findings: r.findings.map((f) => ({ ...f, subject: redact(f.subject), message: redact(f.message), fix: redact(f.fix) })) }
      : {}),
  };
}

export async function verify(req: VerifyRequest): Promise<{ doc: ReportDocument; runDir: string }> {
  const config = req.config ? resolve(req.config) : undefined;
  const cwd = req.cwd ?? process.cwd();
  const topts = { ...(config ? { config } : {}), cwd };
  loadTargetCluster(req.target, topts); // bad input fails here, before anything connects
  const unknown = (req.suites ?? []).filter((s) => !SUITES.some((x) => x.name === s));
  if (unknown.length) {
    throw new UserFacingError(`unknown suite ${unknown.join(', ')}; known suites: ${SUITES.map((s) => s.name).join(', ')}`);
  }
  const target = await openTarget(req.target, topts);
  const run = runName(req.target);
  const runDir = join(REPORTS_DIR, run);
  const abort = new AbortController();
  let interrupted = false;
  // The first Ctrl-C stops the checks and lets the cleanup run; a second one exits at once.
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      process.stderr.write(
        `hardway verify: ${sig} again: exiting now, without waiting for the cleanup (a test namespace ${workspaceName(runIdOf(runDir))} may be left; a later hardway verify removes it after 30 min)\n`,
      );
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(
      `hardway verify: ${sig}: stopping the checks, then removing the run's test workloads (press Ctrl-C again to exit at once)\n`,
    );
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const attachments: Attachment[] = [];
  let ctx: CheckContext | undefined;
  // The suites' prepare() in flight: awaited (bounded) before anything is cleaned up.
  let prepares: Promise<unknown>[] = [];
  // Ended once the checks are done: no check needs a prepare() still in flight any more.
  const prepAbort = new AbortController();
  const settle = async (timeoutMs?: number) => {
    prepAbort.abort(new Error('the checks are done'));
    if (!(await settlePrepares(prepares, timeoutMs)))
      process.stderr.write(
        `hardway verify: test workloads still being created after ${Math.round((timeoutMs ?? PREPARE_SETTLE_MS) / 1000)} s; removing what exists now (a later hardway verify sweeps the rest after 30 min)\n`,
      );
    prepares = [];
  };
  try {
    await registerTargetSecrets(target);
    await target.preflight?.(); // unreachable hosts, wrong keys and host keys: exit code 2
    // Without a model the cluster is what runs: discovery reads it from the hosts first.
    const discovered = target.modelGiven ? undefined : await adoptDiscoveredModel(target);
    mkdirSync(runDir, { recursive: true });
    const artifacts = join(runDir, 'artifacts');
    const base = await runContext(target, req.options, {
      ...(discovered ? { discovered } : {}),
      run: { id: runIdOf(runDir), dir: runDir },
      signal: abort.signal,
      browserFor: (check, host) => browserAccess(artifacts, check, host, attachments),
    });
    ctx = base;
    const plan = planRun(SUITES, req.suites);
    if (interrupted) throw new UserFacingError('interrupted before the checks started', 130);
    // Test workloads (and the browser) start now, while hosts, certificates and etcd are looked at.
    prepares = startPrepares({ ...base, signal: AbortSignal.any([abort.signal, prepAbort.signal]) }, plan);
    const t0 = Date.now();
    const startedAt = new Date(t0).toISOString();
    const print = req.reporter === 'console';
    const runs = await runPlan(base, plan, {
      onResult(suite, r) {
        const x = redacted(r);
        if (print) process.stdout.write(`${checkLine(x)}\n`);
        req.onResult?.(suite, x);
      },
    });
    const suites: SuiteReport[] = runs.map((s) => ({
      name: s.name,
      title: s.title,
      durationMs: s.checks.reduce((n, c) => n + (c.durationMs ?? 0), 0),
      startedMs: s.startedMs,
      endedMs: s.endedMs,
      ...(s.gateOnly ? { gateOnly: true } : {}),
      ...(s.blockedBy ? { blockedBy: s.blockedBy } : {}),
      checks: s.checks.map(redacted),
    }));
    const draft: ReportDocument = {
      target: req.target,
      ok: false,
      strict: !!req.options.strict,
      run,
      startedAt,
      durationMs: Date.now() - t0,
      suites,
    };
    const counts = summarize(draft);
    const doc: ReportDocument = {
      ...draft,
      ok:
        !interrupted &&
        isOk(
          counts,
          !!req.options.strict,
          suites.reduce((n, s) => n + s.checks.length, 0),
        ),
      counts,
      ...(attachments.length ? { attachments } : {}),
    };
    // The run's workloads are removed while the reports are written (once no prepare() can still
    // create one). An API server that does not answer (etcd down) makes every request hang for its
    // --request-timeout: then the removal is not waited for beyond a bound, and says so.
    const log = (l: string) => process.stderr.write(`hardway verify: ${l}\n`);
    const apiDown = runs.some((s) =>
      s.checks.some((c) => ['etcd.health', 'apiserver.readyz'].includes(c.id) && (c.status === 'failed' || c.skip === 'blocked')),
    );
    const cleanup = settle(apiDown ? UNHEALTHY_API_BOUND_MS : CHECKS_DONE_SETTLE_MS).then(() =>
      Promise.all([
        base.cleanup(),
        bounded(removeRunWorkloads(base, log), apiDown ? UNHEALTHY_API_BOUND_MS : undefined, () =>
          log(
            `the API server is not healthy (see the etcd and apiserver suites): not waiting for the removal of this run's test namespace; a later hardway verify sweeps namespaces labelled ${OWNER_LABEL} after 30 min`,
          ),
        ),
      ]),
    );
    writeFileSync(join(runDir, 'report.json'), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(join(runDir, 'junit.xml'), junitXml(doc));
    writeFileSync(join(runDir, 'report.html'), reportHtml(doc));
    try {
      writeHistoryIndex(REPORTS_DIR);
    } catch (e) {
      process.stderr.write(`hardway verify: could not update ${join(REPORTS_DIR, 'index.html')}: ${(e as Error).message.split('\n')[0]}\n`);
    }
    if (req.reporter === 'json') process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    else if (print) {
      const deps = Object.fromEntries(SUITES.map((s) => [s.name, s.dependsOn]));
      process.stdout.write(`${summaryLine(doc, runDir)}\ncritical path: ${criticalPath(doc, deps)}\n`);
    }
    await cleanup;
    if (interrupted) throw new UserFacingError("interrupted: the run's test workloads were removed", 130);
    return { doc, runDir };
  } catch (e) {
    // Interrupted or failed before the end: still remove what the run created.
    await settle();
    if (ctx) await ctx.cleanup().catch(() => undefined);
    if (ctx && !(e instanceof UserFacingError && e.exitCode === 130)) await removeRunWorkloads(ctx, () => undefined).catch(() => undefined);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await target.close();
  }
}

/** How long the end of a run waits for a prepare() still creating workloads (it was told to stop). */
const CHECKS_DONE_SETTLE_MS = 30_000;
/** How long the end of a run waits on an API server that does not answer. */
const UNHEALTHY_API_BOUND_MS = 15_000;

/** `p`, or after `ms` (when given) nothing, having called onTimeout; `p` goes on in the background. */
async function bounded(p: Promise<unknown>, ms: number | undefined, onTimeout: () => void): Promise<void> {
  if (ms === undefined) {
    await p;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    if ((await Promise.race([p.then(() => 'done' as const), late])) === 'late') onTimeout();
  } finally {
    clearTimeout(timer);
  }
}

async function registerTargetSecrets(target: Target): Promise<void> {
  registerSecret(await target.apiserverToken?.().catch(() => undefined));
  const kc = await target.kubeconfig?.().catch(() => undefined);
  if (!kc) return;
  try {
    const doc = parseYaml(kc) as { users?: { user?: Record<string, unknown> }[] };
    for (const u of doc.users ?? []) for (const v of Object.values(u.user ?? {})) if (typeof v === 'string') registerSecret(v);
  } catch {
    /* an unreadable kubeconfig is reported by the checks that use it */
  }
}
