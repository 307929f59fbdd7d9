import { describe, expect, it } from 'vitest';
import { BuildPool } from './schedule.ts';

describe('the build pool', () => {
  it("runs at most its slots at once, lowest rank first: the cluster's builds before the edge's, long ones first", async () => {
    const pool = new BuildPool(2);
    const started: string[] = [];
    let running = 0;
    let peak = 0;
    const job = (name: string, ms: number) => async () => {
      started.push(name);
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return name;
    };
    // Queued as bring-up does: the edge's components are asked for first.
    const all = Promise.all([
      pool.run([1, -7], job('cert-manager', 30)),
      pool.run([1, -2], job('nginx-gateway-fabric', 10)),
      pool.run([0, -6], job('kubernetes', 40)),
      pool.run([0, -1.5], job('coredns', 10)),
      pool.run([0, -1], job('flannel', 10)),
    ]);
    await all;
    expect(peak).toBe(2);
    // Requests made together are ranked together, whatever their order.
    expect(started).toEqual(['kubernetes', 'coredns', 'flannel', 'cert-manager', 'nginx-gateway-fabric']);
  });

  it('orders what waits: a slot that frees takes the best-ranked waiting job', async () => {
    const pool = new BuildPool(1);
    const started: string[] = [];
    const job = (name: string) => async () => {
      started.push(name);
      await new Promise((r) => setTimeout(r, 5));
    };
    const first = pool.run([9], job('first'));
    await new Promise((r) => setImmediate(r)); // it has the slot
    await Promise.all([
      first,
      pool.run([1, -2], job('edge-short')),
      pool.run([0, -6], job('cluster-long')),
      pool.run([0, -1], job('cluster-short')),
    ]);
    expect(started).toEqual(['first', 'cluster-long', 'cluster-short', 'edge-short']);
  });
});
