// Copies large local files (binaries, image tars) to a host over SSH: skipped when the host already
// has the same content (sha256), else sent gzip-compressed and unpacked on the host (gzip is on
// every Linux host). On this project's 2-core machines SSH's encryption is the bottleneck (about
// 50 MB/s for all hosts together), and Go binaries and image layers shrink to a third or so; the
// compressed copies are made once and kept in the cache, keyed by the content's hash.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants } from 'node:zlib';
import { CACHE_DIR } from '../cache.ts';
import { type Remote, shq } from './remote.ts';

const shaCache = new Map<string, Promise<string>>();
const GZ_DIR = join(CACHE_DIR, 'gz');
/** Hashes of cached files by path, size and mtime: a warm lab up reads 1.3 GB less. */
const SHA_INDEX = join(GZ_DIR, 'sha256-index.json');
let shaIndex: Record<string, { size: number; mtimeMs: number; sha: string }> | undefined;

function indexed(path: string): { key: string; hit?: string } {
  shaIndex ??= (() => {
    try {
      return JSON.parse(readFileSync(SHA_INDEX, 'utf8')) as NonNullable<typeof shaIndex>;
    } catch {
      return {};
    }
  })();
  const st = statSync(path);
  const e = shaIndex[path];
  return { key: path, ...(e && e.size === st.size && e.mtimeMs === st.mtimeMs ? { hit: e.sha } : {}) };
}

function remember(path: string, sha: string): void {
  const st = statSync(path);
  shaIndex![path] = { size: st.size, mtimeMs: st.mtimeMs, sha };
  try {
    mkdirSync(GZ_DIR, { recursive: true });
    const tmp = `${SHA_INDEX}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(shaIndex));
    renameSync(tmp, SHA_INDEX);
  } catch {
    /* an index is only a shortcut */
  }
}

/** sha256 (hex) of a local file, computed once per content (kept by path, size and mtime). */
export function localSha(path: string): Promise<string> {
  if (!shaCache.has(path)) {
    const { hit } = indexed(path);
    shaCache.set(
      path,
      hit
        ? Promise.resolve(hit)
        : new Promise((resolve, reject) => {
            const h = createHash('sha256');
            createReadStream(path)
              .on('data', (d) => h.update(d))
              .on('error', reject)
              .on('end', () => {
                const sha = h.digest('hex');
                remember(path, sha);
                resolve(sha);
              });
          }),
    );
  }
  return shaCache.get(path)!;
}

const gzCache = new Map<string, Promise<string>>();

/** The gzip-compressed copy of a file, made once per content. */
function compressed(path: string): Promise<string> {
  if (!gzCache.has(path)) {
    gzCache.set(
      path,
      (async () => {
        const sha = await localSha(path);
        const gz = join(GZ_DIR, `${sha}.gz`);
        if (existsSync(gz)) return gz;
        mkdirSync(GZ_DIR, { recursive: true });
        const tmp = `${gz}.${process.pid}.partial`;
        try {
          // Level 6: made once and read many times; 100 MB of a Go binary in a few seconds.
          await pipeline(createReadStream(path), createGzip({ level: constants.Z_DEFAULT_COMPRESSION }), createWriteStream(tmp));
          renameSync(tmp, gz);
        } finally {
          rmSync(tmp, { force: true });
        }
        return gz;
      })(),
    );
    gzCache.get(path)!.catch(() => gzCache.delete(path));
  }
  return gzCache.get(path)!;
}

/** Copies `local` to `remote` (mode, parent folders made, replaced atomically) unless it is already there. */
export async function uploadIfChanged(r: Remote, local: string, remote: string, mode: number): Promise<boolean> {
  const [want, have] = await Promise.all([localSha(local), r.ssh.exec(`sha256sum ${shq(remote)} 2>/dev/null`)]);
  if (have.code === 0 && have.stdout.startsWith(want)) return false;
  const gz = await compressed(local);
  const dir = remote.replace(/\/[^/]*$/, '') || '/';
  const tmp = `${remote}.hardway-tmp`;
  // gzip checks what it unpacked (CRC-32 and length) before the file replaces the old one.
  await r.run(
    `mkdir -p ${shq(dir)} && gzip -dc > ${shq(tmp)} && chmod ${mode.toString(8)} ${shq(tmp)} && mv -f ${shq(tmp)} ${shq(remote)}`,
    { stdin: createReadStream(gz), timeoutMs: 600_000 },
  );
  return true;
}
