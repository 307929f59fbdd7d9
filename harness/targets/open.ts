// Resolves a --target spec to a Target: "dir:DIR" (a rendered tree, offline), "lab[:name]"
// (the running lab, over SSH only, like any inventory), or an inventory: "prod" is
// targets/prod.yaml, a path names an inventory file, "ansible:<path>" an Ansible inventory.
import type { Cluster } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { dirTarget } from './dir.ts';
import { sshTarget } from './ssh.ts';
import { labDir, readLabState } from '../providers/lab/lab.ts';
import { PKI_DIR } from '../render/render.ts';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Target, TargetError } from './target.ts';
import { type Inventory, inventoryCluster, inventoryEndpoints, readInventory, resolveInventorySpec } from './inventory.ts';

export interface TargetOptions {
  /** cluster.yaml for targets that do not carry their own model (dir:); overrides an inventory's. */
  config?: string;
  /** Folder relative specs are resolved against (the user's, also inside Playwright workers). */
  cwd?: string;
}

function dirOf(spec: string, opts: TargetOptions): string | undefined {
  return spec.startsWith('dir:') ? resolve(opts.cwd ?? process.cwd(), spec.slice(4)) : undefined;
}

function inventoryOf(spec: string, opts: TargetOptions): Inventory {
  return readInventory(resolveInventorySpec(spec, opts.cwd ?? process.cwd()));
}

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
  if (dirOf(spec, opts)) {
    if (!opts.config) throw new TargetError(`${spec}: a dir: target needs the cluster model; pass --config <cluster.yaml>`);
    return loadCluster(opts.config);
  }
  const lab = labName(spec);
  if (lab) return loadCluster(opts.config ?? labState(spec, lab).config);
  return inventoryCluster(inventoryOf(spec, opts), opts.config);
}

export async function openTarget(spec: string, opts: TargetOptions): Promise<Target> {
  const dir = dirOf(spec, opts);
  if (dir) return dirTarget(spec, dir, loadTargetCluster(spec, opts));
  const lab = labName(spec);
  if (lab) {
    const state = labState(spec, lab);
    const cluster = loadTargetCluster(spec, opts);
    // The token the installer rendered: what the lab's operator "knows" (kept in the lab's folder).
    const apiserverToken = async () => (await readFile(join(labDir(lab), 'rendered', PKI_DIR, 'token'), 'utf8').catch(() => undefined))?.trim();
    return sshTarget(spec, cluster, state.hosts.filter((h) => h.role !== 'edge').map((h) => h.ssh), true, { apiserverToken });
  }
  // An inventory: hosts hardway did not create (or the lab addressed as if it were prod).
  const inv = inventoryOf(spec, opts);
  const cluster = inventoryCluster(inv, opts.config);
  const local = (path: string) => async () => (await readFile(path, 'utf8')).trim() || undefined;
  const kubeconfig = inv.kubeconfig;
  const token = inv.apiserverTokenFile;
  return sshTarget(spec, cluster, inventoryEndpoints(inv), false, {
    ...(kubeconfig ? { kubeconfig: async () => readFile(kubeconfig, 'utf8') } : {}),
    ...(token ? { apiserverToken: local(token) } : {}),
  }, {
    preflight: true,
    accepted: inv.accept,
    domains: inv.domains,
    localFiles: [
      ...(kubeconfig ? [{ path: kubeconfig, what: 'the kubeconfig', fix: `correct kubeconfig: in ${inv.file}, or leave it out to read /root/.kube/config on the first master` }] : []),
      ...(token ? [{ path: token, what: 'the apiserver token file', fix: `correct apiserverTokenFile: in ${inv.file}` }] : []),
    ],
  });
}
