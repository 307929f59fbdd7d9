// The check contract. A check looks at one host (a host check: it receives the Host it runs on) or
// at the whole cluster (a cluster check), and returns an Outcome: structured findings, what it
// examined, or why it could not tell. The engine (engine.ts) turns outcomes into verdicts:
//   passed   findings empty and at least one thing examined
//   failed   a finding (or nothing examined and no reason given: a vacuous pass is a failure)
//   skipped  with a kind: not-applicable, needs-active, blocked, inconclusive
// A check declares what it needs (a live target, --active, the HTTPS edge, a role, a component);
// the engine enforces it, so no check repeats those guards.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Browser, LaunchOptions } from '@playwright/test';
import type { ClusterFacts, Component, HostFacts } from '../discovery/facts.ts';
import type { DerivedModel } from '../discovery/model.ts';
import type { Cluster, Host, Role } from '../model/cluster.ts';
import type { InitSystem } from '../system/init-system.ts';
import type { HostAccess, Target } from '../targets/target.ts';

export type Status = 'passed' | 'failed' | 'skipped';
export const SKIP_KINDS = ['not-applicable', 'needs-active', 'blocked', 'inconclusive'] as const;
export type SkipKind = (typeof SKIP_KINDS)[number];

/** The diagnosis of a check the run did not start (or cut short) after Ctrl-C: inconclusive. */
export const INTERRUPTED = 'interrupted (Ctrl-C)';

/** The run's signal (aborted on Ctrl-C) around the work the engine starts for a run: its checks
 * and the suites' prepare(). Shared helpers (poll in kube.ts) read it, so they stop waiting
 * without every caller passing ctx.signal along. It is the run's signal, not a check's own
 * (timed-out) one: a memo started by one check is shared by others and must not die with it. */
const runSignalScope = new AsyncLocalStorage<AbortSignal | undefined>();

/** Runs `fn` with `signal` as the run's signal for everything it starts. */
export function withRunSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  return runSignalScope.run(signal, fn);
}

/** The signal of the run whose work is executing now (undefined outside a run). */
export function currentRunSignal(): AbortSignal | undefined {
  return runSignalScope.getStore();
}

/** One problem: what is wrong with which subject (a file, unit, object or address), and the fix. */
export interface Finding {
  /** Stable kebab-case code, declared in the check's `codes`; fault tests assert on codes. */
  code: string;
  host?: string;
  subject: string;
  message: string;
  fix: string;
}

/** A finding as reported: an error fails the check, a warning does not. */
export interface ReportedFinding extends Finding {
  severity: 'error' | 'warning';
}

export interface Outcome {
  findings: Finding[];
  /** Passed, but worth a look (a certificate near expiry, memory over a budget). */
  warnings?: Finding[];
  /** Facts worth reporting either way (versions, measured values). */
  notes?: string[];
  /** How many things the check looked at (certificates, units, pods, answers...). */
  examined: number;
  /** The check ran and could not tell (a timeout, a permission, an unparseable answer). */
  inconclusive?: string;
  /** What the check looks at is not part of this cluster. */
  notApplicable?: string;
  /** This run cannot tell without creating a test workload (only some targets need one). */
  needsActive?: string;
}

export interface VerifyOptions {
  /** Warn when a certificate expires within this many days. */
  expiryWarningDays: number;
  /** Allow checks that create (and remove) labelled test workloads. */
  active: boolean;
  /** Memory budgets per component (the resources suite); fixtures/budgets.yaml when absent. */
  budgetsFile?: string;
  /** Fail the run when a check is inconclusive or blocked. */
  strict?: boolean;
}

export const DEFAULT_OPTIONS: VerifyOptions = { expiryWarningDays: 30, active: true };

/** What a browser check gets: the configured Chromium and a place for its attachments. */
export interface BrowserAccess {
  /** Launches Debian's Chromium (HARDWAY_CHROMIUM overrides); `args` are appended. The caller closes it. */
  launch(options?: LaunchOptions): Promise<Browser>;
  /** A path in the check's own output folder (kept with the run's report). */
  outputPath(name: string): string;
  /** Attaches a file to the check's result: images are shown inline in the HTML report. */
  attach(name: string, path: string, contentType: string): Promise<void>;
}

/** The host a host check runs on. */
export interface HostView {
  name: string;
  role: Role;
  /** The host's entry in the cluster model (node name, addresses). */
  model: Host;
  /** The init system's commands for this host, chosen once. */
  init: InitSystem;
  /** Files and (on live targets) commands. */
  access: HostAccess;
  /** What discovery found on the host: its components, their flags and files. */
  facts: HostFacts;
}

export interface CheckContext {
  target: Target;
  /** What the cluster really runs, read once at the start of the run (harness/discovery). */
  facts: ClusterFacts;
  /** The model those facts describe (the drift suite compares it with a given model). */
  derived?: DerivedModel;
  /** This run's id (a DNS label: test namespaces are named after it) and report folder. */
  run: { id: string; dir?: string };
  cluster: Cluster;
  options: VerifyOptions;
  /** Per-run memo: checks share what they fetched (one read per file, one pod per worker). */
  memo<T>(key: string, make: () => Promise<T>): Promise<T>;
  host(name: string): HostView;
  /** A real browser for the check that runs (set by the engine from browserFor). */
  browser?: BrowserAccess;
  /** Makes the BrowserAccess of one check (its own output folder); absent in unit tests. */
  browserFor?: (check: string, host?: string) => BrowserAccess;
  /** Aborted when the run is interrupted or the check's time is up. */
  signal?: AbortSignal;
  /** Registers something to undo when the run ends (a browser to close, a folder to remove);
   * once cleanup() has started, it is undone at once. */
  defer(undo: () => Promise<unknown>): void;
  /** Runs what was deferred (the run's owner calls it once, at the end), and waits for what was
   * deferred while it ran. */
  cleanup(): Promise<void>;
}

/** What a check needs; the engine skips it with the matching kind when the run lacks it. */
export type Need = 'live' | 'active' | 'edge';

interface CheckBase {
  /** Stable id, "<suite>.<name>", used in reports and in the fault catalogue. */
  id: string;
  title: string;
  needs?: Need[];
  /** Every finding code the check may report, with what it means (checked by the registry test). */
  codes: Record<string, string>;
  /** Time after which the check is inconclusive (default 60 s). */
  timeoutMs?: number;
}

/** Which hosts a host check runs on. */
export interface HostSelector {
  role?: Role;
  /** Only hosts that run this component (as discovery found it). */
  component?: Component;
}

export interface HostCheck extends CheckBase {
  scope: 'host';
  on: HostSelector;
  run(ctx: CheckContext, host: HostView): Promise<Outcome>;
}

export interface ClusterCheck extends CheckBase {
  scope: 'cluster';
  run(ctx: CheckContext): Promise<Outcome>;
}

export type Check = HostCheck | ClusterCheck;

export function hostCheck(c: Omit<HostCheck, 'scope'>): HostCheck {
  return { ...c, scope: 'host' };
}

export function clusterCheck(c: Omit<ClusterCheck, 'scope'>): ClusterCheck {
  return { ...c, scope: 'cluster' };
}

export interface Suite {
  name: string;
  title: string;
  /** Suites that must pass first; when one failed, this suite is blocked, naming it. */
  dependsOn: string[];
  /** The checks that prove this suite's component healthy: what dependants wait for, and what
   * `--suite X` runs of X's prerequisites. All checks when absent. */
  gate?: string[];
  /** The quick checks that show the suite's component back after a fault's repair: what the fault
   * runner's proof runs of a suite the fault (and the next one) is not judged in. The gate when
   * absent. Never used for blocking. */
  health?: string[];
  checks: Check[];
  /** Starts what the suite's checks will need (test workloads under --active, a browser), at the
   * beginning of a live run, so that it is ready when the suite's turn comes (the checks await
   * the same memos). `planned`: the ids of the suite's checks this run executes. */
  prepare?(ctx: CheckContext, planned: ReadonlySet<string>): Promise<unknown>;
}

export interface CheckResult {
  id: string;
  title: string;
  status: Status;
  skip?: SkipKind;
  host?: string;
  /** Failures: one rendered line per finding; skips: the reason. */
  diagnosis?: string;
  findings?: ReportedFinding[];
  warnings?: string[];
  notes?: string[];
  examined: number;
  durationMs?: number;
  /** Run as a prerequisite's gate for `--suite`, not as a selected suite. */
  gate?: boolean;
}

/** The one-line form of a finding: `host:/path: message; fix: ...` or `host: unit: message; ...`. */
export function renderFinding(f: Finding): string {
  const where = f.host ? (f.subject.startsWith('/') ? `${f.host}:${f.subject}` : `${f.host}: ${f.subject}`) : f.subject;
  return `${where}: ${f.message}${f.fix ? `; fix: ${f.fix}` : ''}`;
}

// Outcome builders, for readable checks.
export const passed = (examined: number, notes?: string[]): Outcome => ({ findings: [], examined, ...(notes?.length ? { notes } : {}) });
export const notApplicable = (reason: string): Outcome => ({ findings: [], examined: 0, notApplicable: reason });
export const inconclusive = (reason: string, examined = 0): Outcome => ({ findings: [], examined, inconclusive: reason });
export const needsActive = (reason: string): Outcome => ({ findings: [], examined: 0, needsActive: reason });
export const outcome = (findings: Finding[], examined: number, extra: Partial<Outcome> = {}): Outcome => ({ ...extra, findings, examined });

/** A finding builder bound to a host (most checks report many findings about one host). */
export function findingsOn(host: string | undefined) {
  return (code: string, subject: string, message: string, fix: string): Finding => ({
    code,
    ...(host ? { host } : {}),
    subject,
    message,
    fix,
  });
}
