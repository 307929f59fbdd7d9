// Runs faults. A lab fault: inject it, wait for its exact effect, run only the suites its expected
// failures live in (with their prerequisites' gates), compare: exactly the expected checks fail,
// each with its codes; then repair, and prove the repair by running those suites again, plus the
// gate of every other suite, until nothing fails. The lab is opened once for the whole catalogue
// (one SSH connection per host) and one test namespace serves every run of a runFaults call (it
// is removed, and awaited, at the end). Ctrl-C repairs the current fault and stops. Refused on any target
// hardway did not create. A tree fault: break a copy of a rendering and run the certs suite on it.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFacingError } from '../cli/errors.ts';
import { Remote } from '../installer/remote.ts';
import { keyOf as resultKey } from '../report/document.ts';
import { labDir, readLabState } from '../providers/lab/lab.ts';
import { SshSession } from '../ssh/session.ts';
import { initSystem } from '../system/init-system.ts';
import { dirTarget } from '../targets/dir.ts';
import { assertFaultInjectionAllowed } from '../targets/guard.ts';
import { openTarget } from '../targets/open.ts';
import type { Target } from '../targets/target.ts';
import { type CheckResult, DEFAULT_OPTIONS, type Suite, type VerifyOptions } from '../verify/check.ts';
import { browserAccess } from '../verify/browser.ts';
import { runContext } from '../verify/context.ts';
import { type PlannedSuite, healthOf, makeContext, planRun, runPlan, settlePrepares, startPrepares } from '../verify/engine.ts';
import { SUITES } from '../verify/registry.ts';
import { RUN_LABEL, removeWorkspaces } from '../verify/workspace.ts';
import { kube, poll } from '../verify/kube.ts';
import { type Cluster, type InitSystem as InitKind, allHosts, layoutOf } from '../model/cluster.ts';
import { footprint, planBatches, whyAlone } from './batches.ts';
import { catalogue } from './catalogue.ts';
import {
  type Expected,
  type Fault,
  type FaultEnv,
  type FaultPhase,
  type FaultResult,
  type Roles,
  appliesTo,
  keyOf,
  rolesOf,
} from './fault.ts';

export interface FaultRunOptions {
  lab: string;
  only?: string[];
  /** Every fault alone (no batches): each one's own verification and proof. */
  oneAtATime?: boolean;
  progress: (line: string) => void;
}

/** Compares results with what the fault expects; returns the failed keys and why it was not caught. */
export function judge(expected: Expected[], warned: Expected[], results: CheckResult[]): { failed: string[]; reasons: string[] } {
  const failed = results
    .filter((r) => r.status === 'failed')
    .map(resultKey)
    .sort();
  const want = expected.map(keyOf).sort();
  const reasons: string[] = [];
  const missing = want.filter((e) => !failed.includes(e));
  const extra = failed.filter((f) => !want.includes(f));
  if (missing.length) reasons.push(`expected to fail but did not: ${missing.join(', ')}`);
  if (extra.length)
    reasons.push(
      `failed but not expected: ${extra.map((k) => `${k} [${codesOf(results, k, 'error').join(',')}]${firstMessage(results, k)}`).join(', ')}`,
    );
  for (const e of expected) {
    const have = codesOf(results, keyOf(e), 'error');
    const absent = e.codes.filter((c) => !have.includes(c));
    if (absent.length && failed.includes(keyOf(e)))
      reasons.push(`${keyOf(e)}: expected codes ${absent.join(', ')}, got ${have.join(', ')}`);
    if (e.oneOf && failed.includes(keyOf(e)) && !e.oneOf.some((c) => have.includes(c)))
      reasons.push(`${keyOf(e)}: expected one of the codes ${e.oneOf.join(', ')}, got ${have.join(', ')}`);
  }
  for (const w of warned) {
    const have = codesOf(results, keyOf(w), 'warning');
    const absent = w.codes.filter((c) => !have.includes(c));
    if (absent.length) reasons.push(`${keyOf(w)}: expected a warning ${absent.join(', ')}, got ${have.join(', ') || 'none'}`);
  }
  return { failed, reasons };
}

/** The first finding of a failed check, shortened: what an unexpected failure was about. */
function firstMessage(results: CheckResult[], key: string): string {
  const f = results.find((x) => resultKey(x) === key)?.findings?.find((x) => x.severity === 'error');
  return f ? ` (${`${f.subject}: ${f.message}`.slice(0, 160)})` : '';
}

function codesOf(results: CheckResult[], key: string, severity: 'error' | 'warning'): string[] {
  const r = results.find((x) => resultKey(x) === key);
  return [...new Set((r?.findings ?? []).filter((f) => f.severity === severity).map((f) => f.code))];
}

export const suiteOf = (check: string) => check.split('.')[0]!;

/** The suites a fault's expectations live in. */
export function suitesOf(fault: Fault, r: Roles): string[] {
  return [...new Set([...fault.expect(r), ...(fault.warn?.(r) ?? [])].map((e) => suiteOf(e.check)))];
}

/** The proof after a repair: `full` suites in full, every other suite's health checks. */
function proofPlan(suites: Suite[], full: string[]): PlannedSuite[] {
  return suites.map((suite) =>
    full.includes(suite.name) ? { suite, checks: suite.checks, gateOnly: false } : { suite, checks: healthOf(suite), gateOnly: true },
  );
}

async function runOnce(
  target: Target,
  options: VerifyOptions,
  runId: string,
  plan: PlannedSuite[],
  signal?: AbortSignal,
): Promise<CheckResult[]> {
  const artifacts = mkdtempSync(join(tmpdir(), 'hardway-fault-artifacts-'));
  const ctx = await runContext(target, options, {
    run: { id: runId },
    ...(signal ? { signal } : {}),
    browserFor: (check, host) => browserAccess(artifacts, check, host, []),
  });
  ctx.defer(async () => rmSync(artifacts, { recursive: true, force: true }));
  const prepares = startPrepares(ctx, plan);
  try {
    return (await runPlan(ctx, plan)).flatMap((s) => s.checks);
  } finally {
    // No prepare() may create a pod or a browser after the cleanup.
    await settlePrepares(prepares);
    await ctx.cleanup();
  }
}

/** Distinguishes the runs of one process (the lab tests call runFaults once per fault). */
let runSeq = 0;

/** A DNS label, unique per runFaults call: its test namespace is hardway-verify-<id>. */
function faultRunId(): string {
  return `faults-${process.pid}-${Date.now().toString(36)}-${++runSeq}`;
}

/** Deletes this run's test namespace (and those a dead run left) and waits, at most `timeoutMs`,
 * until this run's are gone: the next run's pods must not land in a terminating namespace. */
async function removeRunNamespaces(target: Target, runId: string, progress: (l: string) => void, timeoutMs = 120_000): Promise<void> {
  const ctx = makeContext(target, DEFAULT_OPTIONS, { run: { id: runId } });
  try {
    const k = await kube(ctx);
    await removeWorkspaces(k, runId);
    const gone = await poll(
      timeoutMs,
      async () => ((await k.core.listNamespace({ labelSelector: `${RUN_LABEL}=${runId}` })).items.length ? undefined : true),
      2000,
      undefined,
    );
    if (!gone) progress(`the test namespace of run ${runId} is still terminating after ${timeoutMs / 1000} s`);
  } finally {
    await ctx.cleanup();
  }
}

/** Where a fault's time went: inject, effect, run, repair, proof (ms each, in order). */
function phaseClock() {
  const phases: Partial<Record<FaultPhase, number>> = {};
  let mark = Date.now();
  return {
    /** Ends the phase running since the last lap (none: the time is not counted). */
    lap(name?: FaultPhase) {
      const now = Date.now();
      if (name) phases[name] = (phases[name] ?? 0) + now - mark;
      mark = now;
    },
    done: () => phases,
  };
}

export const phaseLine = (p: FaultResult['phases']): string =>
  Object.entries(p ?? {})
    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`)
    .join(', ');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ALL_SUITES = SUITES.map((s) => s.name);

export async function runFaults(opts: FaultRunOptions): Promise<FaultResult[]> {
  const state = readLabState(opts.lab);
  if (!state)
    throw new UserFacingError(`no running lab named "${opts.lab}"; faults are injected only into hardway's own lab: hardway lab up`);
  const spec = opts.lab === 'lab' ? 'lab' : `lab:${opts.lab}`;
  const target = await openTarget(spec, {});
  assertFaultInjectionAllowed(target);
  const cluster = target.cluster;
  const layout = layoutOf(cluster);
  const all = catalogue().filter((f) => f.on === 'lab');
  const mine = all.filter((f) => appliesTo(f, layout));
  const faults = mine.filter((f) => !opts.only?.length || opts.only.includes(f.id));
  if (opts.only?.length && faults.length !== opts.only.length) {
    await target.close();
    const missing = opts.only.filter((o) => !mine.some((f) => f.id === o));
    const elsewhere = missing.filter((o) => all.some((f) => f.id === o));
    if (elsewhere.length)
      throw new UserFacingError(
        `fault ${elsewhere.join(', ')} does not apply to a ${layout}-layout lab (it breaks what only the ${elsewhere.map((o) => all.find((f) => f.id === o)!.layouts?.join('/') ?? 'seed').join(', ')} layout has); this lab's faults: hardway faults --list --target ${spec}`,
      );
    throw new UserFacingError(`unknown fault ${missing.join(', ')}; known: ${all.map((f) => f.id).join(', ')}`);
  }
  const roles = rolesOf(cluster);
  const sessions = new Map<string, SshSession>();
  const runId = faultRunId();
  const results: FaultResult[] = [];
  // Ctrl-C: the faults broken now are repaired (their proof skipped), the test namespace removed,
  // then exit code 130. A second Ctrl-C exits at once, whatever is broken.
  const abort = new AbortController();
  let interruptedIn: string[] = [];
  let current: string[] = [];
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      opts.progress(`${sig} again: exiting now${current.length ? ` (fault ${current.join(', ')} may be left unrepaired)` : ''}`);
      process.exit(130);
    }
    interruptedIn = current;
    opts.progress(
      `${sig}: stopping${current.length ? ` after repairing fault ${current.join(', ')}` : ''}, then removing the test namespace (press Ctrl-C again to exit at once)`,
    );
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = Date.now();
  try {
    // The edge host too: some faults break the lab's outside world (its DNS).
    await Promise.all(state.hosts.map(async (h) => sessions.set(h.name, await SshSession.connect(h.ssh))));
    const initKinds = new Map(allHosts(cluster).map((h) => [h.host, h.init]));
    const cycle: Cycle = {
      target,
      runId,
      roles,
      signal: abort.signal,
      progress: opts.progress,
      renderedDir: join(labDir(opts.lab), 'rendered'),
      session: (name) => sessions.get(name),
      init: (name) => initKinds.get(name) ?? 'systemd',
      setCurrent: (ids) => {
        current = ids;
      },
    };
    // A fault is judged against a healthy lab: every check passes before the first is broken.
    await proveHealthy(cycle);
    const batches = opts.oneAtATime ? faults.map((f) => [f]) : planBatches(faults, roles, SUITES);
    if (batches.length < faults.length)
      opts.progress(
        `${faults.length} faults in ${batches.length} batches (independent faults broken together; --one-at-a-time runs each alone)`,
      );
    for (const [i, batch] of batches.entries()) {
      if (abort.signal.aborted) break;
      // The proof after a batch also runs in full what the next batch is judged on (the last
      // batch: everything), so no batch inherits damage it would mistake for its own effect.
      const next = batches[i + 1]?.flatMap((f) => suitesOf(f, roles)) ?? ALL_SUITES;
      let out = await runCycle(cycle, batch, next);
      if (batch.length > 1 && !out.results.every((r) => r.caught) && !out.repairFailed && !abort.signal.aborted)
        out = await rerunAlone(cycle, batch, next, [...new Set(out.results.flatMap((r) => r.reasons))].join('; '));
      results.push(...out.results);
      if (out.repairFailed) {
        opts.progress('a repair failed: stopping the catalogue (the lab is not healthy any more)');
        break;
      }
    }
    if (!abort.signal.aborted)
      opts.progress(
        `${results.filter((r) => r.caught).length} of ${results.length} faults caught in ${Math.round((Date.now() - t0) / 1000)} s`,
      );
  } finally {
    await removeRunNamespaces(target, runId, opts.progress).catch((e: Error) =>
      opts.progress(`could not remove the test namespace of run ${runId}: ${e.message.split('\n')[0]}`),
    );
    for (const s of sessions.values()) s.close();
    await target.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (abort.signal.aborted) {
    const caught = results.filter((r) => r.caught).length;
    const unrepaired = results.filter((r) => interruptedIn.includes(r.id) && r.reasons.some((x) => x.startsWith('repair failed')));
    const repair = interruptedIn.length
      ? unrepaired.length
        ? `fault ${unrepaired.map((r) => r.id).join(', ')} could NOT be repaired (${unrepaired[0]!.reasons.find((x) => x.startsWith('repair failed'))}), `
        : `${interruptedIn.length === 1 ? 'fault' : 'faults'} ${interruptedIn.join(', ')} ${interruptedIn.length === 1 ? 'was' : 'were'} repaired (not proven), `
      : '';
    throw new UserFacingError(
      `interrupted: ${repair}the test namespace was removed; ${caught} of ${results.length} fault${results.length === 1 ? '' : 's'} run were caught`,
      130,
    );
  }
  return results;
}

/** A batch not caught exactly: each of its faults alone; these runs are the verdict. */
async function rerunAlone(
  c: Cycle,
  batch: Fault[],
  next: string[],
  why: string,
): Promise<{ results: FaultResult[]; repairFailed: boolean }> {
  c.progress(`batch ${batch.map((f) => f.id).join(', ')}: not caught exactly (${why}); running its faults one at a time`);
  const rerunAlone = `its batch (${batch.map((x) => x.id).join(', ')}) was not caught exactly: ${why}`;
  const results: FaultResult[] = [];
  for (const [j, f] of batch.entries()) {
    if (c.signal.aborted) break;
    const o = await runCycle(c, [f], batch[j + 1] ? suitesOf(batch[j + 1]!, c.roles) : next);
    results.push(...o.results.map((r) => ({ ...r, rerunAlone })));
    if (o.repairFailed) return { results, repairFailed: true };
  }
  return { results, repairFailed: false };
}

/** What every cycle of one runFaults call shares: the lab, its sessions, the run, Ctrl-C. */
interface Cycle {
  target: Target;
  runId: string;
  roles: Roles;
  signal: AbortSignal;
  progress: (line: string) => void;
  renderedDir: string;
  session(name: string): SshSession | undefined;
  init(name: string): InitKind;
  /** The faults broken now (what Ctrl-C repairs). */
  setCurrent(ids: string[]): void;
}

/** The lab as one fault sees it; a batched fault reaches only the hosts of its footprint. */
function faultEnv(c: Cycle, fault: Fault, tmp: string): FaultEnv {
  const bounded = whyAlone(fault, c.roles) === undefined ? footprint(fault, c.roles) : undefined;
  return {
    ...c.roles,
    host: (name) => {
      const s = c.session(name);
      if (!s) throw new Error(`no lab host ${name}`);
      if (bounded && !bounded.has(name))
        throw new Error(
          `fault ${fault.id} reached ${name}, outside its footprint (${[...bounded].join(', ')}): batches rely on it; declare the host in touches(), or mark the fault alone`,
        );
      return new Remote(name, s, c.init(name));
    },
    init: (name) => initSystem(c.init(name)),
    renderedDir: c.renderedDir,
    tmp,
    progress: c.progress,
  };
}

/**
 * One cycle: break every fault of the batch, run the union of their suites once, judge the union
 * of their expectations (exactly those fail), repair them all, prove the lab healthy.
 */
async function runCycle(c: Cycle, batch: Fault[], nextSuites: string[]): Promise<{ results: FaultResult[]; repairFailed: boolean }> {
  const t0 = Date.now();
  const ids = batch.map((f) => f.id);
  const name = batch.length === 1 ? `fault ${ids[0]}` : `batch ${ids.join(', ')}`;
  c.setCurrent(ids);
  const envs = batch.map((f) => faultEnv(c, f, mkdtempSync(join(tmpdir(), `hardway-fault-${f.id}-`))));
  const selected = [...new Set(batch.flatMap((f) => suitesOf(f, c.roles)))];
  const expected = batch.flatMap((f) => f.expect(c.roles));
  const warned = batch.flatMap((f) => f.warn?.(c.roles) ?? []);
  // Batched faults set no options (batches.ts); a fault alone may.
  const options = { ...DEFAULT_OPTIONS, ...(batch.length === 1 ? batch[0]!.options?.(envs[0]!) : {}) };
  const errors = new Map<string, string[]>(ids.map((id) => [id, []]));
  const phases = phaseClock();
  let judged: { failed: string[]; reasons: string[] } = { failed: [], reasons: [] };
  let repairFailed = false;
  try {
    for (const f of batch) c.progress(`fault ${f.id}: injecting (${f.title})`);
    // async: a fault that throws before its first await (the footprint guard) is a rejection too.
    const injected = await Promise.allSettled(batch.map(async (f, i) => f.inject(envs[i]!)));
    for (const [i, r] of injected.entries()) if (r.status === 'rejected') errors.get(ids[i]!)!.push((r.reason as Error).message);
    phases.lap('inject');
    if (injected.some((r) => r.status === 'rejected')) throw new Error('an injection failed');
    const withEffect = batch.filter((f) => f.effect);
    if (withEffect.length) {
      c.progress(`${name}: waiting for it to take effect`);
      await Promise.all(batch.map((f, i) => f.effect?.(envs[i]!)));
      phases.lap('effect');
    }
    if (c.signal.aborted) throw new Error('interrupted (Ctrl-C)');
    c.progress(`${name}: running ${selected.join(', ')}`);
    const rs = await runOnce(c.target, options, c.runId, planRun(SUITES, selected), c.signal);
    phases.lap('run');
    if (c.signal.aborted) throw new Error('interrupted (Ctrl-C)');
    judged = judge(expected, warned, rs);
  } catch (e) {
    const msg = (e as Error).message;
    if (msg !== 'an injection failed') for (const id of ids) errors.get(id)!.push(msg);
  } finally {
    c.progress(`${name}: repairing`);
    phases.lap();
    const repaired = await Promise.allSettled(batch.map(async (f, i) => f.repair?.(envs[i]!)));
    for (const [i, r] of repaired.entries()) {
      if (r.status === 'rejected') {
        errors.get(ids[i]!)!.push(`repair failed: ${(r.reason as Error).message}`);
        repairFailed = true;
      }
    }
    phases.lap('repair');
    if (!repairFailed) {
      try {
        if (c.signal.aborted) c.progress(`${name}: repaired; the proof runs are skipped (interrupted)`);
        else await proveRepaired(c, [...new Set([...selected, ...nextSuites])], name);
        phases.lap('proof');
      } catch (e) {
        for (const id of ids) errors.get(id)!.push(`repair failed: ${(e as Error).message}`);
        repairFailed = true;
      }
    }
    for (const env of envs) rmSync(env.tmp, { recursive: true, force: true });
    c.setCurrent([]);
  }
  const ms = Date.now() - t0;
  const results = verdicts(batch, c.roles, judged, errors, ms, phases.done());
  const line = (r: FaultResult) => (r.caught ? 'caught' : `NOT caught: ${r.reasons.join('; ')}`);
  if (batch.length === 1) c.progress(`${name}: ${line(results[0]!)} (${Math.round(ms / 1000)} s: ${phaseLine(results[0]!.phases)})`);
  else
    c.progress(
      `${name}: ${results.every((r) => r.caught) ? 'all caught' : results.map((r) => `${r.id} ${line(r)}`).join('; ')} (${Math.round(ms / 1000)} s: ${phaseLine(results[0]!.phases)})`,
    );
  return { results, repairFailed };
}

/**
 * Each fault's verdict from its batch's: the batch's judgement (the union of expectations) plus
 * the fault's own errors. A batch is caught as a whole or not at all: when one member's injection
 * or the union failed, no member counts as caught (runFaults then reruns them alone).
 */
export function verdicts(
  batch: Fault[],
  roles: Roles,
  judged: { failed: string[]; reasons: string[] },
  errors: Map<string, string[]>,
  durationMs: number,
  phases: FaultResult['phases'],
): FaultResult[] {
  const clean = judged.reasons.length === 0 && [...errors.values()].every((e) => e.length === 0);
  return batch.map((fault): FaultResult => {
    const mine = new Set(fault.expect(roles).map(keyOf));
    const reasons = [...(errors.get(fault.id) ?? []), ...judged.reasons];
    return {
      id: fault.id,
      title: fault.title,
      expected: [...fault.expect(roles).map(keyOf), ...(fault.warn?.(roles) ?? []).map((w) => `${keyOf(w)} (warning)`)],
      failed: batch.length === 1 ? judged.failed : judged.failed.filter((k) => mine.has(k)),
      caught: clean,
      reasons: clean ? [] : reasons.length ? reasons : [`not judged: ${othersFailed(errors, fault.id)}`],
      durationMs,
      ...(batch.length > 1 ? { batch: batch.map((f) => f.id).filter((id) => id !== fault.id) } : {}),
      ...(phases ? { phases } : {}),
    };
  });
}

/** What went wrong with the other members of a batch (their own errors). */
function othersFailed(errors: Map<string, string[]>, id: string): string {
  const bad = [...errors].filter(([other, e]) => other !== id && e.length);
  return bad.length ? bad.map(([other, e]) => `${other}: ${e[0]}`).join('; ') : 'another fault of its batch was not caught';
}

/** The whole lab passes every check: the baseline a fault is judged against. */
async function proveHealthy(c: Cycle): Promise<void> {
  const rs = await runOnce(c.target, DEFAULT_OPTIONS, c.runId, planRun(SUITES), c.signal);
  // Ctrl-C: not a verdict on the lab (runFaults reports the interruption).
  if (c.signal.aborted) return;
  const bad = rs.filter((r) => r.status === 'failed' || r.skip === 'blocked' || r.skip === 'inconclusive');
  if (bad.length)
    throw new UserFacingError(
      `the lab is not healthy before any fault: ${bad.map((r) => `${resultKey(r)}${r.skip ? ` (${r.skip})` : ''}`).join(', ')}; run hardway verify --target lab and fix it (or hardway lab down && hardway lab up)`,
    );
  c.progress(`the lab is healthy before the first fault (${rs.length} checks)`);
}

/** Runs `full` suites in full and every other suite's health checks until nothing fails (the
 * repair's exact proof). */
async function proveRepaired(c: Cycle, full: string[], name: string, timeoutMs = 240_000): Promise<void> {
  const t0 = Date.now();
  let failed: string[] = [];
  let last = '';
  for (let round = 1; Date.now() - t0 < timeoutMs; round++) {
    // Interrupted: the repair ran; its proof is skipped.
    if (c.signal.aborted) return c.progress(`${name}: the repair proof is skipped (interrupted)`);
    const rs = await runOnce(c.target, DEFAULT_OPTIONS, c.runId, proofPlan(SUITES, full), c.signal);
    if (c.signal.aborted) return c.progress(`${name}: the repair proof is skipped (interrupted)`);
    failed = rs
      .filter((r) => r.status === 'failed' || r.skip === 'blocked' || r.skip === 'inconclusive')
      .map((r) => `${resultKey(r)}${r.skip ? ` (${r.skip})` : ''}`);
    if (!failed.length) {
      c.progress(`${name}: repaired (proof run ${round}, ${Math.round((Date.now() - t0) / 1000)} s)`);
      return;
    }
    const now = failed.join(', ');
    if (now !== last) c.progress(`${name}: not yet recovered: ${now}`);
    last = now;
    // Pods whose containers died with the control plane wait out the kubelet's crash back-off
    // (up to 5 min); an operator deletes them to start them now, and so does the runner.
    if (round === 1) await restartBackedOffPods(c.target).catch(() => undefined);
    await sleep(3000);
  }
  throw new Error(`the lab did not recover within ${timeoutMs / 1000} s: still failing ${failed.join(', ')}`);
}

/** Deletes pods (of a controller) whose containers sit in CrashLoopBackOff, so they start now. */
async function restartBackedOffPods(target: Target): Promise<void> {
  const ctx = makeContext(target, DEFAULT_OPTIONS);
  try {
    const k = await kube(ctx);
    const pods = (await k.core.listPodForAllNamespaces({})).items.filter(
      (p) =>
        p.metadata?.ownerReferences?.length &&
        (p.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff'),
    );
    await Promise.all(pods.map((p) => k.core.deleteNamespacedPod({ namespace: p.metadata!.namespace!, name: p.metadata!.name! })));
  } finally {
    await ctx.cleanup();
  }
}

/** Runs a tree fault on a copy of a rendering: breaks it, runs the suites of its expectations. */
export async function runTreeFault(
  fault: Fault,
  renderedDir: string,
  cluster: Cluster,
): Promise<{ failed: string[]; reasons: string[]; results: CheckResult[] }> {
  const dir = mkdtempSync(join(tmpdir(), `hardway-tree-fault-${fault.id}-`));
  try {
    cpSync(renderedDir, dir, { recursive: true });
    const roles = rolesOf(cluster);
    const env: FaultEnv = {
      ...roles,
      host: () => {
        throw new Error('a tree fault has no hosts to reach');
      },
      init: (name) => initSystem(allHosts(cluster).find((h) => h.host === name)?.init ?? 'systemd'),
      renderedDir: dir,
      tmp: dir,
      progress: () => undefined,
    };
    await fault.inject(env);
    // The untouched rendering is what hardway "installed": the drift suite compares with it.
    const target = dirTarget(`dir:${dir}`, dir, cluster, true, renderedDir);
    const ctx = await runContext(target, DEFAULT_OPTIONS);
    const results = (await runPlan(ctx, planRun(SUITES, suitesOf(fault, roles)))).flatMap((s) => s.checks);
    return { ...judge(fault.expect(roles), fault.warn?.(roles) ?? [], results), results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The catalogue as a Markdown table (for the console and the README). */
export function faultTable(results: FaultResult[]): string {
  const rows = results.map(
    (r) => `| ${r.id} | ${r.expected.join(', ') || '—'} | ${r.failed.join(', ') || '—'} | ${r.caught ? 'yes' : 'NO'} |`,
  );
  return ['| fault | expected failing checks | failing checks seen | caught |', '|---|---|---|---|', ...rows].join('\n');
}
