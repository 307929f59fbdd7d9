import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCluster, parseCluster } from '../../model/load.ts';
import { labNetwork } from './lab.ts';
import { withWorkers } from './scale.ts';

const SEED = 'fixtures/lab/cluster.yaml';
const KTHW = 'fixtures/lab-kthw/cluster.yaml';

describe('lab up --workers N', () => {
  it("continues the seed lab's workers by name and address and changes nothing else", () => {
    const c = loadCluster(SEED);
    const text = withWorkers(c, readFileSync(SEED, 'utf8'), 6);
    const six = parseCluster(text, 'six.yaml');
    expect(six.workers.map((w) => `${w.host}=${w.nodeName}@${w.address}`)).toEqual(
      ['node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6'].map((n, i) => `${n}=${n}@10.240.0.${21 + i}`),
    );
    expect({ ...six, workers: [] }).toEqual({ ...c, workers: [] });
    expect(six.workers.slice(0, 2)).toEqual(c.workers);
    expect(text).toContain("# The lab's cluster model"); // comments kept
    expect(labNetwork(six).subnet).toBe('10.240.0.0/24');
  });

  it('gives the kthw lab node-2 ... with the next pod subnets, and can shrink a lab', () => {
    const c = loadCluster(KTHW);
    const four = parseCluster(withWorkers(c, readFileSync(KTHW, 'utf8'), 4), 'four.yaml');
    expect(four.workers.map((w) => `${w.host}@${w.address} ${w.podSubnet}`)).toEqual([
      'node-0@10.241.0.20 10.200.0.0/24',
      'node-1@10.241.0.21 10.200.1.0/24',
      'node-2@10.241.0.22 10.200.2.0/24',
      'node-3@10.241.0.23 10.200.3.0/24',
    ]);
    expect(parseCluster(withWorkers(c, readFileSync(KTHW, 'utf8'), 1), 'one.yaml').workers.map((w) => w.host)).toEqual(['node-0']);
  });

  it('refuses a count it cannot make', () => {
    const c = loadCluster(SEED);
    expect(() => withWorkers(c, readFileSync(SEED, 'utf8'), 0)).toThrow(/--workers must be an integer from 1 to 50, got 0/);
    expect(() => withWorkers(c, readFileSync(SEED, 'utf8'), Number('six'))).toThrow(/got NaN/);
  });
});
