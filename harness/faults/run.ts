// Runs the fault catalogue against the lab: for each fault, inject it, run every suite, compare the
// failing checks with the expected ones (and that each diagnosis names the cause), repair the lab.
// Refused on any target hardway did not create.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFacingError } from '../cli/errors.ts';
import { Remote } from '../installer/remote.ts';
import { loadCluster } from '../model/load.ts';
import { labDir, readLabState } from '../providers/lab/lab.ts';
import { type ReportDocument, failedChecks } from '../report/document.ts';
import { SshSession } from '../ssh/session.ts';
import { DEFAULT_OPTIONS } from '../verify/check.ts';
import { verify } from '../verify/verify.ts';
import { OWNER_LABEL } from '../verify/workspace.ts';
import { catalogue } from './catalogue.ts';
import type { Fault, FaultEnv, FaultResult } from './fault.ts';

export interface FaultRunOptions {
  lab: string;
  only?: string[];
  progress: (line: string) => void;
}

function key(c: { id: string; host?: string }): string {
  return c.host ? `${c.id}@${c.host}` : c.id;
}

/** Compares a report with what the fault expects; returns the reasons it was not caught. */
export function judge(fault: Fault, doc: ReportDocument): { failed: string[]; reasons: string[] } {
  const failed = failedChecks(doc).sort();
  const expected = [...fault.expected].sort();
  const reasons: string[] = [];
  const missing = expected.filter((e) => !failed.includes(e));
  const extra = failed.filter((f) => !expected.includes(f));
  if (missing.length) reasons.push(`expected to fail but did not: ${missing.join(', ')}`);
  if (extra.length) reasons.push(`failed but not expected: ${extra.join(', ')}`);
  const all = doc.suites.flatMap((s) => s.checks);
  for (const w of fault.expectedWarnings ?? []) {
    const c = all.find((x) => key(x) === w);
    if (!c?.warnings?.length) reasons.push(`expected a warning from ${w}, got none`);
  }
  for (const [check, words] of Object.entries(fault.mentions)) {
    const c = all.find((x) => key(x) === check);
    const text = [c?.diagnosis ?? '', ...(c?.warnings ?? [])].join('\n');
    const absent = words.filter((w) => !text.includes(w));
    if (absent.length) reasons.push(`${check}: the diagnosis does not name ${absent.map((a) => `"${a}"`).join(', ')} (it says: ${text.split('\n')[0]?.slice(0, 200) || 'nothing'})`);
  }
  return { failed, reasons };
}

/**
 * Waits until the cluster has recovered from a repair, not only its broken part: after an etcd or
 * apiserver outage the controller manager and scheduler re-elect their leaders, kubelets renew
 * their node leases only seconds later, and pods with leader election (the gateway's control
 * plane, cert-manager) exit and come back through the kubelet's crash back-off. The next fault
 * must start from a healthy cluster, so the whole test runs twice, 15 s apart: a pod whose crash
 * the kubelet reports late shows up in the second round.
 */
async function settled(env: FaultEnv): Promise<void> {
  const leases = `now=$(date +%s); for t in $(kubectl -n kube-system get lease kube-controller-manager kube-scheduler -o jsonpath='{range .items[*]}{.spec.renewTime}{" "}{end}') $(kubectl -n kube-node-lease get lease -o jsonpath='{range .items[*]}{.spec.renewTime}{" "}{end}'); do [ $((now - $(date -d "$t" +%s))) -lt 12 ] || exit 1; done`;
  const nodes = `kubectl get nodes --no-headers | awk '$2 != "Ready" {bad=1} END {exit bad}'`;
  // Every pod that is not a finished job is Ready (prints the first one that is not).
  const pods = `kubectl get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}' | awk '$2 != "Succeeded" && $3 != "True" {print "not Ready: " $1; bad=1} END {exit bad}'`;
  const master = env.host(env.cluster.masters[0]!.host);
  // A verify run during an apiserver or etcd outage could not delete its test namespace: do it now.
  await master.run(`kubectl delete namespace -l ${OWNER_LABEL}=hardway --wait=false --ignore-not-found`).catch(() => undefined);
  for (const round of [1, 2]) {
    if (round === 2) await new Promise((r) => setTimeout(r, 15_000));
    await master.waitFor('kube-controller-manager', 'fresh leader and node leases, every node and pod Ready', `${leases} && ${nodes} && ${pods}`, 240_000);
  }
}

export async function runFaults(opts: FaultRunOptions): Promise<FaultResult[]> {
  const state = readLabState(opts.lab);
  if (!state) throw new UserFacingError(`no running lab named "${opts.lab}"; faults are injected only into hardway's own lab: hardway lab up`);
  const cluster = loadCluster(state.config);
  const faults = catalogue().filter((f) => !opts.only?.length || opts.only.includes(f.id));
  if (opts.only?.length && faults.length !== opts.only.length) {
    const known = catalogue().map((f) => f.id);
    throw new UserFacingError(`unknown fault ${opts.only.filter((o) => !known.includes(o)).join(', ')}; known: ${known.join(', ')}`);
  }
  const sessions = new Map<string, SshSession>();
  // The edge host too: some faults break the lab's outside world (its DNS).
  for (const h of state.hosts) sessions.set(h.name, await SshSession.connect(h.ssh));
  const results: FaultResult[] = [];
  try {
    for (const fault of faults) {
      const t0 = Date.now();
      const tmp = mkdtempSync(join(tmpdir(), `hardway-fault-${fault.id}-`));
      const env: FaultEnv = {
        cluster,
        host: (name) => {
          const s = sessions.get(name);
          if (!s) throw new Error(`no lab host ${name}`);
          return new Remote(name, s);
        },
        renderedDir: join(labDir(opts.lab), 'rendered'),
        tmp,
        progress: opts.progress,
      };
      let doc: ReportDocument | undefined;
      let error: string | undefined;
      try {
        opts.progress(`fault ${fault.id}: injecting (${fault.title})`);
        await fault.inject(env);
        if (fault.settleSeconds) {
          opts.progress(`fault ${fault.id}: letting it take effect (${fault.settleSeconds} s)`);
          await new Promise((r) => setTimeout(r, fault.settleSeconds! * 1000));
        }
        opts.progress(`fault ${fault.id}: running every suite`);
        doc = (await verify({ target: opts.lab === 'lab' ? 'lab' : `lab:${opts.lab}`, options: { ...DEFAULT_OPTIONS, ...fault.options?.(env) }, reporter: 'quiet' })).doc;
      } catch (e) {
        error = (e as Error).message;
      } finally {
        opts.progress(`fault ${fault.id}: repairing`);
        try {
          await fault.repair(env);
          await settled(env);
        } catch (e) {
          error = `${error ? `${error}; ` : ''}repair failed: ${(e as Error).message}`;
        }
        rmSync(tmp, { recursive: true, force: true });
      }
      const j = doc ? judge(fault, doc) : { failed: [], reasons: [] };
      const reasons = [...(error ? [error] : []), ...j.reasons];
      const r: FaultResult = { id: fault.id, title: fault.title, expected: [...fault.expected, ...(fault.expectedWarnings ?? []).map((w) => `${w} (warning)`)], failed: j.failed, caught: reasons.length === 0, reasons, durationMs: Date.now() - t0 };
      opts.progress(`fault ${fault.id}: ${r.caught ? 'caught' : `NOT caught: ${reasons.join('; ')}`} (${Math.round(r.durationMs / 1000)} s)`);
      results.push(r);
      if (error && /repair failed/.test(error)) {
        opts.progress('a repair failed: stopping the catalogue (the lab is not healthy any more)');
        break;
      }
    }
  } finally {
    for (const s of sessions.values()) s.close();
  }
  return results;
}

/** The catalogue as a Markdown table (for the console and the README). */
export function faultTable(results: FaultResult[]): string {
  const rows = results.map((r) => `| ${r.id} | ${r.expected.join(', ') || '—'} | ${r.failed.join(', ') || '—'} | ${r.caught ? 'yes' : 'NO'} |`);
  return ['| fault | expected failing checks | failing checks seen | caught |', '|---|---|---|---|', ...rows].join('\n');
}
