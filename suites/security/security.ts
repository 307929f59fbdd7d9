// The security suite: what an operator of a hand-built cluster must not leave open, checked from
// the outside the way an attacker would try it, read-only, with every address, port, flag and file
// taken from what the cluster runs (discovery's facts):
//   - the apiserver's static debugging token (--token-auth-file: the seed's curl token, cluster-admin,
//     never expires)
//   - anonymous requests: GET /api/v1/namespaces without credentials must be 401/403
//   - etcd must refuse clients without a certificate on every client URL it listens on
//   - kubelet's API must refuse unauthenticated requests (GET /pods on its port)
//   - certificates expiring within --expiry-warning-days (30 by default) fail here
//   - no CA private key on a worker
//   - no system:masters credential (admin kubeconfig, or certificate with its key) on a worker
// A finding the target's owner keeps deliberately is listed under `accept:` in the inventory and
// reported as a warning. A probe that gets no answer that tells makes its check inconclusive.
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { type ComponentFacts, componentsOf } from '../../harness/discovery/facts.ts';
import { commandFile, editCommandLine } from '../../harness/discovery/fix-text.ts';
import type { FlagSet } from '../../harness/discovery/parse/flags.ts';
import { hostPort } from '../../harness/model/net.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import {
  type CheckContext,
  type Finding,
  type HostCheck,
  type HostView,
  type Outcome,
  type Suite,
  findingsOn,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
  passed,
} from '../../harness/verify/check.ts';
import { apiEndpoint } from '../apiserver/endpoint.ts';
import { parse as parseTokenCsv } from '../apiserver/token-file.ts';
import { alsoMaster, certsSuite, unreadableFiles } from '../certs/certs.ts';
import { fileStateOn, listFilesOn, prefetch } from '../certs/credentials.ts';
import { judgeMastersCredentialOnWorker, judgeMastersKubeconfigOnWorker, resolveKubeconfig } from '../../harness/pki/x509/index.ts';
import { ADMIN_KUBECONFIG_CANDIDATES } from '../../harness/verify/kube.ts';

/** What the judges need of a host: its name (for findings) and its init system (for fixes). */
export type HostRef = Pick<HostView, 'name' | 'init'>;

// ---------------------------------------------------------------------------------------------
// Pure logic (unit-tested in security.test.ts)

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
const authRefused = (p: Probe) => p.status === 401 || p.status === 403;
const answered = (probes: Probe[]) => probes.filter((p) => p.status !== undefined).length;
const answers = (ps: Probe[]) => ps.map((p) => `HTTP ${p.status} (from ${p.from})`).join(', ');

const describeProbe = (p: Probe) =>
  `${p.from}: ${p.status !== undefined ? `HTTP ${p.status}` : p.refused ? `refused (${p.refused})` : `not reachable (${p.unreachable})`}`;
const untold = (probes: Probe[]) => probes.map(describeProbe).join('; ');

/** "if you keep it on purpose": the part of a fix that applyAccepted drops. */
const keepHint = (id: string) => `if you keep it on purpose, list ${id} under accept: in the inventory`;

export const ETCD_CODES = {
  'etcd-no-client-cert': 'etcd answers a client that presents no certificate',
  'etcd-plain-http': 'etcd serves clients over plain http on an address others reach (no client certificates possible)',
  'etcd-loopback-unauthenticated': 'etcd answers local processes without a client certificate (loopback only: a warning)',
};

/** The fix when etcd takes clients without certificates (the caller names the unit and file). */
const ETCD_FIX = (h: HostRef) =>
  `--client-cert-auth=true and --trusted-ca-file=<the cluster CA> in etcd's unit on ${h.name}, then ${h.init.restart('etcd')}`;

/** etcd must refuse the TLS client without a certificate: any HTTP answer fails, refusals tell. */
export function judgeEtcd(h: HostRef, url: string, probes: Probe[], fix = ETCD_FIX(h)): Outcome {
  const got = probes.filter((p) => p.status !== undefined);
  const telling = probes.filter((p) => p.status !== undefined || p.refused).length;
  const notes = probes.map(describeProbe);
  const port = /:(\d+)\/?$/.exec(url)?.[1] ?? '2379';
  if (got.length) {
    return outcome(
      [
        {
          code: 'etcd-no-client-cert',
          host: h.name,
          subject: url,
          message:
            `etcd answered ${answers(got)} to a client without a certificate: ` +
            `whoever reaches port ${port} reads and writes the whole cluster state, Secrets included`,
          fix: `${fix} (and firewall ${port} to the masters and workers)`,
        },
      ],
      telling,
      { notes },
    );
  }
  if (telling) return passed(telling, notes);
  return inconclusive(`etcd at ${url} gave no answer that tells (${untold(probes)}): cannot tell whether it requires client certificates`);
}

/** An etcd client URL: scheme, address (wildcards resolved to what is probed) and port. */
export interface EtcdListener {
  url: string;
  tls: boolean;
  host: string;
  port: number;
  loopback: boolean;
}

const LOOPBACK = /^(127\.|localhost$|::1$)/;
const WILDCARD = new Set(['', '0.0.0.0', '::']);

/**
 * Where etcd serves clients: its --listen-client-urls (etcd's default http://localhost:2379). A
 * wildcard listener is probed at the addresses it advertises (--advertise-client-urls), else at
 * `hostAddress`.
 */
export function etcdListeners(flags: Pick<FlagSet, 'list'>, hostAddress: string): EtcdListener[] {
  const parse = (u: string) => {
    try {
      const x = new URL(u);
      const tls = x.protocol === 'https:';
      return { tls, host: x.hostname.replace(/^\[|\]$/g, ''), port: Number(x.port || (tls ? 443 : 80)) };
    } catch {
      return undefined;
    }
  };
  const listen = flags.list('listen-client-urls');
  const advertised = flags
    .list('advertise-client-urls')
    .map(parse)
    .filter((a) => !!a && !LOOPBACK.test(a.host) && !WILDCARD.has(a.host));
  const out = new Map<string, EtcdListener>();
  for (const u of listen.length ? listen : ['http://localhost:2379']) {
    const l = parse(u);
    if (!l) continue;
    const at = advertised.filter((a) => a!.port === l.port).map((a) => a!.host);
    const hosts = WILDCARD.has(l.host) ? [...new Set([...at, ...(advertised.length ? [] : [hostAddress])])] : [l.host];
    for (const host of hosts.length ? hosts : [hostAddress]) {
      const url = `${l.tls ? 'https' : 'http'}://${hostPort(host, l.port)}`;
      out.set(url, { url, tls: l.tls, host, port: l.port, loopback: LOOPBACK.test(host) });
    }
  }
  return [...out.values()];
}

/** Which listeners a probe must try: every one others reach; loopback ones only where no TLS
 * listener is reachable from outside (the same --client-cert-auth governs every TLS listener). */
export function etcdProbeTargets(listeners: readonly EtcdListener[]): { external: EtcdListener[]; local: EtcdListener[] } {
  const external = listeners.filter((l) => !l.loopback);
  const local = listeners.filter((l) => l.loopback && (!l.tls || !external.some((e) => e.tls)));
  return { external, local };
}

/** Over http there is no client certificate: reachable by others, that is always a failure. */
export function judgeEtcdPlain(h: HostRef, url: string, probes: Probe[], fix: string): Outcome {
  const said = probes.length ? ` (${untold(probes)})` : '';
  return outcome(
    [
      {
        code: 'etcd-plain-http',
        host: h.name,
        subject: url,
        message:
          `etcd serves clients over plain http on an address other hosts reach${said}: no client certificate can be asked, ` +
          'whoever reaches it reads and writes the whole cluster state, Secrets included',
        fix,
      },
    ],
    1,
    { notes: probes.map(describeProbe) },
  );
}

/**
 * A loopback-only listener without client certificates: only processes on the host reach it, so
 * it is a warning, not a failure (KTHW keeps etcd so on its single server). Any local process, a
 * hostNetwork pod or a local user, still reads every Secret: TLS with client certificates is for
 * every cluster with more than one server or untrusted local users. `probe` is a curl on the host.
 */
export function judgeEtcdLocal(h: HostRef, l: EtcdListener, probe: Probe, fix: string): Outcome {
  const notes = [describeProbe(probe)];
  if (probe.refused) return passed(1, notes);
  if (probe.status === undefined && l.tls) return inconclusive(`etcd at ${l.url} gave no answer that tells (${describeProbe(probe)})`);
  const how = l.tls ? 'without a client certificate' : 'over plain http, without any authentication';
  return outcome([], 1, {
    notes,
    warnings: [
      {
        code: 'etcd-loopback-unauthenticated',
        host: h.name,
        subject: l.url,
        message:
          `etcd answers ${how} on ${l.host} only${probe.status !== undefined ? ` (HTTP ${probe.status} from ${probe.from})` : ''}: ` +
          `only processes on ${h.name} reach it, but any of them (a hostNetwork pod, a local user) reads and writes the whole cluster state`,
        fix,
      },
    ],
  });
}

/** Several outcomes of one check as one: findings and warnings add up; one that cannot tell keeps
 * the check from passing. */
export function combine(parts: readonly Outcome[]): Outcome {
  const findings = parts.flatMap((o) => o.findings);
  const warnings = parts.flatMap((o) => o.warnings ?? []);
  const notes = parts.flatMap((o) => o.notes ?? []);
  const examined = parts.reduce((n, o) => n + o.examined, 0);
  const untoldPart = parts.find((o) => o.inconclusive);
  const extra = { ...(warnings.length ? { warnings } : {}), ...(notes.length ? { notes } : {}) };
  if (!findings.length && untoldPart) return { ...inconclusive(untoldPart.inconclusive!, examined), ...extra };
  return outcome(findings, examined, extra);
}

export interface KubeletAuthConfig {
  anonymous?: boolean;
  mode?: string;
}

/** authentication.anonymous.enabled and authorization.mode of a KubeletConfiguration (YAML). */
export function kubeletConfigOf(yamlText: string | undefined): KubeletAuthConfig | undefined {
  if (!yamlText) return undefined;
  try {
    const doc = parseYaml(yamlText) as { authentication?: { anonymous?: { enabled?: boolean } }; authorization?: { mode?: string } };
    if (!doc || typeof doc !== 'object') return undefined;
    return {
      ...(doc.authentication?.anonymous?.enabled !== undefined ? { anonymous: doc.authentication.anonymous.enabled } : {}),
      ...(doc.authorization?.mode ? { mode: doc.authorization.mode } : {}),
    };
  } catch {
    return undefined;
  }
}

export const KUBELET_CODES = {
  'kubelet-anonymous-access': "kubelet's API serves requests without credentials",
  'kubelet-always-allow': 'kubelet authorizes every authenticated client (authorization.mode AlwaysAllow)',
  'kubelet-anonymous-enabled': 'kubelet accepts anonymous requests, refused only by authorization (a warning)',
};

/** kubelet's API: an answer without credentials fails; so does AlwaysAllow; anonymous enabled warns.
 * `fix` names where the kubelet's settings are written (default: the config file). */
export function judgeKubelet(
  h: HostRef,
  url: string,
  probes: Probe[],
  cfg: KubeletAuthConfig | undefined,
  cfgPath: string,
  fix?: string,
): Outcome {
  fix ??=
    `in ${cfgPath} on ${h.name} set authentication.anonymous.enabled: false, authentication.webhook.enabled: true ` +
    `and authorization.mode: Webhook, then ${h.init.restart('kubelet')}`;
  const on = findingsOn(h.name);
  const open = probes.filter(served);
  const findings: Finding[] = [];
  const warnings: Finding[] = [];
  const port = /:(\d+)\//.exec(url)?.[1] ?? '10250';
  if (open.length) {
    const says = cfg?.anonymous
      ? ` (authentication.anonymous.enabled is true${cfg.mode === 'AlwaysAllow' ? ', authorization.mode AlwaysAllow)' : ')'}`
      : '';
    findings.push(
      on(
        'kubelet-anonymous-access',
        url,
        `kubelet's API answered ${answers(open)} without credentials: ` +
          `whoever reaches port ${port} lists pods and runs commands in them${says}`,
        fix,
      ),
    );
  } else if (cfg?.mode === 'AlwaysAllow') {
    findings.push(
      on(
        'kubelet-always-allow',
        cfgPath,
        'kubelet runs with authorization.mode AlwaysAllow: any authenticated client may do anything on the node',
        fix,
      ),
    );
  } else if (cfg?.anonymous) {
    warnings.push(
      on(
        'kubelet-anonymous-enabled',
        cfgPath,
        'kubelet accepts anonymous requests (authentication.anonymous.enabled: true); they are refused only by authorization',
        fix,
      ),
    );
  }
  const extra = { notes: probes.map(describeProbe), ...(warnings.length ? { warnings } : {}) };
  const examined = answered(probes) + (cfg ? 1 : 0);
  if (!findings.length && !probes.some(authRefused)) {
    const why = `kubelet's API ${url} gave no answer that tells (${untold(probes)}): cannot tell whether it requires authentication`;
    return { ...inconclusive(why, examined), ...extra };
  }
  return outcome(findings, examined, extra);
}

export const ANONYMOUS_CODES = {
  'authorization-always-allow': 'kube-apiserver authorizes everything (--authorization-mode AlwaysAllow or none)',
  'anonymous-read': 'anonymous requests can list namespaces',
};

/**
 * Anonymous access to the apiserver. `flags` are the apiserver's (undefined when they are not
 * known: then only the probes are judged). `edit` turns a change ("set --x=y in") into the fix
 * naming the apiserver's unit and file.
 */
export function judgeAnonymous(
  h: HostRef,
  url: string,
  flags: Pick<FlagSet, 'get'> | undefined,
  probes: Probe[],
  edit?: (change: string) => string,
): Outcome {
  const on = findingsOn(h.name);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const fixWith = edit ?? ((change: string) => `${change} kube-apiserver's unit, then ${h.init.restart('kube-apiserver')}`);
  if (flags) {
    const modes = (flags.get('authorization-mode') ?? '').split(',').filter(Boolean);
    if (modes.length === 0 || modes.includes('AlwaysAllow')) {
      const mode = modes.length ? '--authorization-mode including AlwaysAllow' : 'no --authorization-mode (the default is AlwaysAllow)';
      findings.push(
        on(
          'authorization-always-allow',
          'kube-apiserver',
          `runs with ${mode}: every authenticated user, and anonymous requests too, may do anything`,
          fixWith('set --authorization-mode=Node,RBAC in'),
        ),
      );
    }
    notes.push(
      flags.get('anonymous-auth') !== 'false'
        ? 'anonymous requests are allowed (--anonymous-auth is not false) and must be refused by authorization'
        : '--anonymous-auth=false',
    );
  }
  const open = probes.filter(served);
  if (open.length) {
    findings.push(
      on(
        'anonymous-read',
        url,
        `without credentials answered ${answers(open)}: anonymous users can list namespaces`,
        "find the binding that grants it (kubectl get clusterrolebindings,rolebindings -A -o wide | grep -E 'system:(anonymous|unauthenticated)') " +
          `and delete it, or ${fixWith('set --anonymous-auth=false in')}`,
      ),
    );
  }
  notes.push(...probes.map(describeProbe));
  const examined = (flags ? 1 : 0) + answered(probes);
  if (!findings.length && !probes.some(authRefused)) {
    const why = `${url} gave no answer that tells (${untold(probes)}): cannot tell whether anonymous requests are refused`;
    return { ...inconclusive(why, examined), notes };
  }
  return outcome(findings, examined, { notes });
}

export interface StaticTokenFacts {
  /** --token-auth-file's value, if the apiserver has one. */
  file?: string;
  /** Tokens in it, and how many make their holder a cluster admin (system:masters). */
  tokens?: number;
  admins?: number;
  modelStaticToken: boolean;
  ownedByHardway: boolean;
  /** How to remove the flag, naming the apiserver's unit and file (the caller builds it). */
  remove?: string;
}

export const STATIC_TOKEN_ID = 'security.static-token';
export const STATIC_TOKEN_CODES = {
  'static-token': 'kube-apiserver accepts static tokens (--token-auth-file); a warning in a lab hardway built',
  'static-token-not-in-model': 'kube-apiserver accepts static tokens although the model says apiserver.staticToken: false',
};

/** The static token file: a failure, except in a lab hardway built (a warning there). */
export function judgeStaticToken(h: HostRef, f: StaticTokenFacts): Outcome {
  const examined = 1 + (f.tokens !== undefined ? 1 : 0);
  if (!f.file) {
    return passed(1, [
      f.modelStaticToken
        ? 'no --token-auth-file (the model still says apiserver.staticToken: true; set it to false to match)'
        : 'no --token-auth-file: static tokens are off',
    ]);
  }
  const count =
    f.tokens !== undefined ? ` (${f.tokens} token${f.tokens === 1 ? '' : 's'}${f.admins ? `, ${f.admins} in system:masters` : ''})` : '';
  const what =
    `kube-apiserver accepts static tokens from it${count}: the seed's debugging token never expires and ` +
    `${f.admins === 0 ? 'authenticates whoever holds it' : 'makes its holder cluster-admin'}`;
  const remove =
    f.remove ??
    `remove --token-auth-file from kube-apiserver's unit and delete ${f.file} on ${h.name}, then ${h.init.restart('kube-apiserver')} ` +
      '(set apiserver.staticToken: false in cluster.yaml)';
  const on = findingsOn(h.name);
  if (!f.modelStaticToken) {
    const message = `${what}, although the model says apiserver.staticToken: false`;
    return outcome([on('static-token-not-in-model', f.file, message, `${remove}; ${keepHint(STATIC_TOKEN_ID)}`)], examined);
  }
  if (f.ownedByHardway) {
    const message = `${what}; expected in a lab hardway built (apiserver.staticToken: true), never leave it on a production cluster`;
    return outcome([], examined, { warnings: [on('static-token', f.file, message, remove)] });
  }
  return outcome([on('static-token', f.file, what, `${remove}; ${keepHint(STATIC_TOKEN_ID)}`)], examined);
}

/** Findings the target's owner accepted (inventory accept:) become warnings, with the same codes. */
export function applyAccepted(id: string, accepted: readonly string[] | undefined, o: Outcome): Outcome {
  if (!accepted?.includes(id) || o.findings.length === 0) return o;
  const kept = o.findings.map((f) => ({
    ...f,
    message: `accepted by the inventory (accept: ${id}): ${f.message}`,
    fix: f.fix.replace(/;\s*if you keep it on purpose.*$/, ''),
  }));
  return { ...o, findings: [], warnings: [...(o.warnings ?? []), ...kept] };
}

// ---------------------------------------------------------------------------------------------
// Probes

/** What a TLS error during the probe means: a refusal, unless the port does not speak TLS. */
export function tlsErrorProbe(e: { message?: string; code?: string }): Omit<Probe, 'from'> {
  const reason = tlsReason(e);
  const plain = e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(e.message ?? '');
  if (plain) return { unreachable: `the port does not speak TLS (${reason})` };
  return { refused: reason };
}

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
    // A server that accepts TCP and then says nothing has not refused anything: no answer.
    const within = `within ${timeoutMs / 1000} s`;
    const timer = setTimeout(
      () => finish({ unreachable: tcp ? `no answer ${within} after connecting` : `no connection ${within}` }),
      timeoutMs,
    );
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
      t.once('error', (e: NodeJS.ErrnoException) => finish(tlsErrorProbe(e)));
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
export async function curlProbe(from: Pick<HostView, 'name' | 'access'>, url: string): Promise<Probe> {
  if (!from.access.exec) return { from: from.name, unreachable: 'offline target' };
  // -sS: quiet, but curl's error line (stderr, folded into stdout) says why a handshake failed.
  const cmd =
    'command -v curl >/dev/null || exit 127; ' +
    `curl -sSk -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 8 '${url}' 2>&1; echo " $?"`;
  const r = await from.access.exec(cmd, { timeoutMs: 20_000 }).catch((e: Error) => ({ code: 255, stdout: '', stderr: e.message }));
  if (r.code === 127) return { from: from.name, unreachable: 'no curl on the host' };
  return curlOutcome(from.name, r.stdout);
}

/**
 * curl's output as a probe: its error line (if any), then "<http_code> <exit code>". 6/7/28: no
 * connection; 35 with "wrong version number": the port does not speak TLS (no answer that tells);
 * other TLS errors are refusals.
 */
export function curlOutcome(from: string, out: string): Probe {
  const text = out.trim();
  const m = /(\d{3})\s+(\d+)$/.exec(text);
  if (!m) return { from, unreachable: `unexpected curl output ${JSON.stringify(text.slice(0, 40))}` };
  const [status, exit] = [Number(m[1]), Number(m[2])];
  if (exit === 0 && status > 0) return { from, status };
  const said = /^curl: \(\d+\) (.*)$/m.exec(text)?.[1];
  const tls = said ? /:\s*([^,:]*(?:alert|handshake|certificate)[^,:]*?)\s*(?:,|$)/i.exec(said)?.[1] : undefined;
  const NO_CONNECTION: Record<number, string> = { 6: ' (name not resolved)', 7: ' (connection refused)', 28: ' (timeout)' };
  if (exit in NO_CONNECTION) return { from, unreachable: `curl exit ${exit}${NO_CONNECTION[exit]}` };
  if (exit === 35 && said && /wrong version number/i.test(said)) return { from, unreachable: 'curl exit 35 (the port does not speak TLS)' };
  const why = tls ?? (exit === 35 ? 'TLS handshake failed' : exit === 56 ? 'TLS alert: certificate required' : undefined);
  return { from, refused: `curl exit ${exit}${why ? ` (${why})` : ''}` };
}

/** A plain-http GET from this machine: the answer's status, or why there was none. */
export function httpProbe(from: string, host: string, port: number, path: string, timeoutMs = 5000): Promise<Probe> {
  return new Promise((resolve) => {
    const req = httpRequest({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ from, status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs / 1000} s` })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ from, unreachable: e.code ?? e.message }));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Checks

const RUNNER = 'this machine';

/** The probes the checks make from this machine (tests replace them: no unit test touches the network). */
export const probeFromHere = { tls: tlsProbe, http: httpProbe };

const componentOf = (h: HostView, kind: ComponentFacts['kind']) => h.facts.components.find((c) => c.kind === kind)!;

const staticToken = hostCheck({
  id: STATIC_TOKEN_ID,
  title: "the apiserver no longer accepts the seed's static debugging token (unless the inventory accepts it)",
  on: { component: 'kube-apiserver' },
  needs: ['live'],
  codes: { ...STATIC_TOKEN_CODES },
  async run(ctx, h) {
    const api = componentOf(h, 'kube-apiserver');
    const file = api.flags.get('token-auth-file');
    const facts: StaticTokenFacts = { modelStaticToken: ctx.cluster.apiserver.staticToken, ownedByHardway: ctx.target.ownedByHardway };
    if (file) {
      facts.file = file;
      const model = ctx.target.ownedByHardway
        ? ' (set apiserver.staticToken: false in cluster.yaml, then hardway render)'
        : ctx.target.modelGiven
          ? " (and apiserver.staticToken: false in the inventory's cluster model)"
          : '';
      facts.remove = `${editCommandLine(api, h.init, 'remove --token-auth-file from')}, and delete ${file}${model}`;
      const text = await h.access.readFile(file).catch(() => undefined);
      if (text !== undefined) {
        const tokens = parseTokenCsv(text);
        for (const t of tokens) registerSecret(t.token);
        facts.tokens = tokens.length;
        facts.admins = tokens.filter((t) => t.groups.includes('system:masters')).length;
      }
    }
    return applyAccepted(STATIC_TOKEN_ID, ctx.target.accepted, judgeStaticToken(h, facts));
  },
});

const ANONYMOUS_ID = 'security.anonymous-auth';
const anonymousAuth = hostCheck({
  id: ANONYMOUS_ID,
  title: 'anonymous requests cannot read the API (GET /api/v1/namespaces without credentials is 401/403)',
  on: { component: 'kube-apiserver' },
  needs: ['live'],
  codes: { ...ANONYMOUS_CODES },
  async run(ctx, h) {
    const api = componentOf(h, 'kube-apiserver');
    const ep = await apiEndpoint(ctx, h, api);
    const path = '/api/v1/namespaces';
    const url = ep.url(path);
    const probes = [await probeFromHere.tls(RUNNER, ep.connect.host, ep.connect.port, path)];
    if (probes[0]!.status === undefined) probes.push(await curlProbe(h, `https://${hostPort(ep.local, ep.port)}${path}`));
    const edit = (change: string) => editCommandLine(api, h.init, change);
    return applyAccepted(ANONYMOUS_ID, ctx.target.accepted, judgeAnonymous(h, url, api.flags, probes, edit));
  },
});

/** The CA that should sign etcd's clients: the one it already trusts for peers or that the
 * apiserver verifies it with. */
function etcdClientCa(ctx: CheckContext, c: ComponentFacts): string {
  const api = componentsOf(ctx.facts, 'kube-apiserver')[0];
  return c.flags.get('peer-trusted-ca-file') ?? api?.flags.get('etcd-cafile') ?? "<the CA that issued kube-apiserver's --etcd-certfile>";
}

const ETCD_ID = 'security.etcd-client-cert';
const etcdClientCert = hostCheck({
  id: ETCD_ID,
  title: 'etcd refuses clients without a certificate on every client URL it listens on (from this machine and from a worker)',
  on: { component: 'etcd' },
  needs: ['live'],
  codes: ETCD_CODES,
  async run(ctx, h) {
    const c = componentOf(h, 'etcd');
    const { external, local } = etcdProbeTargets(etcdListeners(c.flags, h.model.internalAddress));
    const worker =
      componentsOf(ctx.facts, 'kubelet').find((k) => k.host !== h.name)?.host ?? ctx.cluster.workers.find((w) => w.host !== h.name)?.host;
    const ca = etcdClientCa(ctx, c);
    const withCa = c.flags.get('trusted-ca-file') ? '' : ` and --trusted-ca-file=${ca}`;
    const certFix = editCommandLine(c, h.init, `add --client-cert-auth=true${withCa} to`);
    const https =
      'serve clients over https: --listen-client-urls and --advertise-client-urls https://..., --cert-file, --key-file, ' +
      `--client-cert-auth=true and --trusted-ca-file=${ca} in`;
    const tlsFix = `${editCommandLine(c, h.init, https)}, and give kube-apiserver --etcd-cafile, --etcd-certfile and --etcd-keyfile`;
    const localFix = (l: EtcdListener) => (l.tls ? certFix : `if more than processes on ${h.name} are to be trusted: ${tlsFix}`);
    const parts = await Promise.all([
      ...external.map(async (l) => {
        const from = worker ? [curlProbe(ctx.host(worker), `${l.url}/version`)] : [];
        if (l.tls) return judgeEtcd(h, l.url, await Promise.all([probeFromHere.tls(RUNNER, l.host, l.port, '/version'), ...from]), certFix);
        return judgeEtcdPlain(h, l.url, await Promise.all([probeFromHere.http(RUNNER, l.host, l.port, '/version'), ...from]), tlsFix);
      }),
      ...local.map(async (l) => judgeEtcdLocal(h, l, await curlProbe(h, `${l.url}/version`), localFix(l))),
    ]);
    if (!parts.length) return inconclusive(`etcd on ${h.name} has no client URL to probe (${c.source('listen-client-urls')})`);
    return applyAccepted(ETCD_ID, ctx.target.accepted, combine(parts));
  },
});

const KUBELET_FLAGS = ['anonymous-auth', 'authentication-token-webhook', 'authorization-mode'];
const KUBELET_FLAGS_SAFE = '--anonymous-auth=false --authentication-token-webhook=true --authorization-mode=Webhook';

const KUBELET_ID = 'security.kubelet-auth';
const kubeletAuth = hostCheck({
  id: KUBELET_ID,
  title: "kubelet's API refuses unauthenticated requests (GET /pods on its port is 401/403)",
  on: { component: 'kubelet' },
  needs: ['live'],
  codes: { ...KUBELET_CODES },
  async run(ctx, h) {
    const c = componentOf(h, 'kubelet');
    const k = c.kubelet;
    const port = k?.port ?? 10250;
    const address = k && !['0.0.0.0', '::', ''].includes(k.address) ? k.address : (k?.nodeIP?.split(',')[0] ?? h.model.internalAddress);
    const url = `https://${hostPort(address, port)}/pods`;
    const probes = [await probeFromHere.tls(RUNNER, address, port, '/pods')];
    const master = componentsOf(ctx.facts, 'kube-apiserver')[0]?.host ?? ctx.cluster.masters[0]?.host;
    if (probes[0]!.status === undefined && master) probes.push(await curlProbe(ctx.host(master), url));
    // The settings in effect (the config file, the flags over it, the defaults without --config).
    const cfg: KubeletAuthConfig | undefined = k ? { anonymous: k.anonymousAuth, mode: k.authorizationMode } : undefined;
    const overriding = KUBELET_FLAGS.filter((f) => c.flags.has(f));
    const cfgPath = k?.configFile ?? commandFile(c);
    const remove = overriding.length
      ? `, and remove ${overriding.map((f) => `--${f}`).join(', ')} from ${c.unit}'s command line in ${commandFile(c)} (they override the file)`
      : '';
    const fix = k?.configFile
      ? `in ${k.configFile} on ${h.name} set authentication.anonymous.enabled: false, authentication.webhook.enabled: true ` +
        `and authorization.mode: Webhook${remove}, then ${h.init.restart(c.unit)}`
      : `${editCommandLine(c, h.init, `add ${KUBELET_FLAGS_SAFE} to`)} (or give it a KubeletConfiguration with --config)`;
    return applyAccepted(KUBELET_ID, ctx.target.accepted, judgeKubelet(h, url, probes, cfg, cfgPath, fix));
  },
});

/** A host check of the certs suite, reused here with its own codes. */
function certsCheck(id: string): HostCheck {
  const c = certsSuite.checks.find((x) => x.id === id);
  if (c?.scope !== 'host') throw new Error(`the certs suite has no host check ${id}`);
  return c;
}

const validity = certsCheck('certs.validity');
const EXPIRY_ID = 'security.cert-expiry';
const certExpiry = hostCheck({
  id: EXPIRY_ID,
  title: 'no certificate has expired or expires within --expiry-warning-days (default 30)',
  on: validity.on,
  // certs.validity's codes; its warning expires-soon is a failure here.
  codes: {
    ...validity.codes,
    'expires-soon': 'the certificate expires within --expiry-warning-days (a failure here, a warning in certs.validity)',
  },
  async run(ctx, h) {
    const o = await validity.run(ctx, h);
    if (o.inconclusive || o.notApplicable || o.needsActive) return o;
    const fix = ctx.target.ownedByHardway
      ? 're-issue it from the cluster CA (hardway render) and install it before it expires: expired certificates stop the cluster'
      : 're-issue it from the CA that signed it and install it (then restart what uses it) before it expires: ' +
        'expired certificates stop the cluster';
    const warnings = o.warnings ?? [];
    const soon = warnings
      .filter((w) => w.code === 'expires-soon')
      .map((w) => ({ ...w, message: `${w.message} (within ${ctx.options.expiryWarningDays} days)`, fix }));
    const rest = warnings.filter((w) => w.code !== 'expires-soon');
    return applyAccepted(
      EXPIRY_ID,
      ctx.target.accepted,
      outcome([...o.findings, ...soon], o.examined, {
        ...(rest.length ? { warnings: rest } : {}),
        ...(o.notes?.length ? { notes: o.notes } : {}),
      }),
    );
  },
});

const placement = certsCheck('certs.ca-key-placement');
const CA_KEY_ID = 'security.ca-key-on-workers';
const caKeyOnWorkers = hostCheck({
  id: CA_KEY_ID,
  title: 'no CA private key (under any name) sits on a worker',
  on: placement.on,
  codes: { ...placement.codes },
  async run(ctx, h) {
    return applyAccepted(CA_KEY_ID, ctx.target.accepted, await placement.run(ctx, h));
  },
});

const MASTERS_ID = 'security.masters-credential-on-workers';
/** The key files a certificate's key usually sits in: cfssl's x-key.pem, openssl's x.key. */
const keyPathsFor = (cert: string) => [cert.replace(/\.pem$/, '-key.pem'), cert.replace(/\.(pem|crt)$/, '.key')].filter((k) => k !== cert);
const mastersCredentialOnWorkers = hostCheck({
  id: MASTERS_ID,
  title: 'no system:masters credential (an admin kubeconfig, or a certificate with its key) sits on a worker',
  on: { role: 'worker' },
  codes: { 'masters-credential-on-worker': 'a worker holds a credential in group system:masters (cluster-admin, bypassing RBAC)' },
  async run(ctx, h) {
    const master = alsoMaster(ctx, h.name);
    if (master) return master;
    // Where admins leave kubeconfigs, every kubeconfig and certificate the node's components use,
    // and every other kubeconfig or certificate in the folders they keep them.
    const used = h.facts.components.flatMap((c) => c.files.map((f) => f.path));
    const dirs = [...new Set(used.map((p) => p.replace(/\/[^/]*$/, '')))].filter((d) => d && d !== '/');
    const listed = (await Promise.all(['/root/.kube', ...dirs].map((d) => listFilesOn(ctx, h.name, d)))).flat();
    const candidates = [...new Set([...ADMIN_KUBECONFIG_CANDIDATES, ...used, ...listed])];
    const kubeconfigs = candidates.filter((p) => /(\.kubeconfig|\.conf|\/\.kube\/config)$/.test(p));
    const certs = candidates.filter((p) => /\.(pem|crt)$/.test(p) && !/-key\.pem$/.test(p));
    // One round trip for what the loops below read: the kubeconfigs, the certificates and the key
    // files next to them (not every file listed: a kubelet's folder holds every pod's volumes).
    await prefetch(ctx, h.name, [...kubeconfigs, ...certs, ...certs.flatMap(keyPathsFor)]);
    const findings: Finding[] = [];
    const warnings: Finding[] = [];
    let examined = 0;
    const add = (j: { findings: Finding[]; warnings: Finding[]; examined: number }) => {
      findings.push(...j.findings);
      warnings.push(...j.warnings);
      examined += j.examined;
    };
    // A file that is there but hardway may not read could be the admin's credential.
    const unreadable = new Set<string>();
    const read = async (path: string) => {
      const f = await fileStateOn(ctx, h.name, path);
      if (f.state === 'unreadable') unreadable.add(path);
      return f.state === 'present' ? f.text : undefined;
    };
    for (const path of kubeconfigs) {
      const text = await read(path);
      if (text === undefined || !/\bkind:\s*Config\b|\bclusters:/.test(text)) continue;
      const k = await resolveKubeconfig(text, path, read, { host: h.name });
      add(judgeMastersKubeconfigOnWorker(k, h.name, 'worker'));
    }
    for (const path of certs) {
      const pem = await read(path);
      if (!pem?.includes('-----BEGIN CERTIFICATE-----')) continue;
      let key;
      for (const kp of keyPathsFor(path)) {
        const k = await read(kp);
        if (k !== undefined) {
          key = { path: kp, pem: k };
          break;
        }
      }
      add(judgeMastersCredentialOnWorker({ host: h.name, role: 'worker', where: path, cert: { path, pem }, ...(key ? { key } : {}) }));
    }
    const fixed = findings.map((f) => ({ ...f, fix: `${f.fix}; ${keepHint(MASTERS_ID)}` }));
    if (!examined && !unreadable.size)
      return notApplicable(`no kubeconfig or certificate on ${h.name} in ${['/root/.kube', ...dirs].join(', ')}`);
    // What could not be read may be the credential: without a finding the check cannot tell (the
    // engine lets findings fail it first; accepted ones become warnings, and it is inconclusive).
    const cannotTell = unreadable.size
      ? { inconclusive: unreadableFiles(h.name, [...unreadable], 'a system:masters credential sits on it') }
      : {};
    return applyAccepted(
      MASTERS_ID,
      ctx.target.accepted,
      outcome(fixed, examined, { ...(warnings.length ? { warnings } : {}), ...cannotTell }),
    );
  },
});

export const securitySuite: Suite = {
  name: 'security',
  title:
    'Security: static token, anonymous access, etcd and kubelet authentication, expiring certificates, CA key and admin credential placement',
  dependsOn: [],
  checks: [staticToken, anonymousAuth, etcdClientCert, kubeletAuth, certExpiry, caKeyOnWorkers, mastersCredentialOnWorkers],
};
