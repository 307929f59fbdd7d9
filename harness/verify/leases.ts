// Leader-election and node leases: a read-only signal that a controller, the scheduler or a
// kubelet is alive right now (a stopped one leaves objects behind but stops renewing its lease).
import type { Check, CheckContext } from './check.ts';
import { apiError, apiStatus, kube } from './kube.ts';

export interface LeaseAge {
  holder?: string;
  /** Seconds since the last renewal, or undefined when the lease does not exist. */
  ageS?: number;
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
      ...(renew !== undefined ? { ageS: Math.round((Date.now() - renew) / 1000) } : {}),
      ...(l.spec?.leaseDurationSeconds ? { durationS: l.spec.leaseDurationSeconds } : {}),
    };
  } catch (e) {
    return apiStatus(e) === 404 ? {} : { error: apiError(e) };
  }
}

/**
 * What is wrong with a leader lease, or undefined when its holder renewed it recently enough:
 * holders renew every 2 s and give up after the lease duration (15 s by default); a few seconds
 * more than the duration without renewal means nobody is leading.
 */
export function staleLeaderLease(l: LeaseAge, what: string, ref: string): string | undefined {
  if (l.error) return `cannot read lease ${ref}: ${l.error}`;
  if (l.ageS === undefined) return `no leader lease ${ref}: ${what} never ran with leader election`;
  if (!l.holder) return `nobody holds ${ref}: ${what} released it when it stopped`;
  if (l.ageS > (l.durationS ?? 15) + 5) return `${what} last renewed ${ref} ${l.ageS} s ago (holder ${l.holder}): it is not running`;
  return undefined;
}

/** The "<component>.leader" check of a leader-elected master component (read-only). */
export function leaderLeaseCheck(id: string, component: string, fix: (host: string) => string, aside = ''): Check {
  return {
    id,
    title: `${component} holds and renews its leader lease`,
    hosts: (c) => [c.masters[0]!.host],
    live: true,
    async run(ctx, host) {
      const l = await leaseAge(ctx, 'kube-system', component);
      const stale = staleLeaderLease(l, component, `kube-system/${component}`);
      return stale ? { problems: [`${host}: ${stale}${aside}; ${fix(host!)}`] } : { problems: [], notes: [`lease renewed ${l.ageS} s ago by ${l.holder}`] };
    },
  };
}
