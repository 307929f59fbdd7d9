// Helpers for lab tests that address the lab as if it were a cluster hardway did not create:
// through an inventory file over SSH (hardway lab inventory), plus direct SSH to set up and
// restore what a test breaks.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { labInventory } from '../cli/commands/lab.ts';
import type { Cluster } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { type LabState, labDir, readLabState } from '../providers/lab/lab.ts';
import { SshSession } from '../ssh/session.ts';
import type { ExecResult } from '../targets/target.ts';

export const REPO = resolve(import.meta.dirname, '../..');

export interface Lab {
  config: string;
  cluster: Cluster;
  state: LabState;
  /** ~/.cache/hardway/labs/<name>: key, known_hosts, rendered tree. */
  dir: string;
}

export function openLab(config: string): Lab {
  const cluster = loadCluster(config);
  const state = readLabState(cluster.name);
  if (!state) throw new Error(`no running lab "${cluster.name}" (the lab project's globalSetup boots it)`);
  return { config, cluster, state, dir: labDir(cluster.name) };
}

/** The inventory `hardway lab inventory` prints, as an object to adjust before writing it. */
export function inventoryDoc(lab: Lab): Record<string, unknown> & { hosts: Record<string, unknown>[]; ssh: Record<string, unknown> } {
  return parse(labInventory(lab.state, lab.cluster)) as ReturnType<typeof inventoryDoc>;
}

export function writeInventory(file: string, doc: unknown): string {
  writeFileSync(file, stringify(doc));
  return file;
}

export async function onHost(lab: Lab, host: string, command: string, timeoutMs = 120_000): Promise<ExecResult> {
  const h = lab.state.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`the lab has no host ${host}`);
  const s = await SshSession.connect(h.ssh);
  try {
    return await s.exec(command, { timeoutMs });
  } finally {
    s.close();
  }
}

/** Runs a command and fails loudly when it fails (for set-up and restore steps). */
export async function must(lab: Lab, host: string, command: string, timeoutMs = 120_000): Promise<string> {
  const r = await onHost(lab, host, command, timeoutMs);
  if (r.code !== 0) throw new Error(`${host}: ${command.slice(0, 120)} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout;
}

export function hardway(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(join(REPO, 'bin/hardway'), args, { cwd: opts.cwd ?? REPO, env: { ...process.env, NO_COLOR: '1', ...opts.env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => res({ code: code ?? -1, out, err }));
  });
}

/** Polls until `probe` returns true; throws with `what` after the time is up. */
export async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The cluster is back to normal: apiserver ready, every worker Ready. */
export async function clusterHealthy(lab: Lab, timeoutMs = 120_000): Promise<void> {
  await waitUntil('the apiserver and every node to be ready', timeoutMs, async () => {
    const r = await onHost(
      lab,
      'master',
      `kubectl get --raw /readyz && kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}'`,
      30_000,
    );
    return (
      r.code === 0 &&
      r.stdout.startsWith('ok') &&
      r.stdout.slice(2).trim().split(' ').filter(Boolean).length === lab.cluster.workers.length &&
      !/False|Unknown/.test(r.stdout)
    );
  });
}
