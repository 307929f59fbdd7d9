// Every tree fault of the catalogue, offline: a rendering of the lab's model broken in a copy, the
// suites of the fault's expectations run on it, exactly the expected checks fail with their codes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { renderToDir } from '../render/render.ts';
import { catalogue } from './catalogue.ts';
import { keyOf, rolesOf } from './fault.ts';
import { runTreeFault } from './run.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'hardway-tree-faults-'));
  await renderToDir(cluster, base);
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe('tree faults', () => {
  for (const fault of catalogue().filter((f) => f.on === 'tree')) {
    it(`${fault.id}: ${fault.title}`, async () => {
      const r = await runTreeFault(fault, base, cluster);
      expect(r.reasons).toEqual([]);
      expect(r.failed).toEqual(fault.expect(rolesOf(cluster)).map(keyOf).sort());
    });
  }
});
