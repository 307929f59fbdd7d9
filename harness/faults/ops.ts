// What faults do to the lab, through the host's init system and SSH only: stop, start and restart
// a component (waiting for its own health signal), put a file back from the rendering, run kubectl
// on the master, and wait for the exact signal that a fault took effect.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { healthSignal } from '../installer/health.ts';
import { layoutFor } from '../layouts/index.ts';
import type { FaultEnv } from './fault.ts';

export async function stop(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(env.init(host).stop(unit));
}

/** Waits for the component's own health signal (the installer's, see installer/health.ts). */
export async function healthy(env: FaultEnv, host: string, unit: string, timeoutMs?: number): Promise<void> {
  const h = healthSignal(env.cluster, unit);
  await env.host(host).waitFor(unit, h.signal, h.command, timeoutMs);
}

export async function start(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(env.init(host).start(unit));
  await healthy(env, host, unit);
}

/**
 * A restart without the old process's graceful shutdown: kube-apiserver waits its full
 * --request-timeout (60 s) for open watches before it exits (Go's http.Server.Shutdown), which the
 * faults do not test. Killed, then started on the new configuration, as after a crash.
 */
export async function restartNow(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(`${env.init(host).reload()} && { ${env.init(host).kill(unit)}; }`);
  await start(env, host, unit);
}

/** A stop without the graceful shutdown (see restartNow). */
export async function stopNow(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(env.init(host).kill(unit));
}

export async function restart(env: FaultEnv, host: string, unit: string): Promise<void> {
  await env.host(host).run(env.init(host).restart(unit));
  await healthy(env, host, unit);
}

/** Puts a file back from the rendered tree (the installer's source of truth). */
export async function restoreFile(env: FaultEnv, host: string, path: string, mode = 0o644): Promise<void> {
  await env.host(host).ssh.writeFile(path, await readFile(join(env.renderedDir, host, path)), mode);
}

/** kubectl on the master with the admin's credentials, as the layout's operator runs it. */
export function kubectl(env: FaultEnv, args: string, stdin?: string): Promise<string> {
  return env
    .host(env.master)
    .run(`${layoutFor(env.cluster).kubectl} ${args}`, { timeoutMs: 300_000, ...(stdin !== undefined ? { stdin } : {}) });
}

/** Waits until a lease has not been renewed for `ageS` seconds (its holder is gone). */
export async function leaseStale(env: FaultEnv, namespace: string, name: string, ageS: number, timeoutMs = 120_000): Promise<void> {
  const cmd = `t=$(${layoutFor(env.cluster).kubectl} -n ${namespace} get lease ${name} -o jsonpath='{.spec.renewTime}') && [ $(( $(date +%s) - $(date -d "$t" +%s) )) -gt ${ageS} ]`;
  await env.host(env.master).waitFor('kube-apiserver', `lease ${namespace}/${name} older than ${ageS} s`, cmd, timeoutMs);
}

/** Waits until a lease was renewed within `ageS` seconds (its holder is back after a restart). */
export async function leaseFresh(env: FaultEnv, namespace: string, name: string, ageS = 5, timeoutMs = 120_000): Promise<void> {
  const cmd = `t=$(${layoutFor(env.cluster).kubectl} -n ${namespace} get lease ${name} -o jsonpath='{.spec.renewTime}') && [ $(( $(date +%s) - $(date -d "$t" +%s) )) -le ${ageS} ]`;
  await env.host(env.master).waitFor('kube-apiserver', `lease ${namespace}/${name} renewed within ${ageS} s`, cmd, timeoutMs);
}

/** After an apiserver restart the controller manager and the scheduler lose and take back their
 * leader leases: waits until both renew them again, and until the controller manager's controllers
 * work again (a leader whose informers still sync renews its lease but gives a new namespace no
 * ServiceAccount yet). */
export async function leadersBack(env: FaultEnv): Promise<void> {
  await Promise.all([leaseFresh(env, 'kube-system', 'kube-controller-manager'), leaseFresh(env, 'kube-system', 'kube-scheduler')]);
  const ns = `hardway-fault-sa-probe-${Date.now().toString(36)}`;
  const k = layoutFor(env.cluster).kubectl;
  try {
    await kubectl(env, `create namespace ${ns}`);
    await env
      .host(env.master)
      .waitFor(
        'kube-controller-manager',
        `namespace ${ns} given its default ServiceAccount`,
        `${k} -n ${ns} get serviceaccount default`,
        120_000,
      );
  } finally {
    await kubectl(env, `delete namespace ${ns} --wait=false --ignore-not-found`).catch(() => undefined);
  }
}

/** Waits until a node is NotReady (the node controller noticed its kubelet is gone). */
export async function nodeNotReady(env: FaultEnv, node: string, timeoutMs = 120_000): Promise<void> {
  await env
    .host(env.master)
    .waitFor(
      'kube-controller-manager',
      `node ${node} NotReady`,
      `[ "$(${layoutFor(env.cluster).kubectl} get node ${node} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" != True ]`,
      timeoutMs,
    );
}

/** Waits until every worker's node is Ready again (after kubelet faults). */
export async function nodesReady(env: FaultEnv): Promise<void> {
  const names = env.cluster.workers.map((w) => w.nodeName);
  await env
    .host(env.master)
    .waitFor(
      'kubelet',
      `nodes ${names.join(', ')} Ready`,
      names
        .map(
          (n) =>
            `${layoutFor(env.cluster).kubectl} get node ${n} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True`,
        )
        .join(' && '),
      120_000,
    );
}

export const systemdUnit = (name: string) => `/etc/systemd/system/${name}.service`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
