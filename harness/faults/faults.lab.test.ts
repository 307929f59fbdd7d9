// The fault catalogue as lab tests: each fault is injected into the shared lab, every suite runs,
// exactly the expected checks must fail with diagnoses naming the cause, and the lab is repaired.
import { describe, expect, it, inject } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { catalogue } from './catalogue.ts';
import { runFaults } from './run.ts';

const lab = loadCluster(inject('labConfig')).name;

describe('fault catalogue', () => {
  for (const fault of catalogue()) {
    it(`${fault.id}: ${fault.title}`, async () => {
      const [r] = await runFaults({ lab, only: [fault.id], progress: (l) => process.stderr.write(`[faults] ${l}\n`) });
      expect(r!.reasons).toEqual([]);
      expect(r!.failed).toEqual([...fault.expected].sort());
      expect(r!.caught).toBe(true);
    });
  }

  it('refuses to inject into anything but a running hardway lab', async () => {
    await expect(runFaults({ lab: 'no-such-lab', progress: () => undefined })).rejects.toThrow(/no running lab named "no-such-lab"; faults are injected only into hardway's own lab/);
  });
});
