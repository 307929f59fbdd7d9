// The fault catalogue as lab tests: one run of the whole catalogue on the shared lab (batches of
// independent faults, each fault judged: exactly the expected checks fail with the expected codes,
// the lab repaired and proven healthy again), then one test per fault reading its verdict.
import { beforeAll, describe, expect, it, inject } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { catalogue } from './catalogue.ts';
import { layoutOf } from '../model/cluster.ts';
import { type FaultResult, appliesTo, keyOf, rolesOf } from './fault.ts';
import { runFaults } from './run.ts';

const cluster = loadCluster(inject('labConfig'));
const lab = cluster.name;
const roles = rolesOf(cluster);
// The lab faults of this lab's layout (the KTHW lab's own run them all: npm run faults:all-layouts).
const faults = catalogue().filter((f) => f.on === 'lab' && appliesTo(f, layoutOf(cluster)));

describe('fault catalogue', () => {
  let results: FaultResult[] = [];
  let failure: Error | undefined;
  beforeAll(async () => {
    try {
      results = await runFaults({ lab, progress: (l) => process.stderr.write(`[faults] ${l}\n`) });
    } catch (e) {
      failure = e as Error;
    }
  }, 60 * 60_000);

  for (const fault of faults) {
    it(`${fault.id}: ${fault.title}`, () => {
      if (failure) throw failure;
      const r = results.find((x) => x.id === fault.id);
      expect(r, 'not run: the catalogue stopped before it (a repair failed)').toBeDefined();
      expect(r!.reasons).toEqual([]);
      expect(r!.failed).toEqual(fault.expect(roles).map(keyOf).sort());
      expect(r!.caught).toBe(true);
    });
  }

  it('broke independent faults together (fewer verification cycles than faults)', () => {
    if (failure) throw failure;
    const batched = results.filter((r) => r.batch?.length && !r.rerunAlone);
    expect(batched.length).toBeGreaterThan(0);
  });

  it('refuses to inject into anything but a running hardway lab', async () => {
    await expect(runFaults({ lab: 'no-such-lab', progress: () => undefined })).rejects.toThrow(
      /no running lab named "no-such-lab"; faults are injected only into hardway's own lab/,
    );
  });
});
