// Which lab faults may be broken at the same time. A batch is injected together, verified by one
// run of the union of its faults' suites, judged on the union of their expectations (exactly those
// checks fail, none other), repaired in parallel and proven by one proof run: the catalogue pays
// one verification and one proof per batch instead of per fault.
//
// Two faults share a batch only when neither can change what the other is judged on:
// - both are local: every expectation names a host, the fault waits on no cluster signal (effect),
//   sets no verify options, and is not marked `alone`;
// - their footprints are disjoint: the hosts of a fault's expectations plus the hosts it changes
//   (`touches`). The runner refuses a batched fault reaching a host over SSH outside its
//   footprint; what a fault changes through the API (kubectl on the master) reaches the nodes its
//   objects run on, which `touches` must name. Or they share hosts, but one of them only changes a file
//   or a setting (`sharesHost`: nothing restarts) and the two are judged in different suites;
// - no fault's expected gate failure blocks a suite another member is judged in (a blocked check
//   is not a failed one: the batch would miss it).
// A batch that is not caught exactly is rerun one fault at a time, and those runs are the verdict.
import type { Suite } from '../verify/check.ts';
import { gateOf } from '../verify/engine.ts';
import type { Fault, Roles } from './fault.ts';

/** Why a fault must run alone, or undefined when it may share a batch. */
export function whyAlone(f: Fault, r: Roles): string | undefined {
  if (f.alone) return f.alone;
  if (f.effect) return 'it waits for a cluster signal to take effect';
  if (f.options) return 'it runs with its own verify options';
  const all = [...f.expect(r), ...(f.warn?.(r) ?? [])];
  if (!all.length) return 'it expects nothing';
  const clusterWide = all.filter((e) => !e.host).map((e) => e.check);
  if (clusterWide.length) return `it expects cluster checks to fail (${clusterWide.join(', ')})`;
  return undefined;
}

/** The hosts a fault may change or is judged on. */
export function footprint(f: Fault, r: Roles): Set<string> {
  return new Set([...f.expect(r), ...(f.warn?.(r) ?? [])].map((e) => e.host!).concat(f.touches?.(r) ?? []));
}

/** The suites that wait, directly or not, for `name`'s gate. */
function dependants(suites: Suite[], name: string): Set<string> {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of suites)
      if (!out.has(s.name) && s.dependsOn.some((d) => d === name || out.has(d))) {
        out.add(s.name);
        grew = true;
      }
  }
  return out;
}

/** The suites a fault's expected gate failures block. */
function blocks(f: Fault, r: Roles, suites: Suite[]): Set<string> {
  const out = new Set<string>();
  for (const e of f.expect(r)) {
    const suite = suites.find((s) => s.checks.some((c) => c.id === e.check));
    // A suite without a gate: all its checks are its gate (gateOf).
    if (suite && gateOf(suite).some((c) => c.id === e.check)) for (const d of dependants(suites, suite.name)) out.add(d);
  }
  return out;
}

const suitesJudged = (f: Fault, r: Roles) => new Set([...f.expect(r), ...(f.warn?.(r) ?? [])].map((e) => e.check.split('.')[0]!));

const disjoint = <T>(a: Set<T>, b: Set<T>) => ![...a].some((x) => b.has(x));

/**
 * Groups faults into batches, first fit in catalogue order: each local fault joins the first
 * batch it is independent of; every other fault is a batch of its own. Batches keep the order of
 * their first fault.
 */
export function planBatches(faults: Fault[], r: Roles, suites: Suite[], maxSize = Number.POSITIVE_INFINITY): Fault[][] {
  const batches: { faults: Fault[]; local: boolean }[] = [];
  for (const f of faults) {
    if (whyAlone(f, r) !== undefined) {
      batches.push({ faults: [f], local: false });
      continue;
    }
    const fits = (b: { faults: Fault[]; local: boolean }) =>
      b.local &&
      b.faults.length < maxSize &&
      b.faults.every(
        (g) =>
          (disjoint(footprint(f, r), footprint(g, r)) ||
            ((f.sharesHost || g.sharesHost) && disjoint(suitesJudged(f, r), suitesJudged(g, r)))) &&
          disjoint(blocks(f, r, suites), suitesJudged(g, r)) &&
          disjoint(blocks(g, r, suites), suitesJudged(f, r)),
      );
    const home = batches.find(fits);
    if (home) home.faults.push(f);
    else batches.push({ faults: [f], local: true });
  }
  return batches.map((b) => b.faults);
}
