// The fault catalogue as lab tests: each lab fault is injected into the shared lab, the suites of
// its expectations run, exactly the expected checks fail with the expected codes, and the lab is
// repaired and proven healthy again.
import { describe, expect, it, inject } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { catalogue } from './catalogue.ts';
import { layoutOf } from '../model/cluster.ts';
import { appliesTo, keyOf, rolesOf } from './fault.ts';
import { runFaults } from './run.ts';

const cluster = loadCluster(inject('labConfig'));
const lab = cluster.name;
const roles = rolesOf(cluster);

describe('fault catalogue', () => {
  // The lab faults of this lab's layout (the KTHW lab's own run them all: npm run faults:all-layouts).
  for (const fault of catalogue().filter((f) => f.on === 'lab' && appliesTo(f, layoutOf(cluster)))) {
    it(`${fault.id}: ${fault.title}`, async () => {
      const [r] = await runFaults({ lab, only: [fault.id], progress: (l) => process.stderr.write(`[faults] ${l}\n`) });
      expect(r!.reasons).toEqual([]);
      expect(r!.failed).toEqual(fault.expect(roles).map(keyOf).sort());
      expect(r!.caught).toBe(true);
    });
  }

  it('refuses to inject into anything but a running hardway lab', async () => {
    await expect(runFaults({ lab: 'no-such-lab', progress: () => undefined })).rejects.toThrow(
      /no running lab named "no-such-lab"; faults are injected only into hardway's own lab/,
    );
  });
});
