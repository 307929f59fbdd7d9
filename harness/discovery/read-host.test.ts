import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostAccess } from '../targets/target.ts';
import { READ_BATCH, readFiles } from './read-host.ts';

const dir = mkdtempSync(join(tmpdir(), 'hardway-read-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A host whose commands run in this machine's real sh (as sshd runs them), counted. */
function localHost(): HostAccess & { commands: string[] } {
  const commands: string[] = [];
  return {
    host: 'local',
    commands,
    readFile: async () => undefined,
    listFiles: async () => [],
    async exec(command: string) {
      commands.push(command);
      const r = await promisify(execFile)('sh', ['-c', command], { encoding: 'utf8', maxBuffer: 64 << 20 }).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      return { code: 'code' in r && typeof r.code === 'number' ? r.code : 0, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

describe('readFiles on a live host', () => {
  it('reads many files a batch of READ_BATCH at a time, long paths included, and a missing one is missing', async () => {
    // Paths as long as a kubelet's pod volumes (/var/lib/kubelet/pods/<uid>/volumes/...).
    const long = 'v'.repeat(150);
    const paths = Array.from({ length: 2 * READ_BATCH + 5 }, (_, i) => join(dir, `${long}-${i}.crt`));
    for (const [i, p] of paths.entries()) writeFileSync(p, `file ${i}\n`);
    const h = localHost();
    const read = await readFiles(h, [...paths, join(dir, 'missing.pem')]);
    expect(h.commands).toHaveLength(3);
    for (const [i, p] of paths.entries()) expect(read.get(p)).toBe(`file ${i}\n`);
    expect(read.get(join(dir, 'missing.pem'))).toBeUndefined();
    expect(read.unreadable.has(join(dir, 'missing.pem'))).toBe(false);
  });
});
