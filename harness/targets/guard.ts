// Fault injection breaks a cluster on purpose: only ever on one hardway created (the lab). The
// fault catalogue calls this before touching a target; anything else is refused in one line.
import { type Target, TargetError } from './target.ts';

export function assertFaultInjectionAllowed(target: Pick<Target, 'name' | 'live' | 'ownedByHardway'>): void {
  if (target.ownedByHardway && target.live) return;
  const why = target.live ? 'hardway did not create it' : 'it is an offline tree, not running hosts';
  throw new TargetError(
    `${target.name}: fault injection refused: ${why}; fix: inject faults only into a lab hardway made (--target lab, or lab:<name> after hardway lab up)`,
  );
}
