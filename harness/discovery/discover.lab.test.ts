// Discovery against the running seed lab: the model `hardway discover` prints equals the lab's
// own model (fixtures/lab/cluster.yaml) on every field that file sets. The one exception is
// dns.probeName: a name hardway asks about, not something a cluster's configuration holds.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { openTarget } from '../targets/open.ts';
import { discoverTarget } from '../verify/context.ts';
import { loadCluster } from '../model/load.ts';
import { modelDocument } from './print.ts';
import { spawnSync } from 'node:child_process';

const config = inject('labConfig');
const lab = loadCluster(config).name;

/** Every leaf path a YAML document sets ("apiserver.port", "workers.1.address"). */
function leaves(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, `${path}.${i}`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, path ? `${path}.${k}` : k));
  return [path];
}
const at = (v: unknown, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);

describe('hardway discover on the seed lab', () => {
  it('gives the lab model on every field fixtures/lab/cluster.yaml sets (but dns.probeName)', async () => {
    const target = await openTarget(lab === 'lab' ? 'lab' : `lab:${lab}`, {});
    try {
      const { derived } = await discoverTarget(target);
      const want = parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
      const got = modelDocument(derived.cluster);
      const fields = leaves(want).filter((f) => f !== 'dns.probeName');
      const differ = fields
        .filter((f) => JSON.stringify(at(got, f)) !== JSON.stringify(at(want, f)))
        .map((f) => `${f}: discovered ${JSON.stringify(at(got, f))}, the model says ${JSON.stringify(at(want, f))}`);
      expect(differ).toEqual([]);
      expect(fields.length).toBeGreaterThan(20);
      expect(derived.problems).toEqual([]);
      // Every value says where it was read.
      for (const f of ['name', 'clusterDomain', 'podCIDR', 'serviceCIDR', 'apiserver.port', 'workers.node-1.nodeName'])
        expect(derived.sources[f]).toMatch(/:\/|etcd|inventory/);
    } finally {
      await target.close();
    }
  });

  it('prints it as cluster.yaml that loads back, each value commented with its source', () => {
    const r = spawnSync('bin/hardway', ['discover', '--target', lab === 'lab' ? 'lab' : `lab:${lab}`], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/podCIDR: 10\.200\.0\.0\/16 # master:\/etc\/systemd\/system\/kube-controller-manager\.service --cluster-cidr/);
    expect(r.stdout).toMatch(/clusterDomain: cluster\.local # node-\d:\/var\/lib\/kubernetes\/kubelet\/kubelet-config\.yaml clusterDomain/);
    expect(() => parse(r.stdout)).not.toThrow();
  });
});
