// A minimal OCI image-layout writer: one layer, linux/amd64, packed as the .tar that
// `ctr images import` takes. Needed because no registry is reachable: pod images are built here.
// Layer and outer tar come from GNU tar with fixed owner, mtime and order, so the same rootfs
// always gives the same digests (and the same image id on every node).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { ImageBuildError, run } from './run.ts';

/** Bump when the bytes this module writes change, so that cached images are rebuilt. */
export const OCI_WRITER_VERSION = 1;

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** One path of the image's filesystem; `path` is absolute inside the image ("/bin/sh"). */
export type LayerEntry =
  | { type: 'file'; path: string; mode: number; source: string }
  | { type: 'file'; path: string; mode: number; content: string | Uint8Array }
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string };

/** The runtime part of the image config (OCI names, lower-cased). */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  /** "8000/tcp" */
  exposedPorts?: string[];
  workingDir?: string;
  /** "uid[:gid]" the container runs as (absent: root). */
  user?: string;
}

export interface OciImageSpec {
  /** Full reference, e.g. "hardway.local/pause:1.0". */
  name: string;
  config: ImageConfig;
  /** A directory to use as the filesystem as it is, or the list of entries to create. */
  rootfs: string | LayerEntry[];
}

export interface WrittenImage {
  tar: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
}

/** Options that make GNU tar's output depend on the file contents and modes only. */
const REPRODUCIBLE_TAR = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=gnu'];

/** "registry/repo:tag" -> its tag ("latest" when there is none; a ":port" is not a tag). */
export function imageTag(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : 'latest';
}

export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Creates `entries` below `root`, with exactly the given modes (not those the umask leaves). */
export async function materialize(root: string, entries: LayerEntry[]): Promise<void> {
  await mkdir(root, { recursive: true });
  // The root is not archived (see writeOciImage) but keep it world-readable for the members' sake.
  await chmod(root, 0o755);
  for (const e of entries) {
    const rel = posix.normalize(e.path).replace(/^\/+/, '');
    if (!rel || rel === '.' || e.path.split('/').includes('..')) {
      throw new ImageBuildError(`invalid image path ${JSON.stringify(e.path)}`);
    }
    const dest = join(root, rel);
    await mkdir(dirname(dest), { recursive: true, mode: 0o755 });
    if (e.type === 'dir') {
      await mkdir(dest, { recursive: true });
      await chmod(dest, e.mode);
    } else if (e.type === 'symlink') {
      await symlink(e.target, dest);
    } else {
      if ('source' in e) await copyFile(e.source, dest);
      else await writeFile(dest, e.content);
      await chmod(dest, e.mode);
    }
  }
}

/** Writes `spec` as an OCI image-layout tarball at `out`, atomically. */
export async function writeOciImage(spec: OciImageSpec, out: string): Promise<WrittenImage> {
  const work = await mkdtemp(join(tmpdir(), 'hardway-oci-'));
  try {
    let root: string;
    if (typeof spec.rootfs === 'string') {
      root = spec.rootfs;
    } else {
      root = join(work, 'rootfs');
      await materialize(root, spec.rootfs);
    }
    // Archive the top-level names rather than ".": a "./" member would impose the build dir's
    // mode and owner on the container's "/".
    const members = (await readdir(root)).sort();
    if (members.length === 0) throw new ImageBuildError(`image ${spec.name}: empty rootfs`);

    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const layerTmp = join(blobs, 'layer.tmp');
    await run('tar', ['-C', root, ...REPRODUCIBLE_TAR, '-cf', layerTmp, '--', ...members], {
      what: `image ${spec.name}: creating the layer tar`,
    });
    const layerDigest = await sha256File(layerTmp);
    const layerSize = (await stat(layerTmp)).size;
    await rename(layerTmp, join(blobs, layerDigest.slice('sha256:'.length)));

    const c = spec.config;
    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: {
        ...(c.env ? { Env: c.env } : {}),
        ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
        ...(c.cmd ? { Cmd: c.cmd } : {}),
        ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
        ...(c.user ? { User: c.user } : {}),
        ...(c.exposedPorts ? { ExposedPorts: Object.fromEntries(c.exposedPorts.map((p) => [p, {}])) } : {}),
      },
      // Uncompressed layer: its digest is also its diff_id.
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
    };
    const configBlob = await writeBlob(blobs, JSON.stringify(config));
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: MEDIA_TYPES.layer, digest: layerDigest, size: layerSize }],
    };
    const manifestBlob = await writeBlob(blobs, JSON.stringify(manifest));
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [
        {
          mediaType: MEDIA_TYPES.manifest,
          digest: manifestBlob.digest,
          size: manifestBlob.size,
          platform: { architecture: 'amd64', os: 'linux' },
          // containerd names the imported image after the first; other tools read the second.
          annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': imageTag(spec.name) },
        },
      ],
    };
    await writeFile(join(layout, 'index.json'), JSON.stringify(index));
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

    await mkdir(dirname(out), { recursive: true });
    // A unique name then a rename: concurrent builds of the same image never see a partial tar.
    const partial = `${out}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await run('tar', ['-C', layout, ...REPRODUCIBLE_TAR, '-cf', partial, 'blobs', 'index.json', 'oci-layout'], {
        what: `image ${spec.name}: packing the image tar`,
      });
      await rename(partial, out);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    return { tar: out, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest, layerDigest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeBlob(blobs: string, content: string): Promise<{ digest: string; size: number }> {
  const digest = sha256(content);
  await writeFile(join(blobs, digest.slice('sha256:'.length)), content);
  return { digest, size: Buffer.byteLength(content) };
}
