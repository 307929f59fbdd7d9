// How this machine reaches one kube-apiserver and verifies it the way the cluster's own clients
// do: the port from its --secure-port, the host's address (or, when --bind-address is one this
// machine may not reach, a tunnel from the host), the CA a component's kubeconfig trusts and the
// server name that kubeconfig uses. The connection goes to the host's address and the certificate
// is verified for that name, so no DNS lookup of a cluster-internal name ever leaves this machine.
import { request } from 'node:https';
import { type PeerCertificate, checkServerIdentity } from 'node:tls';
import type { ComponentFacts } from '../../harness/discovery/facts.ts';
import { hostPort, isIpAddress } from '../../harness/model/net.ts';
import type { CheckContext, HostView } from '../../harness/verify/check.ts';

const WILDCARD = new Set(['0.0.0.0', '::', '']);

export interface ApiEndpoint {
  /** Where this machine connects: the host's address, or a tunnel's local end. */
  connect: { host: string; port: number };
  /** The port in effect and where it was read. */
  port: number;
  portSource: string;
  /** The address as reports show it (the host's, or the one --bind-address names). */
  shown: string;
  /** The address a process on the apiserver's host reaches it at. */
  local: string;
  url(path: string): string;
}

/** Where the apiserver on `h` listens, from its flags: --secure-port (6443), --bind-address (all). */
export function apiPort(api: ComponentFacts): { port: number; source: string } {
  return api.flags.has('secure-port')
    ? { port: Number(api.flags.get('secure-port')), source: api.source('secure-port') }
    : { port: 6443, source: `${api.host}: kube-apiserver's default --secure-port 6443` };
}

export function apiEndpoint(ctx: CheckContext, h: HostView, api: ComponentFacts): Promise<ApiEndpoint> {
  return ctx.memo(`apiserver:endpoint:${h.name}`, async () => {
    const { port, source } = apiPort(api);
    const bind = api.flags.get('bind-address') ?? '0.0.0.0';
    const specific = !WILDCARD.has(bind);
    const shown = specific ? bind : h.model.address;
    let connect = { host: shown, port };
    // A bind address other than the one this machine reaches the host at (loopback, a private
    // network) is reached from the host itself.
    if (specific && bind !== h.model.address && h.access.tunnel) connect = { host: '127.0.0.1', port: await h.access.tunnel(bind, port) };
    const local = specific ? bind : '127.0.0.1';
    return { connect, port, portSource: source, shown, local, url: (path) => `https://${hostPort(shown, port)}${path}` };
  });
}

/** The CA and the server name the cluster's clients verify the apiserver with. */
export interface ApiTrust {
  ca: string;
  name: string;
  /** "master:/var/lib/kubernetes/kube-controller-manager.kubeconfig (kube-controller-manager)". */
  from: string;
}

const CLIENT_ORDER = ['kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubelet', 'coredns', 'flanneld'];

/** Kubeconfigs that verify the apiserver: the apiserver host's own components first. */
export function trustCandidates(ctx: CheckContext, host: string): ComponentFacts[] {
  const verifies = (c: ComponentFacts) => {
    const k = c.kubeconfig;
    return !!k && !k.missing && !!k.server && !k.insecureSkipTLSVerify;
  };
  const all = ctx.facts.hosts.flatMap((h) => h.components).filter(verifies);
  const rank = (c: ComponentFacts) => (c.host === host ? 0 : 100) + (CLIENT_ORDER.indexOf(c.kind) + 1 || 50);
  return all.sort((a, b) => rank(a) - rank(b));
}

export function apiTrust(ctx: CheckContext, h: HostView): Promise<ApiTrust | { problem: string }> {
  return ctx.memo(`apiserver:trust:${h.name}`, async () => {
    const tried: string[] = [];
    for (const c of trustCandidates(ctx, h.name)) {
      const k = c.kubeconfig!;
      const name = new URL(k.server!).hostname.replace(/^\[|\]$/g, '');
      const from = `${c.host}:${k.path} (${c.kind})`;
      const ca =
        k.caPem ??
        (k.caFile
          ? await ctx
              .host(c.host)
              .access.readFile(k.caFile)
              .catch(() => undefined)
          : undefined);
      if (ca?.includes('BEGIN CERTIFICATE')) return { ca, name, from };
      tried.push(`${from}: ${k.caFile ? `${k.caFile} is not readable` : 'no certificate-authority'}`);
    }
    if (tried.length) return { problem: `no component's kubeconfig gives a readable CA (${tried.join('; ')})` };
    return { problem: 'no component on the hosts has a kubeconfig that names the apiserver and its CA' };
  });
}

export interface HttpsAnswer {
  status: number;
  body: string;
}

/** TLS failures that mean "the certificate is not the one clients trust", not "no connection". */
export const isCertificateError = (e: unknown) =>
  /CERT|SIGNATURE|ISSUER|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(String((e as { code?: string })?.code ?? ''));

/** What a request authenticates with: a client certificate and key, and/or headers (a token). */
export interface ClientAuth {
  cert?: string | Buffer;
  key?: string | Buffer;
  headers?: Record<string, string>;
}

/** GET over HTTPS to `connect`, trusting only `trust.ca`, verified for `trust.name` (no -k). */
export function httpsGet(
  connect: { host: string; port: number },
  path: string,
  trust: Pick<ApiTrust, 'ca' | 'name'>,
  token?: string,
  timeoutMs = 10_000,
): Promise<HttpsAnswer> {
  return httpsGetWith(connect, path, trust, token ? { headers: { Authorization: `Bearer ${token}` } } : {}, timeoutMs);
}

/** httpsGet with a client certificate or headers. */
export function httpsGetWith(
  connect: { host: string; port: number },
  path: string,
  trust: Pick<ApiTrust, 'ca' | 'name'>,
  auth: ClientAuth,
  timeoutMs = 10_000,
): Promise<HttpsAnswer> {
  const name = trust.name;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: connect.host,
        port: connect.port,
        path,
        method: 'GET',
        agent: false,
        ca: trust.ca,
        ...(auth.cert && auth.key ? { cert: auth.cert, key: auth.key } : {}),
        // SNI carries DNS names only; IP names are verified against the IP SANs.
        ...(isIpAddress(name) ? {} : { servername: name }),
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
        headers: auth.headers ?? {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}
