// A fault's mirror breaks the same thing at the other end of the worker list (pure logic).
import { describe, expect, it } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { recordingFaultEnv } from '../testing/recording-fault-env.ts';
import { catalogue } from './catalogue.ts';
import { type Fault, type FaultEnv, mirrored, rolesOf } from './fault.ts';

const roles = rolesOf(loadCluster('fixtures/lab/cluster.yaml'));

describe('mirrored faults', () => {
  const touched: string[] = [];
  const fault: Fault = {
    id: 'thing-stopped',
    title: 'the thing stopped on the last worker',
    on: 'lab',
    expect: (r) => [{ check: 'hosts.services-active', host: r.workers.at(-1), codes: ['unit-inactive'] }],
    inject: async (env) => void touched.push(`inject ${env.workers.at(-1)}`),
    repair: async (env) => void touched.push(`repair ${env.workers.at(-1)}`),
  };

  it('names, expects, injects and repairs on the other end', async () => {
    const m = mirrored(fault);
    expect(m.id).toBe('thing-stopped-first-worker');
    expect(m.title).toBe('the thing stopped on the first worker');
    expect(fault.expect(roles)[0]!.host).toBe('node-2');
    expect(m.expect(roles)[0]!.host).toBe('node-1');
    const env = { ...roles, progress: () => undefined } as unknown as FaultEnv;
    await m.inject(env);
    await m.repair!(env);
    expect(touched).toEqual(['inject node-1', 'repair node-1']);
    expect(roles.workers).toEqual(['node-1', 'node-2']); // the caller's roles are left as they were
  });

  it('a mirror touches the other worker: the hosts its inject and repair reach are the ones it expects to fail', async () => {
    const all = catalogue();
    for (const m of all.filter((f) => f.mirrorOf)) {
      const original = all.find((f) => f.id === m.mirrorOf)!;
      const reached = async (f: Fault) => {
        // Every call on a host succeeds and is recorded; the master is where kubectl runs.
        const { env, reached: hosts } = recordingFaultEnv(roles);
        await f.inject(env);
        await f.repair?.(env);
        hosts.delete(roles.master);
        return [...hosts];
      };
      const expected = (f: Fault) => [...new Set(f.expect(roles).flatMap((e) => (e.host ? [e.host] : [])))];
      expect(await reached(original), original.id).toEqual(expected(original));
      expect(await reached(m), m.id).toEqual(expected(m));
      expect(expected(m), m.id).not.toEqual(expected(original));
      expect(m.layouts, m.id).toEqual(['seed']);
    }
  });

  it('refuses to mirror a fault whose title names neither end', () => {
    expect(() => mirrored({ ...fault, title: 'the thing stopped on a worker' })).toThrow(/first worker" or "the last worker/);
  });

  it("in the seed's lab, each mirrored service fault breaks its service under both init systems", () => {
    const c = roles.cluster;
    const initOf = (h: string | undefined) => c.workers.find((w) => w.host === h)?.init;
    const all = catalogue();
    const mirrors = all.filter((f) => f.mirrorOf);
    expect(mirrors.length).toBeGreaterThanOrEqual(5);
    for (const m of mirrors) {
      const original = all.find((f) => f.id === m.mirrorOf)!;
      const hosts = [original, m].map((f) => initOf(f.expect(roles).find((e) => e.host)?.host));
      expect(hosts.sort(), m.id).toEqual(['openrc', 'systemd']);
    }
  });
});
