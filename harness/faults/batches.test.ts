// Which faults may be broken together (pure logic; the lab test runs the batches for real).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderToDir } from '../render/render.ts';
import { layoutOf } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { SUITES } from '../verify/registry.ts';
import { footprint, planBatches, whyAlone } from './batches.ts';
import { catalogue } from './catalogue.ts';
import { recordingFaultEnv } from '../testing/recording-fault-env.ts';
import { type Fault, type Roles, appliesTo, rolesOf } from './fault.ts';

const layouts = ['fixtures/lab/cluster.yaml', 'fixtures/lab-kthw/cluster.yaml'].map((path) => {
  const roles = rolesOf(loadCluster(path));
  const faults = catalogue().filter((f) => f.on === 'lab' && appliesTo(f, layoutOf(roles.cluster)));
  return { path, roles, faults };
});

const local = (id: string, host: string, check = 'hosts.sysctl', more: Partial<Fault> = {}): Fault => ({
  id,
  title: id,
  on: 'lab',
  expect: () => [{ check, host, codes: ['x'] }],
  inject: async () => undefined,
  ...more,
});

describe('fault batches', () => {
  const roles = layouts[0]!.roles;

  it('puts faults on different hosts together, one per host, in catalogue order', () => {
    const b = planBatches([local('a', 'node-1'), local('b', 'node-1'), local('c', 'node-2'), local('d', 'master')], roles, SUITES);
    expect(b.map((x) => x.map((f) => f.id))).toEqual([['a', 'c', 'd'], ['b']]);
  });

  it('keeps a fault alone when it is marked alone, waits for an effect, sets options or expects a cluster check', () => {
    const alone = [
      local('marked', 'node-1', 'hosts.sysctl', { alone: 'it restarts the apiserver' }),
      local('effect', 'node-2', 'hosts.sysctl', { effect: async () => undefined }),
      local('options', 'master', 'hosts.sysctl', { options: () => ({ expiryWarningDays: 1 }) }),
      { ...local('cluster', 'node-1'), expect: () => [{ check: 'etcd.members', codes: ['x'] }] },
    ];
    const b = planBatches([...alone, local('free', 'node-1')], roles, SUITES);
    expect(b.map((x) => x.map((f) => f.id))).toEqual([['marked'], ['effect'], ['options'], ['cluster'], ['free']]);
    expect(alone.map((f) => whyAlone(f, roles))).toEqual([
      'it restarts the apiserver',
      'it waits for a cluster signal to take effect',
      'it runs with its own verify options',
      'it expects cluster checks to fail (etcd.members)',
    ]);
  });

  it('lets a fault that only changes a file or a setting share a host with one judged in other suites', () => {
    const file = local('file', 'node-1', 'certs.ca-key-placement', { sharesHost: true });
    const b = planBatches([file, local('same-suite', 'node-1', 'certs.validity'), local('other-suite', 'node-1')], roles, SUITES);
    expect(b.map((x) => x.map((f) => f.id))).toEqual([['file', 'other-suite'], ['same-suite']]);
    // Neither only changes a setting: one per host.
    const c = planBatches([local('a', 'node-1', 'certs.validity'), local('b', 'node-1')], roles, SUITES);
    expect(c.map((x) => x.map((f) => f.id))).toEqual([['a'], ['b']]);
  });

  it("counts the hosts a fault touches besides its expectations' as its footprint", () => {
    const reader = local('reader', 'node-1', 'hosts.sysctl', { touches: (r: Roles) => [r.master] });
    expect([...footprint(reader, roles)].sort()).toEqual(['master', 'node-1']);
    const b = planBatches([reader, local('on-master', 'master')], roles, SUITES);
    expect(b.map((x) => x.map((f) => f.id))).toEqual([['reader'], ['on-master']]);
  });

  it('does not batch a failing gate with a fault judged in a suite that gate blocks', () => {
    // flannel.daemon is the flannel gate: kube-proxy (and ingress after it) would be blocked.
    const gate = local('flannel-gate', 'node-1', 'flannel.daemon');
    const b = planBatches([gate, local('proxy', 'node-2', 'kube-proxy.nat-rules'), local('hosts', 'node-2')], roles, SUITES);
    expect(b.map((x) => x.map((f) => f.id))).toEqual([['flannel-gate', 'hosts'], ['proxy']]);
  });

  it('counts every check of a suite without a gate as its gate (kube-proxy blocks ingress)', () => {
    const b = planBatches([local('proxy', 'node-1', 'kube-proxy.nat-rules'), local('edge', 'node-2', 'ingress.gateway')], roles, SUITES);
    expect(b.map((x) => x.map((f) => f.id))).toEqual([['proxy'], ['edge']]);
  });

  for (const { path, roles: r, faults } of layouts) {
    it(`${path}: every lab fault in exactly one batch; batched faults independent`, () => {
      const batches = planBatches(faults, r, SUITES);
      expect(batches.flat().map((f) => f.id)).toEqual(expect.arrayContaining(faults.map((f) => f.id)));
      expect(batches.flat()).toHaveLength(faults.length);
      expect(batches.length).toBeLessThan(faults.length);
      const judgedIn = (f: Fault) => new Set([...f.expect(r), ...(f.warn?.(r) ?? [])].map((e) => e.check.split('.')[0]));
      for (const b of batches.filter((x) => x.length > 1)) {
        for (const f of b) expect(whyAlone(f, r), f.id).toBeUndefined();
        for (const [i, f] of b.entries())
          for (const g of b.slice(i + 1)) {
            const shared = [...footprint(f, r)].filter((h) => footprint(g, r).has(h));
            if (!shared.length) continue;
            // Two faults on one host: one of them only changes a file or a setting, judged elsewhere.
            expect(f.sharesHost || g.sharesHost, `${f.id} and ${g.id} share ${shared.join(', ')}`).toBe(true);
            expect(
              [...judgedIn(f)].filter((x) => judgedIn(g).has(x)),
              `${f.id} and ${g.id}`,
            ).toEqual([]);
          }
      }
    });

    it(`${path}: a local fault's inject and repair reach only its footprint (recorded without a lab)`, async () => {
      // The rendering the installer would use (some faults read it before reaching a host).
      const rendered = mkdtempSync(join(tmpdir(), 'hardway-batches-test-'));
      try {
        await renderToDir(r.cluster, rendered);
        for (const f of faults.filter((x) => whyAlone(x, r) === undefined)) {
          const { env, reached } = recordingFaultEnv(r, rendered);
          // Every host call answers '': a fault parsing an answer may stop there; what it reached counts.
          let threw: unknown;
          await f.inject(env).catch((e) => (threw = e));
          await f.repair?.(env).catch((e) => (threw ??= e));
          const fp = footprint(f, r);
          // Reaching no host is fine only for a fault that changes nothing (it did not fail).
          if (!reached.size) expect(threw, `${f.id} failed before reaching any host`).toBeUndefined();
          expect(
            [...reached].filter((h) => !fp.has(h)),
            f.id,
          ).toEqual([]);
        }
      } finally {
        rmSync(rendered, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
