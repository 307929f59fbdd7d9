// Kubernetes API access for checks (@kubernetes/client-node), as the seed's user machine has it:
// with an admin kubeconfig: the inventory's, or one found on a master over SSH (the seed's
// ~/.kube/config, KTHW's admin.kubeconfig, ...). It is kept in memory only; its key and
// certificate data are registered with the redactor so they can never reach a report.
import * as k8s from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { readFiles } from '../discovery/read-host.ts';
import { ADMIN_KUBECONFIG } from '../pki/plan.ts';
import { registerSecret } from '../report/redact.ts';
import { type CheckContext, currentRunSignal } from './check.ts';

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
/** How long one API request may take. An API server whose etcd is gone holds requests for its
 * --request-timeout (60 s by default) before it answers 504: hardway gives up sooner, and Ctrl-C
 * (the run's signal) ends a request at once. */
export const API_REQUEST_TIMEOUT_MS = 30_000;

type RequestContext = Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0];

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** A KubeConfig whose every API request is bounded (API_REQUEST_TIMEOUT_MS) and ends on Ctrl-C,
 * and whose requests share one connection pool. */
class BoundedKubeConfig extends k8s.KubeConfig {
  /** client-node makes a new undici Agent for every request, so every request was a new TCP
   * connection and TLS handshake (CPU on this machine and on the apiserver): the first one made
   * is kept and reused (keep-alive) for the life of the run; the others are never used. */
  private shared?: Dispatcher;
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    if (!context.getSignal()) {
      const run = currentRunSignal();
      const timeout = AbortSignal.timeout(API_REQUEST_TIMEOUT_MS);
      context.setSignal(run ? AbortSignal.any([timeout, run]) : timeout);
    }
    await super.applySecurityAuthentication(context);
    const made = context.getDispatcher();
    if (made) context.setDispatcher((this.shared ??= made));
  }
  /** Closes the pool at the end of the run: its requests get 2 s to end, then it is destroyed (a
   * log stream or a watch of a hung check does not hold up the run's end). A request made later
   * (the workspace's removal running beside it) gets a pool of its own. */
  async closePool(): Promise<void> {
    const d = this.shared;
    this.shared = undefined;
    if (!d) return;
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      d.close().then(
        () => true,
        () => true,
      ),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), 2000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (!closed) await d.destroy().catch(() => undefined);
  }
}

class ReadOnlyKubeConfig extends BoundedKubeConfig {
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const method = String(context.getHttpMethod());
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      const path = new URL(context.getUrl()).pathname;
      throw new KubeAccessError(
        `read-only run: refused ${method} ${path} (this run may not change the cluster); fix: pass --active to allow labelled test workloads`,
      );
    }
    return super.applySecurityAuthentication(context);
  }
}

/** Where an admin kubeconfig usually sits on a master: the seed's (~/.kube/config), KTHW's
 * (admin.kubeconfig in root's home), kubeadm-style and hardway's older folder. */
export const ADMIN_KUBECONFIG_CANDIDATES = [
  ADMIN_KUBECONFIG,
  '/root/admin.kubeconfig',
  '/etc/kubernetes/admin.conf',
  '/etc/kubernetes/admin.kubeconfig',
  '/var/lib/kubernetes/admin.kubeconfig',
];

type KubeconfigDoc = {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name?: string; cluster?: Record<string, unknown> }[];
  users?: { name?: string; user?: Record<string, unknown> }[];
};

const isIp = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');
const isLoopback = (h: string) => /^(127\.|localhost$|::1$)/.test(h);

/**
 * The admin kubeconfig hardway reaches the API with: the inventory's, else the first one found on
 * a master (referenced files read there and embedded). Its server is used directly when it is an
 * address of the cluster; a loopback address or a host name is reached through an SSH tunnel from
 * that master, verified for the same name (no DNS lookup leaves this machine).
 */
async function adminKubeconfig(ctx: CheckContext): Promise<{ text: string; source: string; master?: string }> {
  const given = await ctx.target.kubeconfig?.();
  if (given) return { text: given, source: "the inventory's kubeconfig" };
  const masters = ctx.cluster.masters.map((m) => m.host);
  // Kubeconfigs found but not usable (a referenced file missing on the master): named if no other is.
  const unusable: string[] = [];
  for (const m of masters) {
    const files = await readFiles(ctx.host(m).access, ADMIN_KUBECONFIG_CANDIDATES);
    for (const path of ADMIN_KUBECONFIG_CANDIDATES) {
      const text = files.get(path);
      if (!text) continue;
      try {
        return { text: await embedFiles(ctx, m, path, text), source: `${m}:${path}`, master: m };
      } catch (e) {
        /* not a usable kubeconfig: try the next one */
        if (e instanceof KubeAccessError) unusable.push(e.message);
      }
    }
  }
  if (unusable.length) throw new KubeAccessError(unusable.join('; '));
  throw new KubeAccessError(
    `no admin kubeconfig on ${masters.join(', ') || 'any master'} (looked for ${ADMIN_KUBECONFIG_CANDIDATES.join(', ')}); fix: name one in the inventory (kubeconfig:), or put it at ${ADMIN_KUBECONFIG} on a master as the seed does`,
  );
}

/** Referenced files (paths relative to the kubeconfig) read from the host and embedded. A file
 * missing there is an error: left as a path, the client would read it on this machine. */
async function embedFiles(ctx: CheckContext, host: string, path: string, text: string): Promise<string> {
  const doc = parse(text) as KubeconfigDoc;
  const dir = path.replace(/\/[^/]*$/, '');
  const abs = (p: string) => (p.startsWith('/') ? p : `${dir}/${p}`);
  const refs: [Record<string, unknown>, string, string][] = [];
  for (const c of doc.clusters ?? [])
    if (typeof c.cluster?.['certificate-authority'] === 'string')
      refs.push([c.cluster, 'certificate-authority', 'certificate-authority-data']);
  for (const u of doc.users ?? []) {
    for (const [f, d] of [
      ['client-certificate', 'client-certificate-data'],
      ['client-key', 'client-key-data'],
    ] as const)
      if (typeof u.user?.[f] === 'string') refs.push([u.user, f, d]);
  }
  if (!doc.users?.length) throw new Error('no user');
  const files = await readFiles(
    ctx.host(host).access,
    refs.map(([o, f]) => abs(o[f] as string)),
  );
  for (const [o, f, d] of refs) {
    const file = abs(o[f] as string);
    const content = files.get(file);
    if (content === undefined)
      throw new KubeAccessError(
        `the admin kubeconfig ${host}:${path} references ${f} ${file}, which is missing (or not readable) on ${host}; fix: put the file there, or embed it in the kubeconfig (${d})`,
      );
    o[d] = Buffer.from(content).toString('base64');
    delete o[f];
  }
  return stringify(doc);
}

export function kube(ctx: CheckContext): Promise<Kube> {
  return ctx.memo('kube', async () => {
    const { text, source, master } = await adminKubeconfig(ctx);
    const doc = parse(text) as KubeconfigDoc;
    for (const u of doc.users ?? []) for (const v of Object.values(u.user ?? {})) if (typeof v === 'string') registerSecret(v);
    const ctxName = doc['current-context'];
    const clusterName = doc.contexts?.find((c) => c.name === ctxName)?.context?.cluster;
    const cl = doc.clusters?.find((c) => c.name === clusterName)?.cluster;
    const server = typeof cl?.server === 'string' ? new URL(cl.server) : undefined;
    const host = server?.hostname.replace(/^\[|\]$/g, '');
    if (cl && server && host && master && (!isIp(host) || isLoopback(host))) {
      // Reached from the master, as its own components reach it; verified for the same name.
      // Never as-is: the admin credentials would go to whatever answers that name or port here.
      const access = ctx.host(master).access;
      if (!access.tunnel)
        throw new KubeAccessError(
          `the admin kubeconfig ${source} names the API server ${server.host}, ${isLoopback(host) ? 'a loopback address' : 'a name the master resolves'}: the API is reachable only from ${master}, and the target offers no tunnel through ${master}; fix: name a kubeconfig whose server is an address this machine reaches in the inventory (kubeconfig:)`,
        );
      const local = await access.tunnel(host, Number(server.port || 443));
      cl.server = `https://127.0.0.1:${local}`;
      if (host !== '127.0.0.1' && !cl['tls-server-name']) cl['tls-server-name'] = host;
    }
    const kc = ctx.options.active ? new BoundedKubeConfig() : new ReadOnlyKubeConfig();
    kc.loadFromString(stringify(doc));
    ctx.defer(() => kc.closePool());
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
  if ((e as Error)?.name === 'TimeoutError') return `the API server did not answer within ${API_REQUEST_TIMEOUT_MS / 1000} s`;
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

/** Waits `ms`; with a signal, rejects with its reason as soon as it aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `probe` until it returns a value (not undefined) or the time is up. It stops waiting when
 * `signal` aborts (rejecting with its reason): by default the run's signal (Ctrl-C) of the check
 * or prepare() that polls, so no caller has to pass it along.
 */
export async function poll<T>(
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 1000,
  signal: AbortSignal | undefined = currentRunSignal(),
): Promise<T | undefined> {
  const t0 = Date.now();
  for (;;) {
    signal?.throwIfAborted();
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) return undefined;
    await sleep(intervalMs, signal);
  }
}
