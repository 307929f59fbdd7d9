// Resolves a --target spec to a Target: "dir:DIR" (a rendered tree, offline) or "lab[:name]"
// (the running lab, over SSH only, like any inventory).
import type { Cluster } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { dirTarget } from './dir.ts';
import { sshTarget } from './ssh.ts';
import { labDir, readLabState } from '../providers/lab/lab.ts';
import { PKI_DIR } from '../render/render.ts';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Target, TargetError } from './target.ts';

export interface TargetOptions {
  /** cluster.yaml for targets that do not carry their own model (dir:). */
  config?: string;
}

function dirOf(spec: string): string | undefined {
  return spec.startsWith('dir:') ? resolve(spec.slice(4)) : undefined;
}

const UNKNOWN = (spec: string) => `unknown target "${spec}"; use dir:<rendered tree> or lab (a running lab: hardway lab up)`;

function labName(spec: string): string | undefined {
  if (spec === 'lab') return 'lab';
  return spec.startsWith('lab:') ? spec.slice(4) : undefined;
}

function labState(spec: string, name: string) {
  const state = readLabState(name);
  if (!state) throw new TargetError(`${spec}: no running lab named "${name}"; fix: start it with hardway lab up`);
  return state;
}

/** The cluster model of a target, read synchronously (Playwright needs it to list tests). */
export function loadTargetCluster(spec: string, opts: TargetOptions): Cluster {
  if (dirOf(spec)) {
    if (!opts.config) throw new TargetError(`${spec}: a dir: target needs the cluster model; pass --config <cluster.yaml>`);
    return loadCluster(opts.config);
  }
  const lab = labName(spec);
  if (lab) return loadCluster(opts.config ?? labState(spec, lab).config);
  throw new TargetError(UNKNOWN(spec));
}

export async function openTarget(spec: string, opts: TargetOptions): Promise<Target> {
  const dir = dirOf(spec);
  if (dir) return dirTarget(spec, dir, loadTargetCluster(spec, opts));
  const lab = labName(spec);
  if (lab) {
    const state = labState(spec, lab);
    const cluster = loadTargetCluster(spec, opts);
    // The token the installer rendered: what the lab's operator "knows" (kept in the lab's folder).
    const apiserverToken = async () => (await readFile(join(labDir(lab), 'rendered', PKI_DIR, 'token'), 'utf8').catch(() => undefined))?.trim();
    return sshTarget(spec, cluster, state.hosts.filter((h) => h.role !== 'edge').map((h) => h.ssh), true, { apiserverToken });
  }
  throw new TargetError(UNKNOWN(spec));
}
