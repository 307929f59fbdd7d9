import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../harness/model/load.ts';
import { renderToDir } from '../../harness/render/render.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import { DEFAULT_OPTIONS, makeContext, runSuite } from '../../harness/verify/check.ts';
import { canonicalIp, certsSuite } from './certs.ts';
import { pkiFaults } from './pki-faults.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
let base: string;
const dirs: string[] = [];

async function verify(dir: string, options = DEFAULT_OPTIONS) {
  return runSuite(makeContext(dirTarget(`dir:${dir}`, dir, cluster), options), certsSuite);
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

describe('certs suite catches each PKI fault with exactly one failing check', () => {
  for (const fault of pkiFaults(cluster)) {
    it(`${fault.id}: ${fault.title}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), `hardway-fault-${fault.id}-`));
      dirs.push(dir);
      await cp(base, dir, { recursive: true });
      await fault.apply(dir, cluster);
      const failed = (await verify(dir)).filter((r) => r.status === 'failed');
      expect(failed.map((r) => `${r.id}@${r.host}`)).toEqual([`${fault.expected}@${fault.host}`]);
      const diagnosis = failed[0]!.diagnosis!;
      expect(diagnosis).toContain(`${fault.host}:${fault.file}`);
      for (const m of fault.mentions) expect(diagnosis).toContain(m);
      expect(diagnosis).toMatch(/fix: /);
    });
  }
});

describe('SAN addresses compare as addresses, not as text', () => {
  it.each([
    ['10.240.0.10', '10.240.0.10'],
    ['2001:DB8::0:1', '2001:db8:0:0:0:0:0:1'],
    ['2001:db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['fe80::', 'fe80:0:0:0:0:0:0:0'],
    ['::ffff:10.32.0.1', '10.32.0.1'],
    ['64:ff9b::10.0.0.1', '64:ff9b:0:0:0:0:a00:1'],
  ])('%s is %s', (a, b) => {
    expect(canonicalIp(a)).toBe(b);
  });

  it('keeps different addresses apart', () => {
    expect(canonicalIp('2001:db8::1')).not.toBe(canonicalIp('2001:db8::1:0'));
    expect(canonicalIp('10.240.0.1')).not.toBe(canonicalIp('10.240.0.10'));
  });
});
