// A run's context: the target opened once, and what the cluster really runs, discovered once and
// shared by every suite. Without a model (an inventory with no `cluster:`) the discovered model
// is the model; with one, the drift suite compares them.
import { discover } from '../discovery/discover.ts';
import type { ClusterFacts } from '../discovery/facts.ts';
import { readFlannelStore } from '../discovery/flannel-store.ts';
import { discoverEdge } from '../discovery/edge.ts';
import { type DerivedModel, modelFromFacts } from '../discovery/model.ts';
import { allHosts } from '../model/cluster.ts';
import type { Target } from '../targets/target.ts';
import type { CheckContext, VerifyOptions } from './check.ts';
import { makeContext } from './engine.ts';

export interface Discovered {
  facts: ClusterFacts;
  derived: DerivedModel;
}

/** Reads every host of the target (and, live, the edge's API objects unless `edge` is false) and
 * derives the model the facts describe. */
export async function discoverTarget(
  target: Target,
  hosts = [...new Set(allHosts(target.cluster).map((h) => h.host))],
  { edge: withEdge = true } = {},
): Promise<Discovered> {
  const facts = await discover({ hosts, host: (n) => target.host(n) });
  const store = target.live ? await readFlannelStore(facts, (n) => target.host(n)).catch(() => undefined) : undefined;
  const addresses = new Map(allHosts(target.cluster).map((h) => [h.host, h.address]));
  const opts = {
    ...(target.modelGiven ? {} : { name: target.cluster.name }),
    addresses,
    ...(target.probeName ? { probeName: target.probeName } : {}),
    ...(store?.config ? { flannelConfig: store.config, flannelConfigSource: store.source } : {}),
  };
  let derived = modelFromFacts(facts, opts);
  if (withEdge && target.live && derived.cluster.masters.length) {
    // The API is reached through the discovered masters (their admin kubeconfig).
    const probe = makeContext({ ...target, cluster: derived.cluster }, { expiryWarningDays: 30, active: false }, { facts });
    try {
      const edge = await discoverEdge(probe);
      if (edge) derived = modelFromFacts(facts, { ...opts, edge });
    } catch (e) {
      derived = { ...derived, edgeUnknown: (e as Error).message };
    } finally {
      await probe.cleanup();
    }
  }
  return { facts, derived };
}

/** For a target without a model: discovery's model becomes the target's. */
export async function adoptDiscoveredModel(target: Target): Promise<Discovered> {
  const d = await discoverTarget(target);
  if (!target.modelGiven) target.cluster = d.derived.cluster;
  return d;
}

/** A run's context; `discovered` when the caller has just read the hosts (a model-less target). */
export async function runContext(
  target: Target,
  options: VerifyOptions,
  extra: Partial<CheckContext> & { discovered?: Discovered } = {},
): Promise<CheckContext> {
  const { discovered, ...rest } = extra;
  // With a model, its edge is the run's (drift compares no edge field): the API is not asked for
  // one, which on a cluster whose API hangs (etcd down) would hold up the run's start.
  const { facts, derived } = discovered ?? (await discoverTarget(target, undefined, { edge: !target.modelGiven }));
  return makeContext(target, options, { ...rest, facts, derived });
}
