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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labInventory } from '../cli/commands/lab.ts';
import { readLabState } from '../providers/lab/lab.ts';
import type { ReportDocument } from '../report/document.ts';

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

  it('verifies the lab through an inventory without a model, --active: nothing fails, every skip is not-applicable with its reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardway-model-less-'));
    try {
      const state = readLabState(lab)!;
      const inv = parse(labInventory(state, loadCluster(config))) as Record<string, unknown>;
      delete inv.cluster;
      const path = join(dir, 'lab.yaml');
      writeFileSync(path, JSON.stringify(inv));
      const r = spawnSync('bin/hardway', ['verify', '--target', path, '--active', '--reporter', 'json'], {
        encoding: 'utf8',
        timeout: 300_000,
        maxBuffer: 64 << 20,
      });
      const doc = JSON.parse(r.stdout) as ReportDocument;
      const checks = doc.suites.flatMap((x) => x.checks);
      expect(
        checks
          .filter((c) => c.status === 'failed' || (c.skip && c.skip !== 'not-applicable'))
          .map((c) => `${c.id}@${c.host}: ${c.diagnosis}`),
      ).toEqual([]);
      expect(r.status).toBe(0);
      expect(checks.filter((c) => c.status === 'passed').length).toBeGreaterThanOrEqual(100);
      for (const c of checks.filter((x) => x.skip === 'not-applicable')) expect(c.diagnosis, c.id).toMatch(/^\S.{10,}/);
      // The model came from the hosts: drift has nothing to compare with, and says so.
      expect(checks.find((c) => c.id === 'drift.model')?.skip).toBe('not-applicable');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
