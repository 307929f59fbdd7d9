// The render folder rules. hardway writes OUT/<host>/... and OUT/_pki/... and remembers every
// file it wrote in OUT/.hardway-render.json; it never deletes or overwrites a file it did not
// write, refuses a non-empty folder that is not a rendering, and holds OUT/.hardway-render.lock
// while it works so that two renders into one folder cannot mix two CAs.
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  accessSync,
  constants,
} from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const MANIFEST = '.hardway-render.json';
export const LOCK = '.hardway-render.lock';
/** A rendering made before manifests existed is recognised by its CA. */
const LEGACY_MARKERS = ['_pki/ca.pem', '_pki/ca-key.pem'];
const KERNEL_FS = ['/proc', '/sys', '/dev'];

export class OutDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutDirError';
  }
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** One line for a failed write, by cause. */
export function writeProblem(path: string, e: unknown, flag = '--out'): OutDirError {
  const code = errno(e);
  const why: Record<string, string> = {
    EROFS: `is on a read-only file system; fix: choose a ${flag} folder on a writable disk`,
    EACCES: `is not writable by this user (uid ${process.getuid?.() ?? '?'}); fix: choose a ${flag} folder you can write, or fix its permissions`,
    EPERM: `is not writable (operation not permitted); fix: choose another ${flag} folder`,
    ENOSPC: 'cannot be written: the disk is full; fix: free space or choose another folder',
    EDQUOT: 'cannot be written: the disk quota is exhausted; fix: free space or choose another folder',
    ENOTDIR: `lies below a file, not a folder; fix: choose another ${flag} folder`,
    EISDIR: 'is a folder where hardway writes a file; fix: move it away',
  };
  return new OutDirError(`${path} ${why[code] ?? `cannot be written (${code}); fix: choose another ${flag} folder`}`);
}

/** The nearest existing ancestor of `p` (p itself when it exists). */
function existingAncestor(p: string): string {
  let cur = p;
  while (!existsSync(cur) && dirname(cur) !== cur) cur = dirname(cur);
  return cur;
}

/**
 * Checks that `dir` can be an output folder before anything is written: not under a kernel file
 * system (/proc would hang or fail mid-way), not a file, and writable. One line, exit code 2.
 */
export function checkOutDir(dir: string, flag = '--out'): string {
  const abs = resolve(dir);
  const anc = existingAncestor(abs);
  let real = anc;
  try {
    real = realpathSync(anc);
  } catch {
    /* a dangling symlink: reported below as not a folder */
  }
  const under = (root: string, p: string) => p === root || p.startsWith(root + sep);
  const kfs = KERNEL_FS.find((k) => under(k, abs) || under(k, real));
  if (kfs)
    throw new OutDirError(
      `${flag} ${dir}: is under ${kfs}, a kernel file system, not a folder on disk; fix: choose a folder on disk (e.g. ./rendered)`,
    );
  let st;
  try {
    st = statSync(anc);
  } catch (e) {
    throw new OutDirError(`${flag} ${dir}: ${anc} cannot be read (${errno(e)}); fix: choose another folder`);
  }
  if (!st.isDirectory()) {
    throw new OutDirError(
      anc === abs
        ? `${flag} ${dir}: is a file, not a folder; fix: choose a folder (a new or empty one, or an earlier rendering)`
        : `${flag} ${dir}: ${anc} is a file, so the folder cannot be created below it; fix: choose another folder`,
    );
  }
  try {
    accessSync(anc, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new OutDirError(`${flag} ${dir}: ${writeProblem(anc, e, flag).message}`);
  }
  return abs;
}

// ---------------------------------------------------------------------------------------------
// The lock

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `fn` holding OUT's lock; waits for a live holder up to `waitMs`, takes over a dead one's. */
export async function withOutDirLock<T>(dir: string, fn: () => Promise<T>, opts: { waitMs?: number } = {}): Promise<T> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw writeProblem(dir, e);
  }
  const file = join(dir, LOCK);
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw writeProblem(dir, e);
    }
    const holder = readLock(file);
    // A lock from a process that is gone (killed mid-render) is stale; one being written is not.
    if (holder && holder.host === me.host && !alive(holder.pid)) {
      try {
        unlinkSync(file);
      } catch {
        /* another render removed it first */
      }
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder ? `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}` : 'another process';
      throw new OutDirError(
        `${dir}: another hardway render (${who}) is writing this folder; fix: wait for it to finish, or remove ${file} if no render runs`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    if (readLock(file)?.pid === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The manifest

interface Manifest {
  hardway: 'render';
  files: string[];
}

/** The files the manifest of `dir` lists (undefined: no manifest). */
export function readManifest(dir: string): Set<string> | undefined {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (
      m.hardway !== 'render' ||
      !Array.isArray(m.files) ||
      !m.files.every((f) => typeof f === 'string' && !f.startsWith('/') && !f.split('/').includes('..'))
    )
      throw new Error('wrong shape');
    return new Set(m.files);
  } catch (e) {
    throw new OutDirError(`${file}: not a hardway render manifest (${(e as Error).message}); fix: restore it, or render into a new folder`);
  }
}

async function writeManifest(dir: string, files: Iterable<string>): Promise<void> {
  const m: Manifest = { hardway: 'render', files: [...new Set(files)].sort() };
  await writeFile(join(dir, MANIFEST), `${JSON.stringify(m, null, 1)}\n`);
}

function listFiles(dir: string, rel = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, p) : [p];
  });
}

export interface OutFile {
  /** Relative to OUT, '/'-separated. */
  path: string;
  content: string;
  mode: number;
}

/** What a rendering into `dir` may write and delete; refuses before anything changes. */
export function planOut(dir: string, wanted: string[]): { previous: Set<string>; legacy: boolean } {
  const top = existsSync(dir) ? readdirSync(dir).filter((n) => n !== LOCK) : [];
  let previous = readManifest(dir);
  let legacy = false;
  if (!previous) {
    if (LEGACY_MARKERS.some((m) => existsSync(join(dir, m)))) {
      // Rendered before manifests: the paths hardway renders were its own; nothing else is touched.
      legacy = true;
      previous = new Set(wanted.filter((p) => existsSync(join(dir, p))));
    } else if (top.length) {
      const shown = top.slice(0, 3).join(', ') + (top.length > 3 ? `, ... (${top.length} entries)` : '');
      throw new OutDirError(
        `${dir}: is not empty (${shown}) and holds no hardway rendering (no ${MANIFEST}); render never mixes its files with others; fix: render into a new or empty folder`,
      );
    } else previous = new Set();
  }
  for (const p of wanted) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      const abs = join(dir, sub);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        break; // nothing there yet: the rest is created
      }
      const last = i === parts.length;
      if (!last && !st.isDirectory() && !previous.has(sub)) {
        throw new OutDirError(
          `${abs}: is a ${st.isSymbolicLink() ? 'symbolic link' : 'file'} hardway did not write, where it renders a folder; fix: move it away (render never deletes files it did not write)`,
        );
      }
      if (last && (st.isDirectory() || st.isSymbolicLink() || !previous.has(sub))) {
        throw new OutDirError(
          `${abs}: exists and hardway did not write it (it would be overwritten); fix: move it away, or render into a new folder`,
        );
      }
    }
  }
  return { previous, legacy };
}

/**
 * Writes `files` into `dir` under the folder rules: the manifest first lists what is about to be
 * written (so an interrupted render still knows its files), then the files, then files of the
 * previous rendering that are no longer rendered are removed, then the final manifest.
 */
export async function writeOutDir(dir: string, files: OutFile[]): Promise<{ removed: string[] }> {
  const wanted = files.map((f) => f.path);
  const { previous } = planOut(dir, wanted);
  try {
    await writeManifest(dir, [...previous, ...wanted]);
    for (const f of files) {
      const abs = join(dir, f.path);
      await mkdir(dirname(abs), { recursive: true });
      // A file previously written by hardway is replaced; ancestors that were its files are too.
      await writeFile(abs, f.content, { mode: f.mode });
      await chmod(abs, f.mode); // writeFile's mode applies only to new files
    }
  } catch (e) {
    if (e instanceof OutDirError) throw e;
    throw writeProblem(dir, e);
  }
  const keep = new Set(wanted);
  const removed: string[] = [];
  for (const p of previous) {
    if (keep.has(p)) continue;
    const abs = join(dir, p);
    try {
      if (!lstatSync(abs).isFile()) continue;
      unlinkSync(abs);
      removed.push(p);
    } catch {
      continue; // already gone
    }
    // Folders it leaves empty go too, up to OUT; a folder holding anything else stays.
    for (let d = dirname(abs); relative(dir, d) && !relative(dir, d).startsWith('..'); d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  }
  await writeManifest(dir, wanted);
  return { removed };
}

/** Files of a rendering folder other than the manifest and lock (for tests and messages). */
export function renderedFiles(dir: string): string[] {
  return listFiles(dir)
    .filter((p) => p !== MANIFEST && p !== LOCK)
    .sort();
}
