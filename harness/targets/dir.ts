// `dir:DIR` target: a rendered tree (DIR/<host>/<absolute path>), verified offline.
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Cluster } from '../model/cluster.ts';
import { type HostAccess, type Target, TargetError } from './target.ts';

/** Symbolic links followed per path at most, as Linux's ELOOP limit. */
const MAX_LINKS = 40;

/**
 * Where `path` (absolute on the host) lies in the host's tree `root`, resolved as the host itself
 * would resolve it, as if chrooted there: an absolute link target starts again at `root` (a copy
 * of a host's /etc links to the host's /var, not this machine's), and ".." stops at `root`. So no
 * file outside the tree is ever read. Undefined when a link loops.
 */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  const todo = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    const st = await lstat(here).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      done.push(part); // a missing part stays missing: the read answers ENOENT
      continue;
    }
    if (++links > MAX_LINKS) return undefined;
    const target = await readlink(here);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter(Boolean));
  }
  return join(root, ...done);
}

class DirHost implements HostAccess {
  readonly host: string;
  private readonly root: string;
  constructor(root: string, host: string) {
    this.root = root;
    this.host = host;
  }
  async readFile(path: string): Promise<string | undefined> {
    const local = await resolveInRoot(this.root, path);
    if (!local) throw new Error(`${this.host}:${path}: too many levels of symbolic links`);
    try {
      return await readFile(local, 'utf8');
    } catch (e) {
      if (['ENOENT', 'ENOTDIR'].includes(String((e as NodeJS.ErrnoException).code))) return undefined;
      throw e;
    }
  }
  async listFiles(dir: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string) => {
      let entries;
      try {
        const local = await resolveInRoot(this.root, rel);
        if (!local) return;
        entries = await readdir(local, { withFileTypes: true });
      } catch (e) {
        // A missing folder lists nothing; any other failure (a permission) is an error, as on SSH.
        if (['ENOENT', 'ENOTDIR'].includes(String((e as NodeJS.ErrnoException).code))) return;
        throw e;
      }
      // As `find -type f` on a live host: links are not listed (nor walked).
      for (const e of entries) {
        const p = `${rel}/${e.name}`.replace(/\/+/g, '/');
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) out.push(p);
      }
    };
    await walk(dir);
    return out.sort();
  }
}

/** The folder of a "dir:DIR" spec; "dir:" alone would silently mean the current folder. */
export function dirSpecPath(spec: string, cwd: string): string {
  const path = spec.slice(4).trim();
  if (!path)
    throw new TargetError(
      `${spec}: no folder after dir:; fix: name the rendered tree, e.g. --target dir:./rendered (dir:. for the current folder)`,
    );
  return resolve(cwd, path);
}

export function dirTarget(name: string, dir: string, cluster: Cluster, modelGiven = true, renderedDir?: string): Target {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok)
    throw new TargetError(`${name}: ${dir} is not a directory; render one first with: hardway render --config <cluster.yaml> --out ${dir}`);
  return {
    name,
    cluster,
    modelGiven,
    ...(renderedDir ? { renderedDir } : {}),
    live: false,
    ownedByHardway: false,
    host(h: string) {
      return new DirHost(join(dir, h), h);
    },
    async close() {},
  };
}
