// The security suite: what an operator of a hand-built cluster must not leave open, checked from
// the outside the way an attacker would try it, read-only:
//   - the apiserver's static debugging token (the seed's curl token, cluster-admin, never expires)
//   - anonymous requests: GET /api/v1/namespaces without credentials must be 401/403
//   - etcd must refuse a TLS client without a certificate (from this machine and from a worker)
//   - kubelet's API must refuse unauthenticated requests (GET /pods on port 10250)
//   - certificates expiring within --expiry-warning-days (30 by default) fail here
//   - no CA private key on a worker
// A finding the target's owner keeps deliberately is listed under `accept:` in the inventory and
// reported as a warning. Each failure is one line with the fix.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { type Cluster, findHost } from '../../harness/model/cluster.ts';
import { K8S_DIR } from '../../harness/pki/plan.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import type { Check, CheckContext, Outcome, Suite } from '../../harness/verify/check.ts';
import { certsSuite } from '../certs/certs.ts';
import { parse as parseTokenCsv } from '../apiserver/token-file.ts';

// ---------------------------------------------------------------------------------------------
// Pure logic (unit-tested in security.test.ts)

/** Flags of a unit (systemctl cat) or an OpenRC script: --name=value, --name value-less -> "true". */
export function unitFlags(text: string): Map<string, string> {
  const flags = new Map<string, string>();
  const body = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  for (const m of body.matchAll(/(?:^|[\s"'])--([a-z0-9][a-z0-9-]*)(?:=("[^"]*"|'[^']*'|[^\s"'\\]*))?/g)) {
    const v = m[2] === undefined ? 'true' : m[2].replace(/^["']|["']$/g, '');
    flags.set(m[1]!, v);
  }
  return flags;
}

/** What one probe without credentials got: an HTTP status, a TLS refusal, or no connection. */
export interface Probe {
  from: string;
  status?: number;
  /** The TCP connection was made but TLS (or the request) was refused: no client certificate. */
  refused?: string;
  /** No TCP connection (or no answer), or the probe could not run: inconclusive. */
  unreachable?: string;
}

/** An answer that serves the request (2xx/3xx): what an unauthenticated client must never get.
 * 401/403 are refusals; 5xx and others say nothing about authentication. */
const served = (p: Probe) => p.status !== undefined && p.status >= 200 && p.status < 400;

const describe = (p: Probe) => `${p.from}: ${p.status !== undefined ? `HTTP ${p.status}` : p.refused ? `refused (${p.refused})` : `not reachable (${p.unreachable})`}`;

export function judgeEtcd(host: string, url: string, probes: Probe[]): Outcome {
  const answered = probes.filter((p) => p.status !== undefined);
  if (answered.length) {
    return { problems: [`${host}: etcd at ${url} answered ${answered.map((p) => `HTTP ${p.status} (from ${p.from})`).join(', ')} to a client without a certificate: whoever reaches port 2379 reads and writes the whole cluster state, Secrets included; fix: --client-cert-auth=true and --trusted-ca-file=${K8S_DIR}/ca.pem in etcd's unit on ${host}, then systemctl restart etcd (and firewall 2379 to the masters and workers)`] };
  }
  if (probes.some((p) => p.refused)) return { problems: [], notes: probes.map(describe) };
  return { problems: [], skipped: `etcd at ${url} gave no answer that tells (${probes.map(describe).join('; ')}): cannot tell whether it requires client certificates` };
}

export interface KubeletAuthConfig {
  anonymous?: boolean;
  mode?: string;
}

export function kubeletConfigOf(yamlText: string | undefined): KubeletAuthConfig | undefined {
  if (!yamlText) return undefined;
  try {
    const doc = parseYaml(yamlText) as { authentication?: { anonymous?: { enabled?: boolean } }; authorization?: { mode?: string } };
    return {
      ...(doc?.authentication?.anonymous?.enabled !== undefined ? { anonymous: doc.authentication.anonymous.enabled } : {}),
      ...(doc?.authorization?.mode ? { mode: doc.authorization.mode } : {}),
    };
  } catch {
    return undefined;
  }
}

export function judgeKubelet(host: string, url: string, probes: Probe[], cfg: KubeletAuthConfig | undefined, cfgPath: string): Outcome {
  const fix = `fix: in ${cfgPath} on ${host} set authentication.anonymous.enabled: false, authentication.webhook.enabled: true and authorization.mode: Webhook, then systemctl restart kubelet`;
  const open = probes.filter(served);
  const problems: string[] = [];
  const warnings: string[] = [];
  if (open.length) {
    problems.push(`${host}: kubelet's API ${url} answered ${open.map((p) => `HTTP ${p.status} (from ${p.from})`).join(', ')} without credentials: whoever reaches port 10250 lists pods and runs commands in them${cfg?.anonymous ? ' (authentication.anonymous.enabled is true' + (cfg.mode === 'AlwaysAllow' ? ', authorization.mode AlwaysAllow)' : ')') : ''}; ${fix}`);
  } else if (cfg?.mode === 'AlwaysAllow') {
    problems.push(`${host}: kubelet runs with authorization.mode AlwaysAllow: any authenticated client may do anything on the node; ${fix}`);
  } else if (cfg?.anonymous) {
    warnings.push(`${host}: kubelet accepts anonymous requests (authentication.anonymous.enabled: true); they are refused only by authorization; ${fix}`);
  }
  if (problems.length || warnings.length) return { problems, warnings, notes: probes.map(describe) };
  if (!probes.some((p) => p.status === 401 || p.status === 403)) {
    return { problems: [], skipped: `kubelet's API ${url} gave no answer that tells (${probes.map(describe).join('; ')}): cannot tell whether it requires authentication` };
  }
  return { problems: [], notes: probes.map(describe) };
}

export function judgeAnonymous(host: string, url: string, flags: Map<string, string>, probes: Probe[]): Outcome {
  const problems: string[] = [];
  const notes: string[] = [];
  const modes = (flags.get('authorization-mode') ?? '').split(',').filter(Boolean);
  if (modes.length === 0 || modes.includes('AlwaysAllow')) {
    problems.push(`${host}: kube-apiserver runs with ${modes.length ? '--authorization-mode including AlwaysAllow' : 'no --authorization-mode (the default is AlwaysAllow)'}: every authenticated user, and anonymous requests too, may do anything; fix: --authorization-mode=Node,RBAC in kube-apiserver's unit, then systemctl restart kube-apiserver`);
  }
  const anonymous = flags.get('anonymous-auth') !== 'false';
  notes.push(anonymous ? 'anonymous requests are allowed (--anonymous-auth is not false) and must be refused by authorization' : '--anonymous-auth=false');
  const open = probes.filter(served);
  if (open.length) {
    problems.push(`${host}: ${url} without credentials answered ${open.map((p) => `HTTP ${p.status} (from ${p.from})`).join(', ')}: anonymous users can list namespaces; fix: find the binding that grants it (kubectl get clusterrolebindings,rolebindings -A -o wide | grep -E 'system:(anonymous|unauthenticated)') and delete it, or run kube-apiserver with --anonymous-auth=false`);
  }
  if (!problems.length && !probes.some((p) => p.status === 401 || p.status === 403)) {
    return { problems: [], skipped: `${url} gave no answer that tells (${probes.map(describe).join('; ')}): cannot tell whether anonymous requests are refused` };
  }
  return { problems, notes: [...notes, ...probes.map(describe)] };
}

export interface StaticTokenFacts {
  /** --token-auth-file's value, if the apiserver has one. */
  file?: string;
  /** Tokens in it, and how many make their holder a cluster admin (system:masters). */
  tokens?: number;
  admins?: number;
  modelStaticToken: boolean;
  ownedByHardway: boolean;
}

export function judgeStaticToken(host: string, f: StaticTokenFacts): Outcome {
  if (!f.file) {
    return f.modelStaticToken
      ? { problems: [], notes: ['no --token-auth-file (the model still says apiserver.staticToken: true; set it to false to match)'] }
      : { problems: [], notes: ['no --token-auth-file: static tokens are off'] };
  }
  const what = `kube-apiserver on ${host} accepts static tokens from ${f.file}${f.tokens !== undefined ? ` (${f.tokens} token${f.tokens === 1 ? '' : 's'}${f.admins ? `, ${f.admins} in system:masters` : ''})` : ''}: the seed's debugging token never expires and${f.admins === 0 ? '' : ' makes its holder cluster-admin'}${f.admins === 0 ? ' authenticates whoever holds it' : ''}`;
  const fix = `fix: remove --token-auth-file from kube-apiserver's unit and delete ${f.file} on ${host}, then systemctl daemon-reload && systemctl restart kube-apiserver (set apiserver.staticToken: false in cluster.yaml); if you keep it on purpose, list security.static-token under accept: in the inventory`;
  if (!f.modelStaticToken) return { problems: [`${host}: ${what}, although the model says apiserver.staticToken: false; ${fix}`] };
  if (f.ownedByHardway) return { problems: [], warnings: [`${host}: ${what}; expected in a lab hardway built (apiserver.staticToken: true), never leave it on a production cluster`] };
  return { problems: [`${host}: ${what}; ${fix}`] };
}

/** A finding the target's owner accepted (inventory accept:) becomes a warning. */
export function applyAccepted(id: string, accepted: readonly string[] | undefined, o: Outcome): Outcome {
  if (!accepted?.includes(id) || o.problems.length === 0) return o;
  const kept = o.problems.map((p) => `accepted by the inventory (accept: ${id}): ${p.replace(/; if you keep it on purpose.*$/, '')}`);
  return { ...o, problems: [], warnings: [...(o.warnings ?? []), ...kept] };
}

// ---------------------------------------------------------------------------------------------
// Probes

/** TLS to host:port without a client certificate, then GET path: what did the server do? */
export function tlsProbe(from: string, host: string, port: number, path: string, timeoutMs = 5000): Promise<Probe> {
  return new Promise((resolve) => {
    let tcp = false;
    let done = false;
    let data = '';
    const finish = (p: Omit<Probe, 'from'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ from, ...p });
    };
    const sock = netConnect({ host, port });
    const timer = setTimeout(() => finish(tcp ? { refused: `no answer within ${timeoutMs / 1000} s after connecting` } : { unreachable: `no connection within ${timeoutMs / 1000} s` }), timeoutMs);
    sock.once('error', (e: NodeJS.ErrnoException) => finish({ unreachable: e.code ?? e.message }));
    sock.once('connect', () => {
      tcp = true;
      const t = tlsConnect({ socket: sock, rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) });
      t.once('secureConnect', () => t.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`));
      t.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(data);
        if (m) finish({ status: Number(m[1]) });
      });
      t.once('error', (e: NodeJS.ErrnoException) => finish({ refused: tlsReason(e) }));
      t.once('close', () => finish({ refused: 'the connection was closed without an answer' }));
    });
  });
}

/** "tlsv13 alert certificate required" out of OpenSSL's long error line. */
export function tlsReason(e: { message?: string; code?: string }): string {
  const msg = e.message ?? '';
  return (/:([^:]*(?:alert|handshake|certificate)[^:]*):/i.exec(msg)?.[1] ?? e.code ?? msg.split('\n')[0] ?? 'TLS error').slice(0, 120);
}

/** The same from a host, with curl (no client certificate, server certificate not checked). */
export async function curlProbe(ctx: CheckContext, from: string, url: string): Promise<Probe> {
  const h = ctx.target.host(from);
  if (!h.exec) return { from, unreachable: 'offline target' };
  const r = await h.exec(`command -v curl >/dev/null || exit 127; curl -sk -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 8 '${url}'; echo " $?"`, { timeoutMs: 20_000 }).catch((e: Error) => ({ code: 255, stdout: '', stderr: e.message }));
  if (r.code === 127) return { from, unreachable: 'no curl on the host' };
  return curlOutcome(from, r.stdout);
}

/** curl's "<http_code> <exit code>" as a probe: 6/7/28 no connection; TLS errors are refusals. */
export function curlOutcome(from: string, out: string): Probe {
  const m = /(\d{3})\s+(\d+)\s*$/.exec(out.trim());
  if (!m) return { from, unreachable: `unexpected curl output ${JSON.stringify(out.trim().slice(0, 40))}` };
  const [status, exit] = [Number(m[1]), Number(m[2])];
  if (exit === 0 && status > 0) return { from, status };
  if ([6, 7, 28].includes(exit)) return { from, unreachable: `curl exit ${exit}${exit === 7 ? ' (connection refused)' : exit === 28 ? ' (timeout)' : ''}` };
  return { from, refused: `curl exit ${exit}${exit === 35 ? ' (TLS handshake failed)' : exit === 56 ? ' (TLS alert: certificate required)' : ''}` };
}

// ---------------------------------------------------------------------------------------------
// Checks

const masters = (c: Cluster) => c.masters.map((m) => m.host);
const workers = (c: Cluster) => c.workers.map((w) => w.host);
const RUNNER = 'this machine';

async function unitText(ctx: CheckContext, host: string, unit: string): Promise<string> {
  return ctx.memo(`security:unit:${host}:${unit}`, async () =>
    (await ctx.target.host(host).exec!(`systemctl cat ${unit} 2>/dev/null || cat /etc/init.d/${unit} 2>/dev/null`, { timeoutMs: 20_000 })).stdout);
}

const staticToken: Check = {
  id: 'security.static-token',
  title: 'the apiserver no longer accepts the seed\'s static debugging token (unless the inventory accepts it)',
  hosts: masters,
  live: true,
  async run(ctx, host) {
    const flags = unitFlags(await unitText(ctx, host!, 'kube-apiserver'));
    const file = flags.get('token-auth-file');
    const facts: StaticTokenFacts = { modelStaticToken: ctx.cluster.apiserver.staticToken, ownedByHardway: ctx.target.ownedByHardway };
    if (file) {
      facts.file = file;
      const text = await ctx.target.host(host!).readFile(file).catch(() => undefined);
      if (text !== undefined) {
        const tokens = parseTokenCsv(text);
        for (const t of tokens) registerSecret(t.token);
        facts.tokens = tokens.length;
        facts.admins = tokens.filter((t) => t.groups.includes('system:masters')).length;
      }
    }
    return applyAccepted(this.id, ctx.target.accepted, judgeStaticToken(host!, facts));
  },
};

const anonymousAuth: Check = {
  id: 'security.anonymous-auth',
  title: 'anonymous requests cannot read the API (GET /api/v1/namespaces without credentials is 401/403)',
  hosts: (c) => [c.masters[0]!.host],
  live: true,
  async run(ctx, host) {
    const m = findHost(ctx.cluster, host!)!;
    const flags = unitFlags(await unitText(ctx, host!, 'kube-apiserver'));
    const url = `https://${m.address}:${ctx.cluster.apiserver.port}/api/v1/namespaces`;
    const probes = [await tlsProbe(RUNNER, m.address, ctx.cluster.apiserver.port, '/api/v1/namespaces')];
    if (probes[0]!.status === undefined) probes.push(await curlProbe(ctx, host!, `https://127.0.0.1:${ctx.cluster.apiserver.port}/api/v1/namespaces`));
    return applyAccepted(this.id, ctx.target.accepted, judgeAnonymous(host!, url, flags, probes));
  },
};

const etcdClientCert: Check = {
  id: 'security.etcd-client-cert',
  title: 'etcd refuses clients without a certificate (from this machine and from a worker)',
  hosts: masters,
  live: true,
  async run(ctx, host) {
    const m = findHost(ctx.cluster, host!)!;
    const url = `https://${m.internalAddress}:2379`;
    const probes = [await tlsProbe(RUNNER, m.internalAddress, 2379, '/version')];
    const w = ctx.cluster.workers[0];
    if (w) probes.push(await curlProbe(ctx, w.host, `${url}/version`));
    return applyAccepted(this.id, ctx.target.accepted, judgeEtcd(host!, url, probes));
  },
};

const kubeletAuth: Check = {
  id: 'security.kubelet-auth',
  title: 'kubelet\'s API refuses unauthenticated requests (GET :10250/pods is 401/403)',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const w = findHost(ctx.cluster, host!)!;
    const url = `https://${w.internalAddress}:10250/pods`;
    const probes = [await tlsProbe(RUNNER, w.internalAddress, 10250, '/pods')];
    const master = ctx.cluster.masters[0]!.host;
    if (probes[0]!.status === undefined) probes.push(await curlProbe(ctx, master, url));
    const cfgPath = unitFlags(await unitText(ctx, host!, 'kubelet')).get('config') ?? `${K8S_DIR}/kubelet/kubelet-config.yaml`;
    const cfg = kubeletConfigOf(await ctx.target.host(host!).readFile(cfgPath).catch(() => undefined));
    return applyAccepted(this.id, ctx.target.accepted, judgeKubelet(host!, url, probes, cfg, cfgPath));
  },
};

function certsCheck(id: string): Check {
  const c = certsSuite.checks.find((x) => x.id === id);
  if (!c) throw new Error(`the certs suite has no check ${id}`);
  return c;
}

const certExpiry: Check = {
  id: 'security.cert-expiry',
  title: 'no certificate has expired or expires within --expiry-warning-days (default 30)',
  hosts: (c) => [...c.masters, ...c.workers].map((h) => h.host),
  async run(ctx, host) {
    // The certs suite's validity check: its warnings (expiring soon) are failures here.
    const o = await certsCheck('certs.validity').run(ctx, host);
    if (o.skipped) return o;
    const fix = 'fix: re-issue it from the cluster CA (hardway render) and install it before it expires: expired certificates stop the cluster';
    const problems = [...o.problems, ...(o.warnings ?? []).map((w) => `${w.replace(/; plan its renewal$/, '')} (within ${ctx.options.expiryWarningDays} days); ${fix}`)];
    return applyAccepted(this.id, ctx.target.accepted, { problems });
  },
};

const caKeyOnWorkers: Check = {
  id: 'security.ca-key-on-workers',
  title: 'no CA private key (under any name) sits on a worker',
  hosts: workers,
  async run(ctx, host) {
    return applyAccepted(this.id, ctx.target.accepted, await certsCheck('certs.ca-key-placement').run(ctx, host));
  },
};

export const securitySuite: Suite = {
  name: 'security',
  title: 'Security: static token, anonymous access, etcd and kubelet authentication, expiring certificates, CA key placement',
  dependsOn: [],
  checks: [staticToken, anonymousAuth, etcdClientCert, kubeletAuth, certExpiry, caKeyOnWorkers],
};
