// The apiserver suite: the seed's first debugging step,
//   curl -H "Authorization: Bearer <token>" https://<api-server-address>:6443/api/v1/   -> 200
// done without -k (the CA from ca.pem is trusted, nothing else), plus /readyz and the versions.
import { request } from 'node:https';
import { parse as parseCsv } from './token-file.ts';
import { CA_CERT, TOKEN_FILE } from '../../harness/pki/plan.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { apiError, kube } from '../../harness/verify/kube.ts';
import { workspace } from '../../harness/verify/workspace.ts';

const master = (ctx: CheckContext) => ctx.cluster.masters[0]!;

export interface HttpsAnswer {
  status: number;
  body: string;
}

/** An HTTPS GET that trusts only `ca` (no -k), with an optional bearer token. */
export function httpsGet(url: string, ca: string, token?: string, timeoutMs = 10_000): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca, headers: token ? { Authorization: `Bearer ${token}` } : {}, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

async function caPem(ctx: CheckContext): Promise<string> {
  return ctx.memo('apiserver:ca', async () => {
    const ca = await ctx.target.host(master(ctx).host).readFile(CA_CERT);
    if (!ca) throw new Error(`${master(ctx).host}:${CA_CERT}: missing, so the apiserver's certificate cannot be verified (see certs.present)`);
    return ca;
  });
}

/** Which bearer token to present, and where it came from (never the token itself in messages). */
async function bearer(ctx: CheckContext): Promise<{ token?: string; source: string; skip?: string }> {
  return ctx.memo('apiserver:token', async () => {
    const m = master(ctx);
    const unit = (await ctx.target.host(m.host).exec!(`systemctl cat kube-apiserver 2>/dev/null || cat /etc/init.d/kube-apiserver 2>/dev/null`)).stdout;
    const staticFile = /--token-auth-file=(\S+)/.exec(unit)?.[1];
    if (staticFile) {
      const recorded = await ctx.target.apiserverToken?.();
      if (recorded) {
        registerSecret(recorded);
        return { token: recorded, source: 'the static token recorded at install' };
      }
      const text = await ctx.target.host(m.host).readFile(staticFile);
      const first = text ? parseCsv(text)[0]?.token : undefined;
      if (first) {
        registerSecret(first);
        return { token: first, source: `the first token of ${staticFile}` };
      }
    }
    if (!ctx.options.active) return { source: '', skip: 'no static token is configured and creating a ServiceAccount token needs --active' };
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const tr = await k.core.createNamespacedServiceAccountToken({ name: 'default', namespace: ns, body: { spec: { expirationSeconds: 600 } } });
    const token = tr.status?.token;
    if (!token) throw new Error(`the apiserver returned no ServiceAccount token for ${ns}/default`);
    registerSecret(token);
    return { token, source: `a ServiceAccount token of ${ns}/default` };
  });
}

const api = (ctx: CheckContext, path: string) => `https://${master(ctx).address}:${ctx.cluster.apiserver.port}${path}`;

const bearerToken: Check = {
  id: 'apiserver.bearer-token',
  title: 'GET /api/v1/ with a bearer token answers 200 (the seed\'s curl, certificate verified)',
  hosts: (c) => [c.masters[0]!.host],
  live: true,
  async run(ctx, host) {
    const b = await bearer(ctx);
    if (b.skip) return { problems: [], skipped: b.skip };
    const url = api(ctx, '/api/v1/');
    let a: HttpsAnswer;
    try {
      a = await httpsGet(url, await caPem(ctx), b.token);
    } catch (e) {
      return { problems: [`${host}: GET ${url} failed: ${(e as Error).message}; fix: systemctl status kube-apiserver and journalctl -u kube-apiserver on ${host}; check that port ${ctx.cluster.apiserver.port} is reachable`] };
    }
    if (a.status === 200 && /"kind":\s*"APIResourceList"/.test(a.body)) return { problems: [], notes: [`authenticated with ${b.source}`] };
    if (a.status === 401) {
      return { problems: [`${host}: GET ${url} with ${b.source} answered 401 Unauthorized: the apiserver no longer accepts that token (${TOKEN_FILE} was changed, or --token-auth-file points elsewhere); fix: restore the token in ${TOKEN_FILE} and restart kube-apiserver, or record the new one for hardway`] };
    }
    if (a.status === 403) return { problems: [`${host}: GET ${url} answered 403 Forbidden for ${b.source}: authenticated but not authorized; fix: the token's user needs a role (the seed's token is in system:masters)`] };
    return { problems: [`${host}: GET ${url} answered HTTP ${a.status}: ${a.body.slice(0, 160)}; fix: journalctl -u kube-apiserver on ${host}`] };
  },
};

const readyz: Check = {
  id: 'apiserver.readyz',
  title: '/readyz reports ok',
  hosts: (c) => [c.masters[0]!.host],
  live: true,
  async run(ctx, host) {
    const url = api(ctx, '/readyz?verbose');
    try {
      const a = await httpsGet(url, await caPem(ctx));
      if (a.status === 200) return { problems: [] };
      const failing = a.body.split('\n').filter((l) => /^\[-\]/.test(l)).map((l) => l.replace(/^\[-\]/, '').trim()).join(', ');
      return { problems: [`${host}: ${url} answered ${a.status}: failing ${failing || a.body.slice(0, 160)}; fix: journalctl -u kube-apiserver on ${host} (etcd reachable? certificates?)`] };
    } catch (e) {
      return { problems: [`${host}: ${url} failed: ${(e as Error).message}; fix: systemctl status kube-apiserver on ${host}`] };
    }
  },
};

const minor = (v?: string) => Number(/^v?\d+\.(\d+)/.exec(v ?? '')?.[1] ?? NaN);

const versions: Check = {
  id: 'apiserver.versions',
  title: 'server and client (kubectl) versions are reported and within one minor version',
  hosts: (c) => [c.masters[0]!.host],
  live: true,
  async run(ctx, host) {
    let server: string | undefined;
    try {
      server = (await (await kube(ctx)).version.getCode()).gitVersion;
    } catch (e) {
      return { problems: [`${host}: cannot read the server version: ${apiError(e)}; fix: see apiserver.readyz`] };
    }
    const r = await ctx.target.host(host!).exec!('kubectl version --client -o json 2>/dev/null', { timeoutMs: 20_000 });
    let client: string | undefined;
    try {
      client = (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
    } catch {
      client = undefined;
    }
    const notes = [`server ${server}`, client ? `kubectl ${client} on ${host}` : `no kubectl on ${host}`];
    if (client && Math.abs(minor(client) - minor(server)) > 1) {
      return { problems: [`${host}: kubectl ${client} and the apiserver ${server} are more than one minor version apart (unsupported skew); fix: install kubectl ${server}`], notes };
    }
    return { problems: [], notes };
  },
};

export const apiserverSuite: Suite = {
  name: 'apiserver',
  title: 'kube-apiserver: bearer-token access, readiness, versions',
  dependsOn: ['etcd'],
  checks: [bearerToken, readyz, versions],
};
