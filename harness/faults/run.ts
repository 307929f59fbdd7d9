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
import { type PlannedSuite, gateOf, makeContext, planRun, runPlan, settlePrepares, startPrepares } from '../verify/engine.ts';
import { SUITES } from '../verify/registry.ts';
import { RUN_LABEL, removeWorkspaces } from '../verify/workspace.ts';
import { kube, poll } from '../verify/kube.ts';
import { type Cluster, allHosts, layoutOf } from '../model/cluster.ts';
import { catalogue } from './catalogue.ts';
import { type Expected, type Fault, type FaultEnv, type FaultResult, type Roles, appliesTo, keyOf, rolesOf } from './fault.ts';

export interface FaultRunOptions {
  lab: string;
  only?: string[];
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
    reasons.push(`failed but not expected: ${extra.map((k) => `${k} [${codesOf(results, k, 'error').join(',')}]`).join(', ')}`);
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

function codesOf(results: CheckResult[], key: string, severity: 'error' | 'warning'): string[] {
  const r = results.find((x) => resultKey(x) === key);
  return [...new Set((r?.findings ?? []).filter((f) => f.severity === severity).map((f) => f.code))];
}

export const suiteOf = (check: string) => check.split('.')[0]!;

/** The suites a fault's expectations live in. */
export function suitesOf(fault: Fault, r: Roles): string[] {
  return [...new Set([...fault.expect(r), ...(fault.warn?.(r) ?? [])].map((e) => suiteOf(e.check)))];
}

/** The proof after a repair: the fault's suites in full, every other suite's gate. */
function proofPlan(suites: Suite[], selected: string[]): PlannedSuite[] {
  return suites.map((suite) =>
    selected.includes(suite.name) ? { suite, checks: suite.checks, gateOnly: false } : { suite, checks: gateOf(suite), gateOnly: true },
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  // Ctrl-C: the current fault is repaired (its proof skipped), the test namespace removed, then
  // exit code 130. A second Ctrl-C exits at once, whatever is broken.
  const abort = new AbortController();
  let interruptedIn: string | undefined;
  let current: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      opts.progress(`${sig} again: exiting now${current ? ` (fault ${current} may be left unrepaired)` : ''}`);
      process.exit(130);
    }
    interruptedIn = current;
    opts.progress(
      `${sig}: stopping${current ? ` after repairing fault ${current}` : ''}, then removing the test namespace (press Ctrl-C again to exit at once)`,
    );
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // The edge host too: some faults break the lab's outside world (its DNS).
    await Promise.all(state.hosts.map(async (h) => sessions.set(h.name, await SshSession.connect(h.ssh))));
    const initKinds = new Map(allHosts(cluster).map((h) => [h.host, h.init]));
    for (const fault of faults) {
      if (abort.signal.aborted) break;
      current = fault.id;
      const t0 = Date.now();
      const tmp = mkdtempSync(join(tmpdir(), `hardway-fault-${fault.id}-`));
      const env: FaultEnv = {
        ...roles,
        host: (name) => {
          const s = sessions.get(name);
          if (!s) throw new Error(`no lab host ${name}`);
          return new Remote(name, s, initKinds.get(name) ?? 'systemd');
        },
        init: (name) => initSystem(initKinds.get(name) ?? 'systemd'),
        renderedDir: join(labDir(opts.lab), 'rendered'),
        tmp,
        progress: opts.progress,
      };
      const selected = suitesOf(fault, roles);
      const options = { ...DEFAULT_OPTIONS, ...fault.options?.(env) };
      let judged: { failed: string[]; reasons: string[] } = { failed: [], reasons: [] };
      const errors: string[] = [];
      try {
        opts.progress(`fault ${fault.id}: injecting (${fault.title})`);
        await fault.inject(env);
        if (fault.effect) {
          opts.progress(`fault ${fault.id}: waiting for it to take effect`);
          await fault.effect(env);
        }
        if (abort.signal.aborted) throw new Error('interrupted (Ctrl-C)');
        opts.progress(`fault ${fault.id}: running ${selected.join(', ')}`);
        const rs = await runOnce(target, options, runId, planRun(SUITES, selected), abort.signal);
        if (abort.signal.aborted) throw new Error('interrupted (Ctrl-C)');
        judged = judge(fault.expect(roles), fault.warn?.(roles) ?? [], rs);
      } catch (e) {
        errors.push((e as Error).message);
      } finally {
        opts.progress(`fault ${fault.id}: repairing`);
        try {
          await fault.repair?.(env);
          if (abort.signal.aborted) opts.progress(`fault ${fault.id}: repaired; the proof runs are skipped (interrupted)`);
          else await proveRepaired(target, runId, selected, opts.progress, fault.id, abort.signal);
        } catch (e) {
          errors.push(`repair failed: ${(e as Error).message}`);
        }
        rmSync(tmp, { recursive: true, force: true });
      }
      current = undefined;
      const reasons = [...errors, ...judged.reasons];
      const expected = [...fault.expect(roles).map(keyOf), ...(fault.warn?.(roles) ?? []).map((w) => `${keyOf(w)} (warning)`)];
      const r: FaultResult = {
        id: fault.id,
        title: fault.title,
        expected,
        failed: judged.failed,
        caught: reasons.length === 0,
        reasons,
        durationMs: Date.now() - t0,
      };
      opts.progress(
        `fault ${fault.id}: ${r.caught ? 'caught' : `NOT caught: ${reasons.join('; ')}`} (${Math.round(r.durationMs / 1000)} s)`,
      );
      results.push(r);
      if (errors.some((e) => e.startsWith('repair failed'))) {
        opts.progress('a repair failed: stopping the catalogue (the lab is not healthy any more)');
        break;
      }
    }
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
    const last = results.at(-1);
    const repair = interruptedIn
      ? last?.id === interruptedIn && last.reasons.some((x) => x.startsWith('repair failed'))
        ? `fault ${interruptedIn} could NOT be repaired (${last.reasons.find((x) => x.startsWith('repair failed'))}), `
        : `fault ${interruptedIn} was repaired (not proven), `
      : '';
    throw new UserFacingError(
      `interrupted: ${repair}the test namespace was removed; ${caught} of ${results.length} fault${results.length === 1 ? '' : 's'} run were caught`,
      130,
    );
  }
  return results;
}

/** Runs the fault's suites and every gate until nothing fails (the repair's exact proof). */
async function proveRepaired(
  target: Target,
  runId: string,
  selected: string[],
  progress: (l: string) => void,
  id: string,
  signal?: AbortSignal,
  timeoutMs = 240_000,
): Promise<void> {
  const t0 = Date.now();
  let failed: string[] = [];
  let last = '';
  for (let round = 1; Date.now() - t0 < timeoutMs; round++) {
    // Interrupted: the repair ran; its proof is skipped.
    if (signal?.aborted) return progress(`fault ${id}: the repair proof is skipped (interrupted)`);
    const rs = await runOnce(target, DEFAULT_OPTIONS, runId, proofPlan(SUITES, selected), signal);
    if (signal?.aborted) return progress(`fault ${id}: the repair proof is skipped (interrupted)`);
    failed = rs
      .filter((r) => r.status === 'failed' || r.skip === 'blocked' || r.skip === 'inconclusive')
      .map((r) => `${resultKey(r)}${r.skip ? ` (${r.skip})` : ''}`);
    if (!failed.length) {
      progress(`fault ${id}: repaired (proof run ${round}, ${Math.round((Date.now() - t0) / 1000)} s)`);
      return;
    }
    const now = failed.join(', ');
    if (now !== last) progress(`fault ${id}: not yet recovered: ${now}`);
    last = now;
    // Pods whose containers died with the control plane wait out the kubelet's crash back-off
    // (up to 5 min); an operator deletes them to start them now, and so does the runner.
    if (round === 1) await restartBackedOffPods(target).catch(() => undefined);
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
