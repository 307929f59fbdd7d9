// Resolves a --target spec to a Target: "dir:DIR" (a rendered tree, offline), "lab[:name]"
// (the running lab, over SSH only, like any inventory), or an inventory: "prod" is
// targets/prod.yaml, a path names an inventory file, "ansible:<path>" an Ansible inventory.
import type { Cluster } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { dirSpecPath, dirTarget } from './dir.ts';
import { sshTarget } from './ssh.ts';
import { labDir, readLabState } from '../providers/lab/lab.ts';
import { PKI_DIR } from '../render/render.ts';
import { readFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { provisionalCluster } from '../model/provisional.ts';
import { type Target, TargetError } from './target.ts';
import { type Inventory, inventoryCluster, inventoryEndpoints, readInventory, resolveInventorySpec } from './inventory.ts';

export interface TargetOptions {
  /** cluster.yaml for targets that do not carry their own model (dir:); overrides an inventory's. */
  config?: string;
  /** Folder relative specs are resolved against (the user's, also inside Playwright workers). */
  cwd?: string;
}

function dirOf(spec: string, opts: TargetOptions): string | undefined {
  return spec.startsWith('dir:') ? dirSpecPath(spec, opts.cwd ?? process.cwd()) : undefined;
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

/** The cluster model a target gives (checked, so bad input fails before anything connects), or
 * undefined when it gives none: an inventory without cluster:, a dir: tree without --config. */
export function loadTargetCluster(spec: string, opts: TargetOptions): Cluster | undefined {
  if (dirOf(spec, opts)) return opts.config ? loadCluster(opts.config) : undefined;
  const lab = labName(spec);
  if (lab) return loadCluster(opts.config ?? labState(spec, lab).config);
  return inventoryCluster(inventoryOf(spec, opts), opts.config);
}

/** The folders of a tree that are hosts (DIR/<host>/...; _pki and dotfiles are not). */
function treeHosts(dir: string): { host: string; address: string }[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    names = [];
  }
  return names.map((host) => ({ host, address: host }));
}

export async function openTarget(spec: string, opts: TargetOptions): Promise<Target> {
  const dir = dirOf(spec, opts);
  if (dir) {
    const given = loadTargetCluster(spec, opts);
    return dirTarget(spec, dir, given ?? provisionalCluster(basename(dir), treeHosts(dir)), !!given);
  }
  const lab = labName(spec);
  if (lab) {
    const state = labState(spec, lab);
    const cluster = loadTargetCluster(spec, opts);
    // The token the installer rendered: what the lab's operator "knows" (kept in the lab's folder).
    const apiserverToken = async () =>
      (await readFile(join(labDir(lab), 'rendered', PKI_DIR, 'token'), 'utf8').catch(() => undefined))?.trim();
    return sshTarget(
      spec,
      cluster!,
      true,
      state.hosts.filter((h) => h.role !== 'edge').map((h) => h.ssh),
      true,
      { apiserverToken },
      { renderedDir: join(labDir(lab), 'rendered') },
    );
  }
  // An inventory: hosts hardway did not create (or the lab addressed as if it were prod).
  const inv = inventoryOf(spec, opts);
  const given = inventoryCluster(inv, opts.config);
  const cluster =
    given ??
    provisionalCluster(
      inv.name,
      inv.hosts.map((h) => ({ host: h.name, address: h.address, role: h.role })),
    );
  const local = (path: string) => async () => (await readFile(path, 'utf8')).trim() || undefined;
  const kubeconfig = inv.kubeconfig;
  const token = inv.apiserverTokenFile;
  return sshTarget(
    spec,
    cluster,
    !!given,
    inventoryEndpoints(inv),
    false,
    {
      ...(kubeconfig ? { kubeconfig: async () => readFile(kubeconfig, 'utf8') } : {}),
      ...(token ? { apiserverToken: local(token) } : {}),
    },
    {
      preflight: true,
      accepted: inv.accept,
      domains: inv.domains,
      ...(inv.images ? { images: inv.images } : {}),
      ...(inv.probeName ? { probeName: inv.probeName } : {}),
      localFiles: [
        ...(kubeconfig
          ? [
              {
                path: kubeconfig,
                what: 'the kubeconfig',
                fix: `correct kubeconfig: in ${inv.file}, or leave it out to read /root/.kube/config on the first master`,
              },
            ]
          : []),
        ...(token ? [{ path: token, what: 'the apiserver token file', fix: `correct apiserverTokenFile: in ${inv.file}` }] : []),
      ],
    },
  );
}
