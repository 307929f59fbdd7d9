// The apiserver suite: the seed's first debugging step,
//   curl -H "Authorization: Bearer <token>" https://<api-server-address>:6443/api/v1/   -> 200
// done without -k on every apiserver host: the port its --secure-port gives, the certificate
// verified with the CA and for the server name the cluster's own clients use (a component's
// kubeconfig, see endpoint.ts), plus /readyz and the versions.
import type { ComponentFacts } from '../../harness/discovery/facts.ts';
import { statusHint } from '../../harness/discovery/fix-text.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import {
  type CheckContext,
  type HostView,
  type Outcome,
  type Suite,
  findingsOn,
  hostCheck,
  inconclusive,
  needsActive,
  notApplicable,
  outcome,
  passed,
} from '../../harness/verify/check.ts';
import { type Kube, apiError, kube } from '../../harness/verify/kube.ts';
import { workspace } from '../../harness/verify/workspace.ts';
import {
  type ApiEndpoint,
  type ApiTrust,
  type ClientAuth,
  type HttpsAnswer,
  apiEndpoint,
  apiTrust,
  httpsGet,
  httpsGetWith,
  isCertificateError,
} from './endpoint.ts';
import { parse as parseCsv } from './token-file.ts';

const apiOf = (h: HostView): ComponentFacts => h.facts.components.find((c) => c.kind === 'kube-apiserver')!;

/** Which bearer token to present, and where it came from (never the token itself in messages). */
async function bearer(ctx: CheckContext, h: HostView, api: ComponentFacts): Promise<{ token?: string; source: string; skip?: string }> {
  return ctx.memo(`apiserver:token:${h.name}`, async () => {
    const staticFile = api.flags.get('token-auth-file');
    if (staticFile) {
      const recorded = await ctx.target.apiserverToken?.();
      if (recorded) {
        registerSecret(recorded);
        return { token: recorded, source: 'the static token recorded at install' };
      }
      const text = await h.access.readFile(staticFile);
      const first = text ? parseCsv(text)[0]?.token : undefined;
      if (first) {
        registerSecret(first);
        return { token: first, source: `the first token of ${staticFile}` };
      }
    }
    if (!ctx.options.active) {
      return { source: '', skip: 'kube-apiserver has no --token-auth-file, and creating a ServiceAccount token needs --active' };
    }
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const body = { spec: { expirationSeconds: 600 } };
    const tr = await k.core.createNamespacedServiceAccountToken({ name: 'default', namespace: ns, body });
    const token = tr.status?.token;
    if (!token) throw new Error(`the apiserver returned no ServiceAccount token for ${ns}/default`);
    registerSecret(token);
    return { token, source: `a ServiceAccount token of ${ns}/default` };
  });
}

interface Reach {
  api: ComponentFacts;
  ep: ApiEndpoint;
  trust: ApiTrust;
  notes: string[];
}

/** The endpoint and trust of this host's apiserver, or why the check cannot tell. */
async function reach(ctx: CheckContext, h: HostView): Promise<Reach | Outcome> {
  const api = apiOf(h);
  const [ep, trust] = await Promise.all([apiEndpoint(ctx, h, api), apiTrust(ctx, h)]);
  if ('problem' in trust) return inconclusive(`${h.name}: cannot verify kube-apiserver's certificate as its clients do: ${trust.problem}`);
  return { api, ep, trust, notes: [`verified as ${trust.name} with the CA of ${trust.from}`] };
}

/** A failed request as a finding: an untrusted certificate, or no connection. */
function requestFailed(h: HostView, r: Reach, url: string, e: unknown): Outcome {
  const on = findingsOn(h.name);
  const msg = (e as Error)?.message ?? String(e);
  if (isCertificateError(e)) {
    const message =
      `presents a certificate its clients reject: ${msg} ` +
      `(verified as ${r.trust.name}, the server name in ${r.trust.from}, with that kubeconfig's CA)`;
    const fix =
      `re-issue kube-apiserver's --tls-cert-file (${r.api.source('tls-cert-file')}) from that CA ` +
      `with ${r.trust.name} among its subject alternative names, then ${h.init.restart(r.api.unit)}`;
    return outcome([on('certificate-not-trusted', url, message, fix)], 1, { notes: r.notes });
  }
  const fix = `${statusHint(h.init, r.api.unit, h.name)}; check that port ${r.ep.port} (${r.ep.portSource}) is reachable from this machine`;
  return outcome([on('unreachable', url, `failed: ${msg}`, fix)], 1, { notes: r.notes });
}

const REQUEST_CODES = {
  unreachable: 'the request failed (no connection, no answer)',
  'certificate-not-trusted': "the apiserver's certificate does not verify with the CA and the server name its clients use",
};

const bearerToken = hostCheck({
  id: 'apiserver.bearer-token',
  title: "GET /api/v1/ with a bearer token answers 200 (the seed's curl, certificate verified as the clients verify it)",
  on: { component: 'kube-apiserver' },
  needs: ['live'],
  codes: {
    ...REQUEST_CODES,
    'token-refused': 'the apiserver answered 401 to the token',
    'token-forbidden': 'authenticated but not authorized (403)',
    'unexpected-answer': 'another HTTP answer',
  },
  async run(ctx, h) {
    const r = await reach(ctx, h);
    if (!('ep' in r)) return r;
    const b = await bearer(ctx, h, r.api);
    if (b.skip) return needsActive(b.skip);
    const url = r.ep.url('/api/v1/');
    const on = findingsOn(h.name);
    let a: HttpsAnswer;
    try {
      a = await httpsGet(r.ep.connect, '/api/v1/', r.trust, b.token);
    } catch (e) {
      return requestFailed(h, r, `GET ${url}`, e);
    }
    const notes = [`authenticated with ${b.source}`, ...r.notes];
    if (a.status === 200 && /"kind":\s*"APIResourceList"/.test(a.body)) return passed(1, notes);
    if (a.status === 401) {
      const file = r.api.flags.get('token-auth-file');
      const where = file
        ? `${file} was changed, or --token-auth-file (${r.api.source('token-auth-file')}) points elsewhere`
        : 'the token expired or was revoked';
      const record = ctx.target.ownedByHardway ? 'the lab keeps it in its rendered _pki/token' : "the inventory's apiserverTokenFile";
      const message = `with ${b.source} answered 401 Unauthorized: the apiserver no longer accepts that token (${where})`;
      const fix = file
        ? `put the token back into ${file} on ${h.name} and ${h.init.restart(r.api.unit)}, or record the new one for hardway (${record})`
        : "see the apiserver's log for why it refused the token";
      return outcome([on('token-refused', `GET ${url}`, message, fix)], 1, { notes });
    }
    if (a.status === 403) {
      const message = `answered 403 Forbidden for ${b.source}: authenticated but not authorized`;
      const fix = "the token's user needs a role (the seed's token is in system:masters)";
      return outcome([on('token-forbidden', `GET ${url}`, message, fix)], 1, { notes });
    }
    const fix = `${h.init.logsHint(r.api.unit)} on ${h.name}`;
    return outcome([on('unexpected-answer', `GET ${url}`, `answered HTTP ${a.status}: ${a.body.slice(0, 160)}`, fix)], 1, { notes });
  },
});

/** The credentials /readyz is asked with: the admin kubeconfig's (its client certificate, or its
 * token) as the kube client presents them; without one, none (an anonymous request). */
interface ReadyzAuth extends ClientAuth {
  source: string;
}

async function readyzAuth(ctx: CheckContext): Promise<ReadyzAuth> {
  return ctx.memo('apiserver:readyz-auth', async () => {
    let k: Kube;
    try {
      k = await kube(ctx);
    } catch (e) {
      return { headers: {}, source: `no credentials (${(e as Error).message.split(';')[0]})` };
    }
    // What the kube client would present (certificate, key, Authorization); the CA and the server
    // name stay the ones this suite verifies the apiserver with.
    const o: { cert?: string | Buffer; key?: string | Buffer; headers?: Record<string, unknown> } = {};
    await k.kc.applyToHTTPSOptions(o as Parameters<typeof k.kc.applyToHTTPSOptions>[0]);
    const headers = Object.fromEntries(
      Object.entries(o.headers ?? {}).filter(
        (e): e is [string, string] => /^(authorization|impersonate-user)$/i.test(e[0]) && typeof e[1] === 'string',
      ),
    );
    const user = k.kc.getCurrentUser()?.name;
    return {
      ...(o.cert ? { cert: o.cert } : {}),
      ...(o.key ? { key: o.key } : {}),
      headers,
      source: `the admin kubeconfig's credentials${user ? ` (user ${user})` : ''}`,
    };
  });
}

const readyz = hostCheck({
  id: 'apiserver.readyz',
  title: '/readyz reports ok',
  on: { component: 'kube-apiserver' },
  needs: ['live'],
  codes: { ...REQUEST_CODES, 'not-ready': '/readyz reports a failing check' },
  async run(ctx, h) {
    const r = await reach(ctx, h);
    if (!('ep' in r)) return r;
    const url = r.ep.url('/readyz?verbose');
    // Asked as an admin: with --anonymous-auth=false an anonymous /readyz is answered 401, which
    // says nothing about readiness.
    const auth = await readyzAuth(ctx);
    const notes = [`asked with ${auth.source}`, ...r.notes];
    try {
      const a = await httpsGetWith(r.ep.connect, '/readyz?verbose', r.trust, auth);
      if (a.status === 200) return passed(1, notes);
      if (a.status === 401 || a.status === 403) {
        const o = inconclusive(
          `${h.name}: GET ${url} refused our credentials (${auth.source}): HTTP ${a.status} ${a.status === 401 ? 'Unauthorized' : 'Forbidden'}, which says nothing about readiness (see apiserver.bearer-token, security.anonymous-auth)`,
        );
        return { ...o, notes };
      }
      const failing = a.body
        .split('\n')
        .filter((l) => /^\[-\]/.test(l))
        .map((l) => l.replace(/^\[-\]/, '').trim())
        .join(', ');
      return outcome(
        [
          findingsOn(h.name)(
            'not-ready',
            url,
            `answered ${a.status}: failing ${failing || a.body.slice(0, 160)}`,
            `${h.init.logsHint(r.api.unit)} on ${h.name} (etcd reachable? certificates?)`,
          ),
        ],
        1,
        { notes },
      );
    } catch (e) {
      return requestFailed(h, r, url, e);
    }
  },
});

const minor = (v?: string) => Number(/^v?\d+\.(\d+)/.exec(v ?? '')?.[1] ?? NaN);

const versions = hostCheck({
  id: 'apiserver.versions',
  title: 'server and client (kubectl) versions are reported and within one minor version',
  on: { component: 'kube-apiserver' },
  needs: ['live'],
  codes: {
    'no-server-version': 'the server version cannot be read',
    'version-skew': 'kubectl and the apiserver are more than one minor version apart',
  },
  async run(ctx, h) {
    const on = findingsOn(h.name);
    const cmd = 'command -v kubectl >/dev/null 2>&1 || exit 127; kubectl version --client -o json';
    const r = await h.access.exec!(cmd, { timeoutMs: 20_000 });
    if (r.code === 127) {
      return notApplicable(`no kubectl on ${h.name} (command -v kubectl finds none): no client version to hold against the apiserver's`);
    }
    // Any other failure (255: the SSH connection dropped; kubectl crashed) leaves the client's
    // version unknown: nothing to hold against the apiserver's.
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n').pop()?.slice(0, 200);
      return inconclusive(`kubectl version --client on ${h.name} exited ${r.code}${why ? `: ${why}` : ''}: its version is unknown`);
    }
    let client: string | undefined;
    try {
      client = (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
    } catch {
      client = undefined;
    }
    let server: string | undefined;
    try {
      server = (await (await kube(ctx)).version.getCode()).gitVersion;
    } catch (e) {
      const message = `cannot read the server version: ${apiError(e)}`;
      return outcome([on('no-server-version', 'GET /version', message, 'see apiserver.readyz')], 0);
    }
    const notes = [`server ${server}`, client ? `kubectl ${client} on ${h.name}` : `kubectl on ${h.name} printed no client version`];
    if (client && Math.abs(minor(client) - minor(server)) > 1) {
      const message = `${client} and the apiserver ${server} are more than one minor version apart (unsupported skew)`;
      return outcome([on('version-skew', 'kubectl', message, `install kubectl ${server} on ${h.name}`)], 2, { notes });
    }
    return passed(client ? 2 : 1, notes);
  },
});

export const apiserverSuite: Suite = {
  name: 'apiserver',
  title: 'kube-apiserver: bearer-token access, readiness, versions',
  dependsOn: ['etcd'],
  gate: ['apiserver.readyz'],
  checks: [bearerToken, readyz, versions],
};
