// Leader-election and node leases: a read-only signal that a controller, the scheduler or a
// kubelet is alive right now (a stopped one leaves objects behind but stops renewing its lease).
import { type Component, type ComponentFacts, componentsOf } from '../discovery/facts.ts';
import { statusHint } from '../discovery/fix-text.ts';
import { type CheckContext, type ClusterCheck, clusterCheck, notApplicable, outcome, passed } from './check.ts';
import { apiError, apiStatus, kube } from './kube.ts';

export interface LeaseAge {
  holder?: string;
  /** Seconds since the last renewal, or undefined when the lease does not exist. */
  ageS?: number;
  /** The renewal time as written (by the holder's clock). */
  renewTime?: string;
  durationS?: number;
  error?: string;
}

export async function leaseAge(ctx: CheckContext, namespace: string, name: string): Promise<LeaseAge> {
  const k = await kube(ctx);
  try {
    const l = await k.coordination.readNamespacedLease({ namespace, name });
    const renew = l.spec?.renewTime ? new Date(l.spec.renewTime as unknown as string).getTime() : undefined;
    return {
      ...(l.spec?.holderIdentity ? { holder: l.spec.holderIdentity } : {}),
      ...(renew !== undefined ? { ageS: Math.round((Date.now() - renew) / 1000), renewTime: String(l.spec!.renewTime) } : {}),
      ...(l.spec?.leaseDurationSeconds ? { durationS: l.spec.leaseDurationSeconds } : {}),
    };
  } catch (e) {
    return apiStatus(e) === 404 ? {} : { error: apiError(e) };
  }
}

/** Not renewed for longer than its duration and 5 s: its holder is gone. */
const expired = (l: LeaseAge): boolean => l.ageS !== undefined && l.ageS > (l.durationS ?? 15) + 5;

/**
 * What is wrong with a leader lease, or undefined when its holder renewed it recently enough:
 * holders renew every 2 s and give up after the lease duration (15 s by default); a few seconds
 * more than the duration without renewal means nobody is leading.
 */
export function staleLeaderLease(l: LeaseAge, what: string, ref: string): string | undefined {
  if (l.error) return `cannot read lease ${ref}: ${l.error}`;
  if (l.ageS === undefined) return `no leader lease ${ref}: ${what} never ran with leader election`;
  if (!l.holder) return `nobody holds ${ref}: ${what} released it when it stopped`;
  if (expired(l)) return `${what} last renewed ${ref} ${l.ageS} s ago (holder ${l.holder}): it is not running`;
  return undefined;
}

/**
 * A watcher for "nobody leads": reads the component's leader lease (as configured) at most every
 * 3 s. Its holder is gone when two readings show the same renewal, older than the lease duration
 * and 5 s (holders renew every 2 s; an unchanged renewTime does not depend on this machine's clock
 * agreeing with the master's), or when the lease stays released (no holder) for 6 s (a component
 * restarted cleanly takes it back within its retry period). For waits that would otherwise run
 * into their timeout when the controller that acts is not running.
 */
export function leaderGoneWatch(
  ctx: CheckContext,
  component: Component,
  leaseOf: (c: ComponentFacts) => ConfiguredLease,
): () => Promise<string | undefined> {
  const electing = componentsOf(ctx.facts, component).filter((c) => leaseOf(c).elect);
  let lastLook = 0;
  let staleRenewal: string | undefined;
  let releasedSince: number | undefined;
  return async () => {
    if (!electing.length || Date.now() - lastLook < 3000) return undefined;
    lastLook = Date.now();
    const lease = leaseOf(electing[0]!);
    const ref = `${lease.namespace}/${lease.name}`;
    const l = await leaseAge(ctx, lease.namespace, lease.name);
    // A holder that stops cleanly releases the lease (no holder); one that dies stops renewing.
    const released = l.ageS !== undefined && !l.holder;
    releasedSince = released ? (releasedSince ?? Date.now()) : undefined;
    if (releasedSince !== undefined && Date.now() - releasedSince >= 6000)
      return `nobody holds ${component}'s leader lease ${ref} (released when it stopped): nobody leads`;
    const stale = l.holder && expired(l) ? l.renewTime : undefined;
    const again = stale !== undefined && stale === staleRenewal;
    staleRenewal = stale;
    if (again) return `${component} last renewed its leader lease ${ref} ${l.ageS} s ago (holder ${l.holder}): nobody leads`;
    return undefined;
  };
}

/** A component's leader election as it is configured: on or off, the lease, where that was read. */
export interface ConfiguredLease {
  elect: boolean;
  namespace: string;
  name: string;
  source: string;
}

/** The "<component>.leader" check of a leader-elected master component (read-only), with the lease
 * named as the component is configured (`leaseOf` reads it from the facts). */
export function leaderLeaseCheck(
  id: string,
  component: Component,
  leaseOf: (c: ComponentFacts) => ConfiguredLease,
  aside = '',
): ClusterCheck {
  return clusterCheck({
    id,
    title: `${component} holds and renews its leader lease`,
    needs: ['live'],
    codes: { 'leader-lease-stale': `${component} does not renew its leader lease` },
    async run(ctx) {
      const cs = componentsOf(ctx.facts, component);
      if (!cs.length) return notApplicable(`no host runs ${component}`);
      const electing = cs.filter((c) => leaseOf(c).elect);
      if (!electing.length) {
        return notApplicable(`${component} runs without leader election (${leaseOf(cs[0]!).source}): it holds no lease`);
      }
      const lease = leaseOf(electing[0]!);
      const ref = `${lease.namespace}/${lease.name}`;
      const others = electing
        .map(leaseOf)
        .filter((x) => `${x.namespace}/${x.name}` !== ref)
        .map((x) => `another instance elects with lease ${x.namespace}/${x.name} (${x.source})`);
      const l = await leaseAge(ctx, lease.namespace, lease.name);
      const stale = staleLeaderLease(l, component, ref);
      const notes = [`lease ${ref} (${lease.source})`, ...others];
      if (!stale) return passed(1, [`lease ${ref} (${lease.source}) renewed ${l.ageS} s ago by ${l.holder}`, ...others]);
      const fix = electing.map((c) => statusHint(ctx.host(c.host).init, c.unit, c.host)).join('; ');
      return outcome([{ code: 'leader-lease-stale', subject: `lease ${ref}`, message: `${stale}${aside}`, fix }], 1, { notes });
    },
  });
}
