// Resolves a --target spec to a Target: "dir:DIR" (a rendered tree, offline) for now; live
// targets (the lab, inventories over SSH) register here too.
import { resolve } from 'node:path';
import type { Cluster } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { dirTarget } from './dir.ts';
import { type Target, TargetError } from './target.ts';

export interface TargetOptions {
  /** cluster.yaml for targets that do not carry their own model (dir:). */
  config?: string;
}

function dirOf(spec: string): string | undefined {
  return spec.startsWith('dir:') ? resolve(spec.slice(4)) : undefined;
}

/** The cluster model of a target, read synchronously (Playwright needs it to list tests). */
export function loadTargetCluster(spec: string, opts: TargetOptions): Cluster {
  if (dirOf(spec)) {
    if (!opts.config) throw new TargetError(`${spec}: a dir: target needs the cluster model; pass --config <cluster.yaml>`);
    return loadCluster(opts.config);
  }
  throw new TargetError(`unknown target "${spec}"; use dir:<rendered tree>`);
}

export async function openTarget(spec: string, opts: TargetOptions): Promise<Target> {
  const dir = dirOf(spec);
  if (dir) return dirTarget(spec, dir, loadTargetCluster(spec, opts));
  throw new TargetError(`unknown target "${spec}"; use dir:<rendered tree>`);
}
