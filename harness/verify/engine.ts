// The check engine: runs the suite graph as a graph, in this process. A suite starts as soon as
// the gate checks of every suite it depends on have finished; its checks (one per host for host
// checks) then run concurrently. A suite whose prerequisite failed is blocked, naming it. Every
// outcome becomes a verdict by one set of rules (see check.ts), so no check can pass vacuously.
import type { ClusterFacts, HostFacts } from '../discovery/facts.ts';
import { allHosts, type Cluster, type Host } from '../model/cluster.ts';
import { initSystem } from '../system/init-system.ts';
import type { Target } from '../targets/target.ts';
import {
  type Check,
  type CheckContext,
  type CheckResult,
  type HostCheck,
  type HostView,
  INTERRUPTED,
  type Outcome,
  type ReportedFinding,
  type SkipKind,
  type Suite,
  type VerifyOptions,
  renderFinding,
  withRunSignal,
} from './check.ts';

const DEFAULT_TIMEOUT_MS = 60_000;

const noFacts = (host: string): HostFacts => ({ host, init: 'unknown', components: [], problems: [] });

/** A run's context. `facts` come from discover() (verify does it once per run, see context.ts). */
export function makeContext(
  target: Target,
  options: VerifyOptions,
  extra: Partial<CheckContext> & { facts?: ClusterFacts } = {},
): CheckContext {
  const cache = new Map<string, Promise<unknown>>();
  const views = new Map<string, HostView>();
  const cluster = target.cluster;
  const facts = extra.facts ?? { hosts: [] };
  const deferred: (() => Promise<unknown>)[] = [];
  // Undone at once: what was deferred after cleanup() started (a prepare that ended late).
  const late: Promise<unknown>[] = [];
  let cleaning: Promise<unknown> | undefined;
  let started = false;
  const undoNow = (u: () => Promise<unknown>) => (async () => u())().catch(() => undefined);
  return {
    defer(undo) {
      if (started) late.push(undoNow(undo));
      else deferred.push(undo);
    },
    async cleanup() {
      if (!started) {
        started = true; // before any undo runs: one may defer more
        cleaning = Promise.all(deferred.splice(0).reverse().map(undoNow));
      }
      await cleaning;
      while (late.length) await Promise.all(late.splice(0));
    },
    target,
    facts,
    run: { id: `direct-${process.pid}` },
    cluster,
    options,
    memo<T>(key: string, make: () => Promise<T>): Promise<T> {
      if (!cache.has(key)) cache.set(key, make());
      return cache.get(key) as Promise<T>;
    },
    host(name: string): HostView {
      let v = views.get(name);
      if (!v) {
        const model = allHosts(cluster).find((h) => h.host === name);
        if (!model) throw new Error(`no host "${name}" in the cluster model`);
        const hf = facts.hosts.find((h) => h.host === name) ?? noFacts(name);
        v = {
          name,
          role: model.role,
          model,
          init: initSystem(hf.init === 'unknown' ? model.init : hf.init),
          access: target.host(name),
          facts: hf,
        };
        views.set(name, v);
      }
      return v;
    },
    ...extra,
  };
}

/** The hosts a host check runs on (by role in the model, by component in the facts), or why it
 * runs nowhere. */
export function hostsFor(cluster: Cluster, facts: ClusterFacts, check: HostCheck): { hosts: Host[]; none?: string } {
  const { role, component } = check.on;
  const runs = (h: Host) => !!facts.hosts.find((f) => f.host === h.host)?.components.some((c) => c.kind === component);
  const seen = new Set<string>();
  const hosts = allHosts(cluster).filter(
    (h) => (!role || h.role === role) && (!component || runs(h)) && !seen.has(h.host) && !!seen.add(h.host),
  );
  if (hosts.length) return { hosts };
  if (component) return { hosts, none: `no host runs ${component}` };
  return { hosts, none: `the cluster has no ${role ?? ''} host` };
}

/** Every (check, host) unit of a suite: the line each becomes in a report. */
export interface Unit {
  check: Check;
  host?: string;
  /** Why a host check runs on no host (then it is one not-applicable line). */
  none?: string;
}

export function expand(cluster: Cluster, facts: ClusterFacts, suite: Suite): Unit[] {
  return suite.checks.flatMap((check): Unit[] => {
    if (check.scope === 'cluster') return [{ check }];
    const { hosts, none } = hostsFor(cluster, facts, check);
    return none ? [{ check, none }] : hosts.map((h) => ({ check, host: h.host }));
  });
}

/** Why the run cannot give the check what it declares it needs, with the skip kind. */
function unmetNeed(ctx: CheckContext, check: Check): { kind: SkipKind; reason: string } | undefined {
  for (const need of check.needs ?? []) {
    if (need === 'live' && !ctx.target.live) {
      return { kind: 'not-applicable', reason: `needs a live target (commands on hosts, the API); ${ctx.target.name} is an offline tree` };
    }
    if (need === 'active' && !ctx.options.active) {
      return { kind: 'needs-active', reason: 'creates labelled test workloads: run with --active' };
    }
    if (need === 'edge' && !ctx.cluster.ingress) {
      if (ctx.derived?.edgeUnknown)
        return { kind: 'inconclusive', reason: `the cluster's HTTPS edge could not be read: ${ctx.derived.edgeUnknown}` };
      return { kind: 'not-applicable', reason: 'the cluster has no HTTPS edge (no ingress section in the model)' };
    }
  }
  return undefined;
}

/** The verdict rules: findings fail; a reason to skip skips; nothing examined fails. */
export function verdict(check: Check, host: string | undefined, o: Outcome, durationMs?: number): CheckResult {
  const base = {
    id: check.id,
    title: check.title,
    ...(host ? { host } : {}),
    examined: o.examined,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(o.notes?.length ? { notes: o.notes } : {}),
  };
  const warnings = o.warnings ?? [];
  const reported: ReportedFinding[] = [
    ...o.findings.map((f) => ({ ...f, severity: 'error' as const })),
    ...warnings.map((f) => ({ ...f, severity: 'warning' as const })),
  ];
  const warn = warnings.length ? { warnings: warnings.map(renderFinding) } : {};
  if (o.findings.length) {
    return { ...base, status: 'failed', diagnosis: o.findings.map(renderFinding).join('\n'), findings: reported, ...warn };
  }
  if (o.inconclusive) return { ...base, status: 'skipped', skip: 'inconclusive', diagnosis: o.inconclusive, ...warn };
  if (o.notApplicable) return { ...base, status: 'skipped', skip: 'not-applicable', diagnosis: o.notApplicable };
  if (o.needsActive) return { ...base, status: 'skipped', skip: 'needs-active', diagnosis: o.needsActive };
  if (o.examined < 1) {
    const f: ReportedFinding = {
      code: 'nothing-examined',
      ...(host ? { host } : {}),
      subject: check.id,
      message: 'the check found nothing to examine, so it cannot pass',
      fix: 'see the other findings of this host (a missing file or component), or report it if the cluster is complete',
      severity: 'error',
    };
    return { ...base, status: 'failed', diagnosis: renderFinding(f), findings: [f, ...reported] };
  }
  return { ...base, status: 'passed', ...(reported.length ? { findings: reported } : {}), ...warn };
}

const skipped = (check: Check, host: string | undefined, skip: SkipKind, reason: string): CheckResult => ({
  id: check.id,
  title: check.title,
  status: 'skipped',
  skip,
  ...(host ? { host } : {}),
  diagnosis: reason,
  examined: 0,
  durationMs: 0,
});

/** Runs one check on one host (or cluster-wide): needs, timeout, and a thrown error (the check
 * could not finish: inconclusive, with the error) are handled here once. */
export async function runCheck(ctx: CheckContext, check: Check, host?: string): Promise<CheckResult> {
  const parent = ctx.signal;
  // Interrupted: start nothing more (a listener added to an aborted signal would never fire).
  if (parent?.aborted) return skipped(check, host, 'inconclusive', INTERRUPTED);
  const unmet = unmetNeed(ctx, check);
  if (unmet) return skipped(check, host, unmet.kind, unmet.reason);
  const t0 = Date.now();
  const timeoutMs = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const abort = new AbortController();
  // Ctrl-C ends the check now, whether or not it reads its signal.
  let resolveInterrupted!: (o: Outcome) => void;
  const interrupted = new Promise<Outcome>((resolve) => {
    resolveInterrupted = resolve;
  });
  const onParentAbort = () => {
    abort.abort(parent?.reason);
    resolveInterrupted({ findings: [], examined: 0, inconclusive: INTERRUPTED });
  };
  parent?.addEventListener('abort', onParentAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      abort.abort(new Error('timed out'));
      resolve({ findings: [], examined: 0, inconclusive: `no verdict within ${timeoutMs / 1000} s (timed out)` });
    }, timeoutMs);
  });
  const browser = ctx.browserFor?.(check.id, host);
  const c: CheckContext = { ...ctx, signal: abort.signal, ...(browser ? { browser } : {}) };
  let o: Outcome;
  try {
    const work = withRunSignal(parent, () => (check.scope === 'host' ? check.run(c, ctx.host(host!)) : check.run(c)));
    o = await Promise.race([work, timedOut, interrupted]);
  } catch (e) {
    const msg = (e as Error)?.message?.split('\n')[0] ?? String(e);
    o = { findings: [], examined: 0, inconclusive: `${host ? `${host}: ` : ''}the check could not finish: ${msg}` };
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
  return verdict(check, host, o, Date.now() - t0);
}

/** Runs a whole suite (every unit concurrently): unit tests and the fault catalogue use it too. */
export async function runSuite(ctx: CheckContext, suite: Suite): Promise<CheckResult[]> {
  return Promise.all(
    expand(ctx.cluster, ctx.facts, suite).map(({ check, host, none }) =>
      none ? Promise.resolve(skipped(check, undefined, 'not-applicable', none)) : runCheck(ctx, check, host),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// The graph

export interface PlannedSuite {
  suite: Suite;
  /** The checks to run: all of them, or (for a prerequisite of a selected suite) its gate. */
  checks: Check[];
  gateOnly: boolean;
}

export function gateOf(suite: Suite): Check[] {
  if (!suite.gate) return suite.checks;
  return suite.checks.filter((c) => suite.gate!.includes(c.id));
}

/** The checks that show a suite's component healthy again after a repair (see Suite.health). */
export function healthOf(suite: Suite): Check[] {
  if (!suite.health) return gateOf(suite);
  return suite.checks.filter((c) => suite.health!.includes(c.id));
}

/** What a run of `selected` suites (all when empty) executes: selected suites in full, and the
 * gate checks of everything they need, transitively. */
export function planRun(suites: Suite[], selected: string[] = []): PlannedSuite[] {
  if (!selected.length) return suites.map((suite) => ({ suite, checks: suite.checks, gateOnly: false }));
  const byName = new Map(suites.map((s) => [s.name, s]));
  const needed = new Set<string>();
  const visit = (name: string) => {
    for (const d of byName.get(name)?.dependsOn ?? []) {
      if (!needed.has(d)) {
        needed.add(d);
        visit(d);
      }
    }
  };
  selected.forEach(visit);
  return suites
    .filter((s) => selected.includes(s.name) || needed.has(s.name))
    .map((suite) => {
      const full = selected.includes(suite.name);
      return { suite, checks: full ? suite.checks : gateOf(suite), gateOnly: !full };
    });
}

export interface SuiteRun {
  name: string;
  title: string;
  gateOnly: boolean;
  /** Milliseconds since the run started: when the suite could start, and when its last check ended. */
  startedMs: number;
  endedMs: number;
  /** Prerequisites that failed, when the suite was blocked. */
  blockedBy?: string[];
  checks: CheckResult[];
}

export interface RunEvents {
  onResult?(suite: string, r: CheckResult): void;
}

/**
 * Runs the plan: each suite waits for the gate results of its prerequisites (a failed or blocked
 * gate blocks it), then runs its units concurrently. Results arrive through `events` as they end.
 */
export async function runPlan(ctx: CheckContext, plan: PlannedSuite[], events: RunEvents = {}): Promise<SuiteRun[]> {
  const t0 = Date.now();
  const inPlan = new Map(plan.map((p) => [p.suite.name, p]));
  // A suite's gate outcome: resolves once its gate checks ended (or it was blocked).
  // A gate that is not ok names why, and (roots) the suites whose own checks failed: a suite blocked
  // two steps away from etcd says "blocked by etcd", not by the suite between.
  type Gate = { ok: boolean; why?: string; roots?: string[] };
  const gates = new Map<string, Promise<Gate>>();
  const runs = new Map<string, Promise<SuiteRun>>();

  const runOne = (p: PlannedSuite): Promise<SuiteRun> => {
    const existing = runs.get(p.suite.name);
    if (existing) return existing;
    let resolveGate!: (g: Gate) => void;
    gates.set(p.suite.name, new Promise((r) => (resolveGate = r)));
    const started = (async (): Promise<SuiteRun> => {
      const deps = p.suite.dependsOn.filter((d) => inPlan.has(d));
      for (const d of deps) runOne(inPlan.get(d)!);
      const depGates = await Promise.all(deps.map(async (d) => ({ d, g: await gates.get(d)! })));
      const failed = depGates.filter((x) => !x.g.ok);
      const startedMs = Date.now() - t0;
      const units = p.checks.flatMap((check) => expand(ctx.cluster, ctx.facts, { ...p.suite, checks: [check] }));
      if (ctx.signal?.aborted) {
        // Interrupted (Ctrl-C): the suite does not start; its checks are inconclusive, not blocked.
        const checks = units.map((u) => mark(skipped(u.check, u.host, 'inconclusive', INTERRUPTED), p.gateOnly));
        for (const r of checks) events.onResult?.(p.suite.name, r);
        resolveGate({ ok: false, why: 'interrupted' });
        return { name: p.suite.name, title: p.suite.title, gateOnly: p.gateOnly, startedMs, endedMs: startedMs, checks };
      }
      if (failed.length) {
        const why = failed.map((x) => (x.g.why ? `${x.d} (${x.g.why})` : x.d)).join(', ');
        const checks = units.map((u) => skipped(u.check, u.host, 'blocked', `blocked: prerequisite suite ${why} failed`));
        for (const r of checks) events.onResult?.(p.suite.name, mark(r, p.gateOnly));
        const roots = [...new Set(failed.flatMap((x) => x.g.roots ?? [x.d]))];
        resolveGate({ ok: false, why: `blocked by ${roots.join(', ')}`, roots });
        return {
          name: p.suite.name,
          title: p.suite.title,
          gateOnly: p.gateOnly,
          startedMs,
          endedMs: startedMs,
          blockedBy: failed.map((x) => x.d),
          checks: checks.map((r) => mark(r, p.gateOnly)),
        };
      }
      const gateIds = new Set(gateOf(p.suite).map((c) => c.id));
      const gateResults: Promise<CheckResult>[] = [];
      const all = units.map((u) => {
        const r = (u.none ? Promise.resolve(skipped(u.check, undefined, 'not-applicable', u.none)) : runCheck(ctx, u.check, u.host)).then(
          (res) => {
            const m = mark(res, p.gateOnly);
            events.onResult?.(p.suite.name, m);
            return m;
          },
        );
        if (gateIds.has(u.check.id)) gateResults.push(r);
        return r;
      });
      void Promise.all(gateResults).then((rs) => {
        const bad = rs.filter((r) => r.status === 'failed' || r.skip === 'blocked');
        resolveGate(bad.length ? { ok: false, why: bad.map((r) => (r.host ? `${r.id}@${r.host}` : r.id)).join(', ') } : { ok: true });
      });
      const checks = await Promise.all(all);
      return { name: p.suite.name, title: p.suite.title, gateOnly: p.gateOnly, startedMs, endedMs: Date.now() - t0, checks };
    })();
    runs.set(p.suite.name, started);
    return started;
  };

  return Promise.all(plan.map(runOne));
}

/** How long the end of a run waits for the suites' prepare() still in flight (see settlePrepares). */
export const PREPARE_SETTLE_MS = 120_000;

/**
 * Starts the prepare() of every planned suite (test workloads, a browser) on a live target, in
 * the run's signal scope (so their waits stop on Ctrl-C). The run's owner must pass the returned
 * promises to settlePrepares before cleanup: a prepare still in flight would otherwise create
 * namespaces, pods, images or a browser after the cleanup removed them.
 */
export function startPrepares(ctx: CheckContext, plan: PlannedSuite[]): Promise<unknown>[] {
  if (!ctx.target.live) return [];
  return plan.flatMap((p) => {
    const prepare = p.suite.prepare;
    if (!prepare) return [];
    const planned = new Set(p.checks.map((c) => c.id));
    return [withRunSignal(ctx.signal, () => (async () => prepare.call(p.suite, ctx, planned))()).catch(() => undefined)];
  });
}

/** Waits until every started prepare() ended, at most `timeoutMs`; false when some did not. */
export async function settlePrepares(prepares: Promise<unknown>[], timeoutMs = PREPARE_SETTLE_MS): Promise<boolean> {
  if (!prepares.length) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.allSettled(prepares).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function mark(r: CheckResult, gateOnly: boolean): CheckResult {
  return gateOnly ? { ...r, gate: true } : r;
}
