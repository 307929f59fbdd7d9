// Kubernetes API access for checks (@kubernetes/client-node), as the seed's user machine has it:
// with the admin kubeconfig. It is read from the first master over SSH (/root/.kube/config,
// where the installer put it) unless the target names one, and kept in memory only; its key and
// certificate data are registered with the redactor so they can never reach a report.
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ADMIN_KUBECONFIG } from '../pki/plan.ts';
import { registerSecret } from '../report/redact.ts';
import type { CheckContext } from './check.ts';

export interface Kube {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  coordination: k8s.CoordinationV1Api;
  discovery: k8s.DiscoveryV1Api;
  version: k8s.VersionApi;
  exec: k8s.Exec;
  log: k8s.Log;
  portForward: k8s.PortForward;
}

export class KubeAccessError extends Error {}

/** On read-only runs (no --active) the API client itself refuses every request that is not a
 * read, whatever a check tries: a safety net under each suite's own ctx.options.active test. */
class ReadOnlyKubeConfig extends k8s.KubeConfig {
  override async applySecurityAuthentication(context: Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0]): Promise<void> {
    const method = String(context.getHttpMethod());
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      const path = new URL(context.getUrl()).pathname;
      throw new KubeAccessError(`read-only run: refused ${method} ${path} (this run may not change the cluster); fix: pass --active to allow labelled test workloads`);
    }
    return super.applySecurityAuthentication(context);
  }
}

export function kube(ctx: CheckContext): Promise<Kube> {
  return ctx.memo('kube', async () => {
    const master = ctx.cluster.masters[0]!.host;
    const text = (await ctx.target.kubeconfig?.()) ?? (await ctx.target.host(master).readFile(ADMIN_KUBECONFIG));
    if (!text) throw new KubeAccessError(`${master}:${ADMIN_KUBECONFIG}: no admin kubeconfig to reach the API with; fix: install it there (the seed copies admin.kubeconfig to ~/.kube/config) or name one in the inventory`);
    const doc = parse(text) as { users?: { user?: Record<string, string> }[] };
    for (const u of doc.users ?? []) for (const v of Object.values(u.user ?? {})) registerSecret(v);
    const kc = ctx.options.active ? new k8s.KubeConfig() : new ReadOnlyKubeConfig();
    kc.loadFromString(text);
    return {
      kc,
      core: kc.makeApiClient(k8s.CoreV1Api),
      apps: kc.makeApiClient(k8s.AppsV1Api),
      batch: kc.makeApiClient(k8s.BatchV1Api),
      coordination: kc.makeApiClient(k8s.CoordinationV1Api),
      discovery: kc.makeApiClient(k8s.DiscoveryV1Api),
      version: kc.makeApiClient(k8s.VersionApi),
      exec: new k8s.Exec(kc),
      log: new k8s.Log(kc),
      portForward: new k8s.PortForward(kc),
    };
  });
}

/** HTTP status of a client-node error (404, 409, ...), or undefined for non-API errors. */
export function apiStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** A short, secret-free description of an API error for a diagnosis. */
export function apiError(e: unknown): string {
  const status = apiStatus(e);
  const body = (e as { body?: unknown }).body;
  let msg = '';
  if (typeof body === 'string') {
    try {
      msg = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      msg = body;
    }
  } else if (body && typeof body === 'object') msg = (body as { message?: string }).message ?? '';
  if (!msg) msg = (e as Error).message ?? String(e);
  return `${status ? `HTTP ${status}: ` : ''}${msg.split('\n')[0]!.slice(0, 300)}`;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function poll<T>(timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 1000): Promise<T | undefined> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) return undefined;
    await sleep(intervalMs);
  }
}
