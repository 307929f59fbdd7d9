// The OCI layout writer and the image cache, without any container runtime: digests and sizes in
// index/manifest/config must match the blobs, names must be annotated, output must be reproducible.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES, imageTag, sha256, writeOciImage, type LayerEntry } from './oci.ts';
import { buildPodImages, recipeKey, type PodImageRecipe } from './pod-images.ts';
import { ImageBuildError, run } from './run.ts';

const temp = mkdtempSync(join(tmpdir(), 'hardway-oci-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function tmp(name: string): string {
  const dir = join(temp, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Unpacks an image tar and returns a reader of its files. */
function unpack(tar: string): (path: string) => Buffer {
  const dir = mkdtempSync(join(temp, 'x-'));
  execFileSync('tar', ['-C', dir, '-xf', tar]);
  return (path) => readFileSync(join(dir, path));
}

const blobPath = (digest: string): string => `blobs/sha256/${digest.replace(/^sha256:/, '')}`;

function entries(hostFile: string): LayerEntry[] {
  return [
    { type: 'file', path: '/bin/tool', mode: 0o755, source: hostFile },
    { type: 'file', path: '/etc/motd', mode: 0o644, content: 'hello\n' },
    { type: 'dir', path: '/tmp', mode: 0o1777 },
    { type: 'symlink', path: '/bin/sh', target: 'tool' },
  ];
}

describe('writeOciImage', () => {
  const src = join(tmp('src'), 'tool');
  writeFileSync(src, '#!/bin/true\n');

  it('writes a layout whose index, manifest, config and layer agree', async () => {
    const out = join(tmp('a'), 'img.tar');
    const written = await writeOciImage(
      {
        name: 'hardway.local/test:2.5',
        config: { entrypoint: ['/bin/tool'], cmd: ['-x'], env: ['A=1'], exposedPorts: ['8000/tcp'] },
        rootfs: entries(src),
      },
      out,
    );
    expect(written.tar).toBe(out);
    const read = unpack(out);

    expect(JSON.parse(read('oci-layout').toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(read('index.json').toString());
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toHaveLength(1);
    const desc = index.manifests[0];
    expect(desc.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(desc.platform).toEqual({ architecture: 'amd64', os: 'linux' });
    expect(desc.annotations).toEqual({
      'io.containerd.image.name': 'hardway.local/test:2.5',
      'org.opencontainers.image.ref.name': '2.5',
    });

    const manifestBytes = read(blobPath(desc.digest));
    expect(sha256(manifestBytes)).toBe(desc.digest);
    expect(manifestBytes.length).toBe(desc.size);
    expect(desc.digest).toBe(written.manifestDigest);
    const manifest = JSON.parse(manifestBytes.toString());
    expect(manifest.mediaType).toBe(MEDIA_TYPES.manifest);

    const configBytes = read(blobPath(manifest.config.digest));
    expect(sha256(configBytes)).toBe(manifest.config.digest);
    expect(configBytes.length).toBe(manifest.config.size);
    expect(manifest.config.mediaType).toBe(MEDIA_TYPES.config);
    const config = JSON.parse(configBytes.toString());
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux' });
    expect(config.config).toEqual({ Entrypoint: ['/bin/tool'], Cmd: ['-x'], Env: ['A=1'], ExposedPorts: { '8000/tcp': {} } });

    expect(manifest.layers).toHaveLength(1);
    const layer = manifest.layers[0];
    expect(layer.mediaType).toBe(MEDIA_TYPES.layer);
    const layerBytes = read(blobPath(layer.digest));
    expect(sha256(layerBytes)).toBe(layer.digest);
    expect(layerBytes.length).toBe(layer.size);
    // Uncompressed layer: the diff_id is the layer digest.
    expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [layer.digest] });

    // Exactly the blobs referenced, nothing left over (e.g. a temporary layer file).
    const blobs = execFileSync('tar', ['-tf', out])
      .toString()
      .split('\n')
      .filter((l) => /^blobs\/sha256\/./.test(l));
    expect(blobs.sort()).toEqual([desc.digest, manifest.config.digest, layer.digest].map(blobPath).sort());
  });

  it('makes a layer owned by root, dated 0, with the given modes and no "./" member', async () => {
    const out = join(tmp('b'), 'img.tar');
    const { layerDigest } = await writeOciImage({ name: 'x/y:1', config: {}, rootfs: entries(src) }, out);
    const layerFile = join(temp, 'layer.tar');
    writeFileSync(layerFile, unpack(out)(blobPath(layerDigest)));
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', layerFile], { env: { ...process.env, TZ: 'UTC' } })
      .toString()
      .trim()
      .split('\n');
    const byName = new Map(listing.map((l) => [l.split(/\s+/)[5], l]));
    expect([...byName.keys()].sort()).toEqual(['bin/', 'bin/sh', 'bin/tool', 'etc/', 'etc/motd', 'tmp/']);
    expect(byName.get('bin/tool')).toMatch(/^-rwxr-xr-x 0\/0 .* 1970-01-01 00:00 bin\/tool$/);
    expect(byName.get('etc/motd')).toMatch(/^-rw-r--r-- 0\/0 /);
    expect(byName.get('tmp/')).toMatch(/^drwxrwxrwt 0\/0 /);
    expect(byName.get('bin/')).toMatch(/^drwxr-xr-x 0\/0 /);
    expect(byName.get('bin/sh')).toMatch(/^lrwxrwxrwx 0\/0 .* bin\/sh -> tool$/);
  });

  it('is reproducible: the same input gives the same bytes', async () => {
    const a = join(tmp('c1'), 'img.tar');
    const b = join(tmp('c2'), 'img.tar');
    await writeOciImage({ name: 'x/y:1', config: { entrypoint: ['/bin/tool'] }, rootfs: entries(src) }, a);
    await new Promise((r) => setTimeout(r, 1100)); // a different second, should mtimes leak through
    await writeOciImage({ name: 'x/y:1', config: { entrypoint: ['/bin/tool'] }, rootfs: entries(src) }, b);
    expect(sha256(readFileSync(a))).toBe(sha256(readFileSync(b)));
  });

  it('accepts a rootfs directory as it is', async () => {
    const root = tmp('rootfs');
    writeFileSync(join(root, 'hello'), 'hi');
    const out = join(tmp('d'), 'img.tar');
    const { layerDigest } = await writeOciImage({ name: 'x/dir:1', config: {}, rootfs: root }, out);
    const layerFile = join(temp, 'layer-d.tar');
    writeFileSync(layerFile, unpack(out)(blobPath(layerDigest)));
    expect(execFileSync('tar', ['-tf', layerFile]).toString()).toBe('hello\n');
  });

  it('rejects an empty rootfs and paths escaping the root, leaving no output', async () => {
    const out = join(tmp('e'), 'img.tar');
    await expect(writeOciImage({ name: 'x/e:1', config: {}, rootfs: [] }, out)).rejects.toThrow(ImageBuildError);
    await expect(writeOciImage({ name: 'x/e:1', config: {}, rootfs: [{ type: 'dir', path: '/../x', mode: 0o755 }] }, out)).rejects.toThrow(
      /invalid image path/,
    );
    expect(readdirSync(join(temp, 'e'))).toEqual([]);
  });
});

describe('imageTag', () => {
  it('takes the tag after the last colon of the last path part', () => {
    expect(imageTag('hardway.local/pause:1.0')).toBe('1.0');
    expect(imageTag('localhost:5000/app')).toBe('latest');
    expect(imageTag('localhost:5000/app:v2')).toBe('v2');
  });
});

describe('run', () => {
  it('says which tool is missing and how to install it', async () => {
    await expect(run('gcc', ['--version'], { env: { PATH: '/nonexistent' } })).rejects.toThrow(
      'gcc not found: apt-get install gcc libc6-dev',
    );
  });

  it('reports a failing step in one line with the gist of stderr', async () => {
    const err = await run('tar', ['-xf', '/nonexistent.tar'], { what: 'unpacking' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ImageBuildError);
    expect((err as Error).message).toMatch(/^unpacking failed: .*No such file/);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('buildPodImages cache', () => {
  const source = join(tmp('recipe'), 'input.txt');
  let builds = 0;
  const recipe: PodImageRecipe = {
    name: 'hardway.local/fake:1.0',
    config: { entrypoint: ['/input.txt'] },
    sources: [source],
    inputs: {},
    async build() {
      builds++;
      return [{ type: 'file', path: '/input.txt', mode: 0o644, source }];
    },
  };

  it('builds once, then answers from the cache, and rebuilds when a source changes', async () => {
    writeFileSync(source, 'one');
    const cacheDir = join(temp, 'cache');
    const lines: string[] = [];
    const onProgress = (l: string): void => void lines.push(l);

    const [first] = await buildPodImages({ cacheDir, onProgress, images: [recipe] });
    expect(first.name).toBe('hardway.local/fake:1.0');
    expect(statSync(first.tar).size).toBeGreaterThan(0);
    expect(builds).toBe(1);
    expect(lines.at(-1)).toMatch(/^pod image hardway\.local\/fake:1\.0: built in /);

    const [again] = await buildPodImages({ cacheDir, onProgress, images: [recipe] });
    expect(again.tar).toBe(first.tar);
    expect(builds).toBe(1);
    expect(lines.at(-1)).toBe(`pod image hardway.local/fake:1.0: cached (${first.tar})`);

    const keyBefore = await recipeKey(recipe);
    writeFileSync(source, 'two');
    expect(await recipeKey(recipe)).not.toBe(keyBefore);
    const [changed] = await buildPodImages({ cacheDir, onProgress, images: [recipe] });
    expect(builds).toBe(2);
    expect(changed.tar).not.toBe(first.tar);
    // The stale tar is dropped; only the current one (no partial files) remains.
    expect(readdirSync(cacheDir)).toEqual([changed.tar.slice(cacheDir.length + 1)]);
  });

  it('leaves no work files behind when a build fails', async () => {
    const cacheDir = join(temp, 'cache-fail');
    const failing: PodImageRecipe = {
      ...recipe,
      name: 'hardway.local/failing:1.0',
      async build() {
        throw new ImageBuildError('frobnicator not found: apt-get install frob');
      },
    };
    await expect(buildPodImages({ cacheDir, images: [failing] })).rejects.toThrow('frobnicator not found');
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});
