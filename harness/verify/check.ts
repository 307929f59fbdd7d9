// What a check and a suite are. A check looks at one host (or the whole cluster) and returns the
// problems it found, each a one-line diagnosis that says what is wrong, where, and how to fix it.
import type { Cluster } from '../model/cluster.ts';
import type { Target } from '../targets/target.ts';
import type { Browser, LaunchOptions } from '@playwright/test';

export interface VerifyOptions {
  /** Warn when a certificate expires within this many days. */
  expiryWarningDays: number;
  /** Allow checks that create (and remove) labelled test workloads. */
  active: boolean;
  /** Memory budgets per component (the resources suite); fixtures/budgets.yaml when absent. */
  budgetsFile?: string;
}

export const DEFAULT_OPTIONS: VerifyOptions = { expiryWarningDays: 30, active: true };

export interface CheckContext {
  target: Target;
  cluster: Cluster;
  options: VerifyOptions;
  /** Per-run memo so that checks of one suite share what they fetched (one read per file). */
  memo<T>(key: string, make: () => Promise<T>): Promise<T>;
  /** A real browser, present when the check runs as a Playwright test (hardway verify); absent in
   * direct runs (runSuite), where browser checks skip. See harness/verify/playwright.ts. */
  browser?: BrowserAccess;
}

/** What a browser check gets from Playwright: the configured Chromium, and its test's attachments. */
export interface BrowserAccess {
  /** Launches the configured browser (playwright.config.ts: Debian's Chromium); `options` are merged
   * over the configured launch options, `args` appended. The caller closes it. */
  launch(options?: LaunchOptions): Promise<Browser>;
  /** A path in the test's own output folder (kept with the run's report). */
  outputPath(name: string): string;
  /** Attaches a file to the check's test: images are shown inline in hardway's HTML report. */
  attach(name: string, path: string, contentType: string): Promise<void>;
}

export interface Outcome {
  /** One line per problem; empty means the check passed. */
  problems: string[];
  /** Passed, but worth a look (a certificate near expiry, memory over budget). */
  warnings?: string[];
  /** Facts worth reporting either way (versions, measured values). */
  notes?: string[];
  /** Set when the check could not run; the reason is reported. */
  skipped?: string;
}

export interface Check {
  /** Stable id, "<suite>.<name>", used in reports and in the fault catalogue. */
  id: string;
  title: string;
  /** Hosts the check runs on; omitted means once for the whole cluster. */
  hosts?: (c: Cluster) => string[];
  /** Needs a live target (commands on hosts); skipped with a reason on offline targets. */
  live?: boolean;
  run(ctx: CheckContext, host?: string): Promise<Outcome>;
}

export interface Suite {
  name: string;
  title: string;
  /** Suites that must pass first; when one failed, this suite is skipped with the reason. */
  dependsOn: string[];
  checks: Check[];
}

export type Status = 'passed' | 'failed' | 'skipped';

export interface CheckResult {
  id: string;
  title: string;
  status: Status;
  host?: string;
  diagnosis?: string;
  warnings?: string[];
  notes?: string[];
  durationMs?: number;
}

export const ok = (): Outcome => ({ problems: [] });
export const skip = (reason: string): Outcome => ({ problems: [], skipped: reason });

export function resultOf(check: Check, host: string | undefined, outcome: Outcome, durationMs?: number): CheckResult {
  const base = {
    id: check.id, title: check.title, ...(host ? { host } : {}), ...(durationMs !== undefined ? { durationMs } : {}),
    ...(outcome.notes?.length ? { notes: outcome.notes } : {}),
  };
  if (outcome.skipped) return { ...base, status: 'skipped', diagnosis: outcome.skipped };
  if (outcome.problems.length) {
    return { ...base, status: 'failed', diagnosis: outcome.problems.join('\n'), ...(outcome.warnings?.length ? { warnings: outcome.warnings } : {}) };
  }
  return { ...base, status: 'passed', ...(outcome.warnings?.length ? { warnings: outcome.warnings } : {}) };
}

export function makeContext(target: Target, options: VerifyOptions): CheckContext {
  const cache = new Map<string, Promise<unknown>>();
  return {
    target,
    cluster: target.cluster,
    options,
    memo<T>(key: string, make: () => Promise<T>): Promise<T> {
      if (!cache.has(key)) cache.set(key, make());
      return cache.get(key) as Promise<T>;
    },
  };
}

/** Runs one check on one host (or cluster-wide), turning a thrown error into a failure line. */
export async function runCheck(ctx: CheckContext, check: Check, host?: string): Promise<CheckResult> {
  const t0 = Date.now();
  if (check.live && !ctx.target.live) {
    return resultOf(check, host, skip(`needs a live target (commands on hosts); ${ctx.target.name} is offline`), 0);
  }
  let outcome: Outcome;
  try {
    outcome = await check.run(ctx, host);
  } catch (e) {
    outcome = { problems: [`${host ? host + ': ' : ''}${(e as Error).message}`] };
  }
  return resultOf(check, host, outcome, Date.now() - t0);
}

/** Every (check, host) pair of a suite: the unit that becomes one test and one report line. */
export function expand(suite: Suite, cluster: Cluster): { check: Check; host?: string }[] {
  return suite.checks.flatMap((check) =>
    check.hosts ? check.hosts(cluster).map((host) => ({ check, host })) : [{ check }],
  );
}

/** Runs a whole suite directly (no Playwright): used by unit tests and by the fault catalogue. */
export async function runSuite(ctx: CheckContext, suite: Suite): Promise<CheckResult[]> {
  return Promise.all(expand(suite, ctx.cluster).map(({ check, host }) => runCheck(ctx, check, host)));
}
