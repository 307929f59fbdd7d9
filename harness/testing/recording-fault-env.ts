// A FaultEnv without a lab, for unit tests of which hosts a fault reaches: every call on a host
// succeeds (with empty output) and is recorded.
import type { FaultEnv, Roles } from '../faults/fault.ts';
import { initSystem } from '../system/init-system.ts';

export function recordingFaultEnv(roles: Roles, renderedDir = '/nonexistent'): { env: FaultEnv; reached: Set<string> } {
  const reached = new Set<string>();
  const remote = (name: string): unknown =>
    new Proxy(() => undefined, {
      get: (_, prop) => (prop === 'then' ? undefined : remote(name)),
      apply: () => {
        reached.add(name);
        return Promise.resolve('');
      },
    });
  const env = {
    ...roles,
    host: (name: string) => remote(name),
    init: (name: string) => initSystem(roles.cluster.workers.find((w) => w.host === name)?.init ?? 'systemd'),
    renderedDir,
    tmp: '/nonexistent',
    progress: () => undefined,
  } as unknown as FaultEnv;
  return { env, reached };
}
