// `dir:DIR` target: a rendered tree (DIR/<host>/<absolute path>), verified offline.
import { readFile, readdir } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Cluster } from '../model/cluster.ts';
import { type HostAccess, type Target, TargetError } from './target.ts';

class DirHost implements HostAccess {
  readonly host: string;
  private readonly root: string;
  constructor(root: string, host: string) {
    this.root = root;
    this.host = host;
  }
  async readFile(path: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.root, path), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  async listFiles(dir: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string) => {
      let entries;
      try {
        entries = await readdir(join(this.root, rel), { withFileTypes: true });
      } catch {
        return;
      }
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
