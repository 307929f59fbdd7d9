// The images hardway's pods run, built on this machine because no registry can be reached:
// the pod sandbox (pause), a busybox toolbox for debugging, and the demo web app the suites deploy.
// Each is cached under a key made of its recipe, so only a changed recipe costs a rebuild.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OCI_WRITER_VERSION, sha256, writeOciImage, type ImageConfig, type LayerEntry } from './oci.ts';
import { ImageBuildError, run } from './run.ts';

export const PAUSE_IMAGE = 'hardway.local/pause:1.0';
export const TOOLBOX_IMAGE = 'hardway.local/toolbox:1.0';
export const DEMO_APP_IMAGE = 'hardway.local/demo-app:1.0';

/** Bump when a build function below changes what it produces; part of every cache key. */
export const BUILD_VERSION = 1;

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Busybox applets linked in the toolbox's /bin (each is checked to exist in the binary). */
export const TOOLBOX_APPLETS = [
  '[',
  'arp',
  'arping',
  'awk',
  'base64',
  'basename',
  'cat',
  'chmod',
  'chown',
  'cp',
  'cut',
  'date',
  'dd',
  'df',
  'dirname',
  'dmesg',
  'du',
  'echo',
  'env',
  'expr',
  'false',
  'find',
  'free',
  'grep',
  'gunzip',
  'gzip',
  'head',
  'hexdump',
  'hostname',
  'httpd',
  'id',
  'ifconfig',
  'ip',
  'kill',
  'less',
  'ln',
  'ls',
  'md5sum',
  'mkdir',
  'mktemp',
  'more',
  'mount',
  'mv',
  'nc',
  'netstat',
  'nproc',
  'nslookup',
  'ping',
  'ping6',
  'printf',
  'ps',
  'pwd',
  'readlink',
  'rm',
  'route',
  'sed',
  'seq',
  'sh',
  'sha256sum',
  'sleep',
  'sort',
  'stat',
  'tail',
  'tar',
  'tee',
  'telnet',
  'test',
  'timeout',
  'top',
  'touch',
  'tr',
  'traceroute',
  'true',
  'umount',
  'uname',
  'uptime',
  'vi',
  'watch',
  'wc',
  'wget',
  'which',
  'whoami',
  'xargs',
  'yes',
] as const;

/** How one image is made. `inputs` and the `sources` contents make up its cache key. */
export interface PodImageRecipe {
  name: string;
  config: ImageConfig;
  /** Files of this repo the build reads (absolute paths). */
  sources: string[];
  /** Anything else the result depends on (flags, lists), as plain JSON. */
  inputs: unknown;
  /** Produces the image's filesystem (entries, or a folder inside `work` archived as it is);
   * `work` is a scratch dir removed afterwards. */
  build(work: string, progress: (step: string) => void): Promise<LayerEntry[] | string>;
}

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

const GCC_ARGS = ['-static', '-O2'];

const pause: PodImageRecipe = {
  name: PAUSE_IMAGE,
  config: { entrypoint: ['/pause'] },
  sources: [here('./pause/pause.c')],
  inputs: { gcc: GCC_ARGS },
  async build(work, progress) {
    progress('compiling pause.c');
    const out = join(work, 'pause');
    try {
      await run('gcc', [...GCC_ARGS, '-o', out, here('./pause/pause.c')], { what: 'compiling pause.c' });
    } catch (e) {
      // Without libc.a, gcc -static fails at link time with "cannot find -lc".
      if (/cannot find -lc\b/.test((e as Error).message)) {
        throw new ImageBuildError('static libc (libc.a) not found for gcc -static: apt-get install libc6-dev');
      }
      throw e;
    }
    return [{ type: 'file', path: '/pause', mode: 0o755, source: out }];
  },
};

const GO_LDFLAGS = '-s -w';

/** Builds one standard-library-only Go program, in a copy with its own go.mod (the repo holds none). */
async function goProgram(name: string, source: string, work: string, progress: (step: string) => void): Promise<string> {
  const src = join(work, `${name}-src`);
  await mkdir(src);
  await copyFile(source, join(src, 'main.go'));
  await writeFile(join(src, 'go.mod'), `module hardway.local/${name}\n\ngo 1.22\n`);
  // GOTOOLCHAIN=local: an older go would otherwise try to download a newer toolchain, which fails here.
  const env = { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };
  const version = (await run('go', ['env', 'GOVERSION'], { env, what: 'go env GOVERSION' })).trim();
  const m = /^go(\d+)\.(\d+)/.exec(version);
  if (m && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 22))) {
    throw new ImageBuildError(`${version} is too old for ${name}: put a Go toolchain >= 1.22 on PATH`);
  }
  progress(`building ${name} (${version})`);
  const out = join(work, name);
  await run('go', ['build', '-trimpath', '-ldflags', GO_LDFLAGS, '-o', out, '.'], { cwd: src, env, what: `go build ${name}` });
  return out;
}

const toolbox: PodImageRecipe = {
  name: TOOLBOX_IMAGE,
  // No entrypoint: a pod's command (kubectl run ... -- ping x) runs as given.
  config: { env: [PATH_ENV], cmd: ['/bin/sh', '-c', 'sleep 3600'] },
  sources: [here('./netrelay/main.go')],
  inputs: { busybox: 'debian busybox-static', applets: TOOLBOX_APPLETS, netrelay: GO_LDFLAGS },
  async build(work, progress) {
    const busybox = await fetchBusybox(work, progress);
    // busybox's small nc has no UDP: netrelay carries DNS queries (and anything else) from pods.
    const netrelay = await goProgram('netrelay', here('./netrelay/main.go'), work, progress);
    const list = new Set((await run(busybox, ['--list'], { what: 'busybox --list' })).split('\n'));
    const missing = TOOLBOX_APPLETS.filter((a) => !list.has(a));
    if (missing.length) throw new ImageBuildError(`busybox at ${busybox} lacks applets ${missing.join(' ')}`);
    return [
      { type: 'file', path: '/bin/busybox', mode: 0o755, source: busybox },
      { type: 'file', path: '/bin/netrelay', mode: 0o755, source: netrelay },
      ...TOOLBOX_APPLETS.map((a): LayerEntry => ({ type: 'symlink', path: `/bin/${a}`, target: 'busybox' })),
      // Scripts starting with "#!/usr/bin/env sh" are common.
      { type: 'symlink', path: '/usr/bin/env', target: '../../bin/busybox' },
      { type: 'dir', path: '/tmp', mode: 0o1777 },
      { type: 'dir', path: '/root', mode: 0o700 },
      // `id`, `whoami` and `ls -l` want names for uid 0 and nobody.
      {
        type: 'file',
        path: '/etc/passwd',
        mode: 0o644,
        content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
      },
      { type: 'file', path: '/etc/group', mode: 0o644, content: 'root:x:0:\nnogroup:x:65534:\n' },
    ];
  },
};

/**
 * Debian's static busybox, without requiring it on the host: the .deb is downloaded and unpacked.
 * Only when apt cannot download does the host's copy serve, and only if it is the static package's.
 */
async function fetchBusybox(work: string, progress: (step: string) => void): Promise<string> {
  const debDir = join(work, 'deb');
  await mkdir(debDir);
  progress('downloading busybox-static (apt-get download)');
  try {
    await run('apt-get', ['download', 'busybox-static'], { cwd: debDir, what: 'apt-get download busybox-static' });
  } catch (e) {
    if (existsSync('/usr/share/doc/busybox-static') && existsSync('/bin/busybox')) {
      progress(`${(e as Error).message}; using the host's /bin/busybox (busybox-static)`);
      return '/bin/busybox';
    }
    throw new ImageBuildError(`${(e as Error).message.replace(/\.$/, '')}: run apt-get update (or apt-get install busybox-static)`);
  }
  const deb = (await readdir(debDir)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new ImageBuildError('apt-get download busybox-static wrote no .deb: run apt-get update');
  const root = join(work, 'busybox-static');
  await run('dpkg-deb', ['-x', join(debDir, deb), root], { what: `dpkg-deb -x ${deb}` });
  const bin = join(root, 'bin', 'busybox');
  if (!existsSync(bin)) throw new ImageBuildError(`${deb} has no /bin/busybox`);
  return bin;
}

const demoApp: PodImageRecipe = {
  name: DEMO_APP_IMAGE,
  config: { env: [PATH_ENV], entrypoint: ['/demo-app'], exposedPorts: ['8000/tcp'] },
  sources: [here('./demo-app/main.go')],
  inputs: { goMod: 'go 1.22', ldflags: GO_LDFLAGS },
  async build(work, progress) {
    const out = await goProgram('demo-app', here('./demo-app/main.go'), work, progress);
    return [{ type: 'file', path: '/demo-app', mode: 0o755, source: out }];
  },
};

/** The pod images, in build order. */
export const POD_IMAGES: readonly PodImageRecipe[] = [pause, toolbox, demoApp];

/**
 * sha256 (hex) of the recipe. Host tool versions (gcc, go, Debian's busybox) are left out on
 * purpose, so that an apt upgrade does not rebuild everything: bump BUILD_VERSION to force one.
 */
export async function recipeKey(recipe: PodImageRecipe): Promise<string> {
  const sources = [];
  // By content only: the same recipe gives the same key wherever the repo is checked out.
  for (const path of recipe.sources) sources.push(sha256(await readFile(path)));
  const key = { BUILD_VERSION, OCI_WRITER_VERSION, name: recipe.name, config: recipe.config, inputs: recipe.inputs, sources };
  return sha256(JSON.stringify(key)).slice('sha256:'.length);
}

/** "hardway.local/pause:1.0" -> "pause-1.0": the file-name stem of its cached tars. */
function stem(name: string): string {
  return name.replace(/^.*\//, '').replace(/[^A-Za-z0-9._-]/g, '-');
}

export interface BuildPodImagesOptions {
  /** Where the image tars are kept between runs (e.g. ~/.cache/hardway/images). */
  cacheDir: string;
  onProgress?: (line: string) => void;
  /** The recipes to build; all of POD_IMAGES by default. */
  images?: readonly PodImageRecipe[];
}

/** Builds (or finds in the cache) every pod image; returns each one's OCI tar for `ctr images import`. */
export async function buildPodImages(opts: BuildPodImagesOptions): Promise<{ name: string; tar: string }[]> {
  await mkdir(opts.cacheDir, { recursive: true });
  const results: { name: string; tar: string }[] = [];
  for (const recipe of opts.images ?? POD_IMAGES) {
    const say = (step: string): void => opts.onProgress?.(`pod image ${recipe.name}: ${step}`);
    const key = await recipeKey(recipe);
    const tar = join(opts.cacheDir, `${stem(recipe.name)}-${key.slice(0, 16)}.tar`);
    if (existsSync(tar)) {
      say(`cached (${tar})`);
    } else {
      const started = Date.now();
      const work = await mkdtemp(join(tmpdir(), `hardway-img-${stem(recipe.name)}-`));
      try {
        const rootfs = await recipe.build(work, say);
        say('writing the OCI image');
        await writeOciImage({ name: recipe.name, config: recipe.config, rootfs }, tar);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      await removeStale(opts.cacheDir, recipe.name, tar);
      say(`built in ${((Date.now() - started) / 1000).toFixed(1)}s (${tar})`);
    }
    results.push({ name: recipe.name, tar });
  }
  return results;
}

/** Drops the tars of this image's older recipes, so the cache does not grow with every change. */
async function removeStale(cacheDir: string, name: string, keep: string): Promise<void> {
  const pattern = new RegExp(`^${stem(name).replace(/\./g, '\\.')}-[0-9a-f]{16}\\.tar$`);
  for (const f of await readdir(cacheDir)) {
    const path = join(cacheDir, f);
    if (pattern.test(f) && path !== keep) await rm(path, { force: true });
  }
}

export { ImageBuildError };
