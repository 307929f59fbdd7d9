// drift.units offline: a rendering verified as a dir: tree against the rendering it was copied
// from. A flag added on the systemd host (master) and on the OpenRC host (node-2, in its init
// script) is each reported as unit-drift; the untouched copy passes, having compared every unit.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCluster } from '../../harness/model/load.ts';
import { renderToDir } from '../../harness/render/render.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { runContext } from '../../harness/verify/context.ts';
import { runSuite } from '../../harness/verify/engine.ts';
import { driftSuite } from './drift.ts';

// The lab's model: node-2 on OpenRC, as the seed's node-2 ran.
const cluster = parseCluster(readFileSync('fixtures/lab/cluster.yaml', 'utf8'), 'cluster.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'hardway-drift-'));
const rendered = join(tmp, 'rendered');

async function unitsOn(tree: string) {
  const target = { ...dirTarget(`dir:${tree}`, tree, cluster), renderedDir: rendered };
  return (await runSuite(await runContext(target, DEFAULT_OPTIONS), driftSuite)).filter((r) => r.id === 'drift.units');
}

beforeAll(async () => {
  await renderToDir(cluster, rendered);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('drift.units on a rendering', () => {
  it('renders the lab model with one host of each init system', () => {
    expect(cluster.workers.map((w) => w.init)).toEqual(['systemd', 'openrc']);
  });

  it('passes on an untouched copy, with every host compared (systemd and OpenRC)', async () => {
    const copy = join(tmp, 'same');
    cpSync(rendered, copy, { recursive: true });
    const rs = await unitsOn(copy);
    expect(rs.map((r) => [r.host, r.status])).toEqual([...cluster.masters, ...cluster.workers].map((h) => [h.host, 'passed']));
    const node2 = rs.find((r) => r.host === 'node-2')!;
    expect(cluster.workers.find((w) => w.host === 'node-2')?.init).toBe('openrc');
    expect(node2.examined).toBeGreaterThanOrEqual(3); // containerd, kubelet, kube-proxy, flannel, coredns
  });

  it('reports a flag added to a systemd unit and to an OpenRC init script', async () => {
    const copy = join(tmp, 'edited');
    cpSync(rendered, copy, { recursive: true });
    const unit = join(copy, 'master/etc/systemd/system/kube-scheduler.service');
    writeFileSync(
      unit,
      readFileSync(unit, 'utf8').replace('ExecStart=/usr/local/bin/kube-scheduler', 'ExecStart=/usr/local/bin/kube-scheduler --v=4'),
    );
    const script = join(copy, 'node-2/etc/init.d/kubelet');
    writeFileSync(script, readFileSync(script, 'utf8').replace(/command_args="/, 'command_args="--v=4 '));
    const rs = await unitsOn(copy);
    const failed = rs.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.host).sort()).toEqual(['master', 'node-2']);
    for (const r of failed) {
      expect(r.findings?.map((f) => f.code)).toEqual(['unit-drift']);
      expect(r.findings?.[0]?.message).toContain('+--v=4');
    }
    expect(failed.find((r) => r.host === 'node-2')?.findings?.[0]?.subject).toBe('kubelet');
  });
});
