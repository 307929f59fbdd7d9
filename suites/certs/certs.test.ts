import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../harness/model/load.ts';
import { renderToDir } from '../../harness/render/render.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { runContext } from '../../harness/verify/context.ts';
import { runSuite } from '../../harness/verify/engine.ts';
import { certsSuite } from './certs.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
let base: string;
const dirs: string[] = [];

async function verify(dir: string, options = DEFAULT_OPTIONS) {
  return runSuite(await runContext(dirTarget(`dir:${dir}`, dir, cluster), options), certsSuite);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'hardway-certs-'));
  dirs.push(base);
  await renderToDir(cluster, base);
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('certs suite on an untouched rendering', () => {
  it('passes every check on every host', async () => {
    const results = await verify(base);
    const bad = results.filter((r) => r.status !== 'passed');
    expect(bad).toEqual([]);
    expect(results.every((r) => r.examined >= 1)).toBe(true);
    // 9 checks on 3 hosts, minus the worker-only CA key check on the master.
    expect(results.length).toBe(9 * 3 - 1);
  });

  it('warns, without failing, when a certificate expires within the warning window', async () => {
    const results = await verify(base, { ...DEFAULT_OPTIONS, expiryWarningDays: 400 });
    const validity = results.filter((r) => r.id === 'certs.validity');
    expect(validity.every((r) => r.status === 'passed')).toBe(true);
    expect(validity.flatMap((r) => r.warnings ?? []).join('\n')).toMatch(/kubernetes\.pem: expires in \d+ days/);
  });
});
