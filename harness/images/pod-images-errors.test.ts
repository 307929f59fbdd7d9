// What a user sees when a build tool is missing or broken: one line naming it and the fix.
// Tools are hidden or replaced by stand-in scripts placed first on PATH.
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEMO_APP_IMAGE, PAUSE_IMAGE, POD_IMAGES, TOOLBOX_IMAGE, buildPodImages } from './pod-images.ts';

const temp = mkdtempSync(join(tmpdir(), 'hardway-podimg-err-'));
const realPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = realPath;
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const recipe = (name: string) => POD_IMAGES.filter((r) => r.name === name);

/** A dir holding stand-ins for the named tools: each prints `stderr` and exits `code`. */
function fakeTools(tools: Record<string, { stderr: string; code: number }>): string {
  const dir = mkdtempSync(join(temp, 'bin-'));
  for (const [name, t] of Object.entries(tools)) {
    writeFileSync(join(dir, name), `#!/bin/sh\necho '${t.stderr}' >&2\nexit ${t.code}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

/** A PATH where no tool is found. */
const barePath = (): string => mkdtempSync(join(temp, 'bare-'));

async function failure(name: string): Promise<string> {
  const cacheDir = mkdtempSync(join(temp, 'cache-'));
  const err = await buildPodImages({ cacheDir, images: recipe(name) }).then(
    () => new Error('the build succeeded'),
    (e: Error) => e,
  );
  expect(readdirSync(cacheDir), 'nothing cached after a failure').toEqual([]);
  expect(err.message).not.toContain('\n');
  return err.message;
}

describe('pod image build errors', () => {
  it('no gcc', async () => {
    process.env.PATH = barePath();
    expect(await failure(PAUSE_IMAGE)).toBe('gcc not found: apt-get install gcc libc6-dev');
  });

  it('no static libc', async () => {
    process.env.PATH = `${fakeTools({ gcc: { stderr: '/usr/bin/ld: cannot find -lc: No such file or directory', code: 1 } })}:${realPath}`;
    expect(await failure(PAUSE_IMAGE)).toBe('static libc (libc.a) not found for gcc -static: apt-get install libc6-dev');
  });

  it('a compile error', async () => {
    process.env.PATH = `${fakeTools({ gcc: { stderr: 'pause.c:3:1: error: expected declaration', code: 1 } })}:${realPath}`;
    expect(await failure(PAUSE_IMAGE)).toBe('compiling pause.c failed: pause.c:3:1: error: expected declaration');
  });

  it('no go', async () => {
    process.env.PATH = barePath();
    expect(await failure(DEMO_APP_IMAGE)).toMatch(/^go not found: put a Go toolchain >= 1\.22 on PATH/);
  });

  it('a go too old', async () => {
    const dir = mkdtempSync(join(temp, 'oldgo-'));
    writeFileSync(join(dir, 'go'), '#!/bin/sh\necho go1.19.8\n');
    chmodSync(join(dir, 'go'), 0o755);
    process.env.PATH = `${dir}:${realPath}`;
    expect(await failure(DEMO_APP_IMAGE)).toBe('go1.19.8 is too old for demo-app: put a Go toolchain >= 1.22 on PATH');
  });

  it('apt cannot download busybox-static: the host copy only if it is the static package', async () => {
    process.env.PATH = `${fakeTools({ 'apt-get': { stderr: 'E: Unable to locate package busybox-static', code: 100 } })}:${realPath}`;
    const hostStatic = existsSync('/usr/share/doc/busybox-static') && existsSync('/bin/busybox');
    const cacheDir = mkdtempSync(join(temp, 'cache-'));
    const lines: string[] = [];
    const result = buildPodImages({ cacheDir, images: recipe(TOOLBOX_IMAGE), onProgress: (l) => lines.push(l) });
    if (hostStatic) {
      const [img] = await result;
      expect(existsSync(img.tar)).toBe(true);
      expect(lines).toContain(
        `pod image ${TOOLBOX_IMAGE}: apt-get download busybox-static failed: E: Unable to locate package busybox-static; using the host's /bin/busybox (busybox-static)`,
      );
    } else {
      await expect(result).rejects.toThrow(
        'apt-get download busybox-static failed: E: Unable to locate package busybox-static: run apt-get update (or apt-get install busybox-static)',
      );
    }
  });
});
