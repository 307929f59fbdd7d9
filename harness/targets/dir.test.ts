// The dir: target reads a host's tree as the host would resolve its paths: links inside the tree
// are followed as if chrooted there, and nothing outside the tree is ever read.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { dirTarget, resolveInRoot } from './dir.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hardway-dirtarget-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const root = join(tmp, 'master');
mkdirSync(join(root, 'etc/kubernetes/pki'), { recursive: true });
mkdirSync(join(root, 'var/lib/kubernetes'), { recursive: true });
writeFileSync(join(root, 'var/lib/kubernetes/ca.pem'), 'the tree CA');
// A copy of a host keeps its links: absolute ones name the host's own files.
symlinkSync('/var/lib/kubernetes/ca.pem', join(root, 'etc/kubernetes/pki/ca-abs.pem'));
symlinkSync('../../../var/lib/kubernetes/ca.pem', join(root, 'etc/kubernetes/pki/ca-rel.pem'));
// Links that would leave the tree on this machine.
symlinkSync('/etc/hostname', join(root, 'etc/kubernetes/pki/outside-abs'));
symlinkSync('../../../../../../../../etc/hostname', join(root, 'etc/kubernetes/pki/outside-rel'));
symlinkSync('loop-b', join(root, 'etc/kubernetes/pki/loop-a'));
symlinkSync('loop-a', join(root, 'etc/kubernetes/pki/loop-b'));
// A folder link, followed when a path goes through it.
symlinkSync('/var/lib/kubernetes', join(root, 'etc/kubernetes/lib'));

describe('resolveInRoot', () => {
  it.each([
    ['/etc/kubernetes/pki/ca-abs.pem', 'var/lib/kubernetes/ca.pem'],
    ['/etc/kubernetes/pki/ca-rel.pem', 'var/lib/kubernetes/ca.pem'],
    ['/etc/kubernetes/lib/ca.pem', 'var/lib/kubernetes/ca.pem'],
    ['/etc/kubernetes/pki/outside-abs', 'etc/hostname'],
    ['/etc/kubernetes/pki/outside-rel', 'etc/hostname'],
    ['/../../etc/hostname', 'etc/hostname'],
    ['/etc/kubernetes/./pki/../pki/ca-abs.pem', 'var/lib/kubernetes/ca.pem'],
  ])('%s resolves to <root>/%s', async (path, inRoot) => {
    expect(await resolveInRoot(root, path)).toBe(join(root, inRoot));
  });

  it('a link loop resolves to nothing', async () => {
    expect(await resolveInRoot(root, '/etc/kubernetes/pki/loop-a')).toBeUndefined();
  });
});

describe('dir: target reads', () => {
  const cluster = loadCluster(join(import.meta.dirname, '../../fixtures/lab/cluster.yaml'));
  const host = dirTarget('dir:t', tmp, cluster).host('master');

  it('follows links inside the tree, the host way', async () => {
    expect(await host.readFile('/etc/kubernetes/pki/ca-abs.pem')).toBe('the tree CA');
    expect(await host.readFile('/etc/kubernetes/pki/ca-rel.pem')).toBe('the tree CA');
  });

  it("never reads this machine's files through a link", async () => {
    expect(await host.readFile('/etc/kubernetes/pki/outside-abs')).toBeUndefined();
    expect(await host.readFile('/etc/kubernetes/pki/outside-rel')).toBeUndefined();
  });

  it('a link loop is an error naming the path', async () => {
    await expect(host.readFile('/etc/kubernetes/pki/loop-a')).rejects.toThrow(/master:\/etc\/kubernetes\/pki\/loop-a: too many levels/);
  });

  it('lists regular files only, as find -type f does', async () => {
    expect(await host.listFiles('/var/lib/kubernetes')).toEqual(['/var/lib/kubernetes/ca.pem']);
    expect(await host.listFiles('/etc/kubernetes/pki')).toEqual([]);
    expect(await host.listFiles('/no/such/folder')).toEqual([]);
  });
});
