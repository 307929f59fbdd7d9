// The security suite: what an operator of a hand-built cluster must not leave open, checked from
// the outside the way an attacker would try it, read-only:
//   - the apiserver's static debugging token (the seed's curl token, cluster-admin, never expires)
//   - anonymous requests: GET /api/v1/namespaces without credentials must be 401/403
//   - etcd must refuse a TLS client without a certificate (from this machine and from a worker)
//   - kubelet's API must refuse unauthenticated requests (GET /pods on port 10250)
//   - certificates expiring within --expiry-warning-days (30 by default) fail here
//   - no CA private key on a worker
// A finding the target's owner keeps deliberately is listed under `accept:` in the inventory and
// reported as a warning. A probe that gets no answer that tells makes its check inconclusive; a
// unit whose definition cannot be read (the command line is the evidence) never passes.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { K8S_DIR } from '../../harness/pki/plan.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import { type UnitState, parseUnitStates } from '../../harness/system/init-system.ts';
import {
  type CheckContext, type Finding, type HostCheck, type HostView, type Outcome, type Suite,
  findingsOn, hostCheck, inconclusive, outcome, passed,
} from '../../harness/verify/check.ts';
import { certsSuite } from '../certs/certs.ts';
import { parse as parseTokenCsv } from '../apiserver/token-file.ts';

/** What the judges need of a host: its name (for findings) and its init system (for fixes). */
export type HostRef = Pick<HostView, 'name' | 'init'>;

// ---------------------------------------------------------------------------------------------
// Pure logic (unit-tested in security.test.ts)

/**
 * Flags of a unit (systemctl cat) or an OpenRC script: --name=value, bare --name -> "true".
 * For systemd only the command line in effect counts: the last non-empty ExecStart= (a drop-in's
 * empty ExecStart= resets the unit's, its next ExecStart= replaces it). For OpenRC the whole
 * text (init script and conf.d; a flag given twice keeps its last value).
 */
export function unitFlags(text: string): Map<string, string> {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ').split('\n');
  const exec = lines.filter((l) => /^\s*ExecStart=/.test(l) && !/^\s*ExecStart=\s*$/.test(l));
  const body = exec.length ? exec[exec.length - 1]! : lines.join('\n');
  const flags = new Map<string, string>();
  for (const m of body.matchAll(/(?:^|[\s"'])--([a-z0-9][a-z0-9-]*)(?:=("[^"]*"|'[^']*'|[^\s"'\\]*))?/g)) {
    const v = m[2] === undefined ? 'true' : m[2].replace(/^["']|["']$/g, '');
    flags.set(m[1]!, v);
  }
  return flags;
}

/** Separates the definition from the unit's state line in readUnit's output. */
export const UNIT_STATE_MARK = '--- hardway: unit state ---';

/** A unit's definition (systemctl cat, or the init script and conf.d) and its state. */
export interface UnitRead {
  unit: string;
  text: string;
  state?: UnitState;
}

/** readUnit's output: the definition, the mark, then the init system's `name|active|...` line. */
export function parseUnitRead(unit: string, out: string): UnitRead {
  const i = out.lastIndexOf(`${UNIT_STATE_MARK}\n`);
  if (i < 0) return { unit, text: out };
  const state = parseUnitStates(out.slice(i + UNIT_STATE_MARK.length + 1)).find((s) => s.name === unit);
  return { unit, text: out.slice(0, i), ...(state ? { state } : {}) };
}

/**
 * The unit's text is the evidence of the checks that read it. None: on a host that should run the
 * unit and does not, a finding; when it runs, or the init system did not answer (state unknown:
 * systemctl without a bus prints nothing at all), inconclusive.
 */
export function unitUnread(h: HostRef, u: UnitRead): Outcome | undefined {
  if (u.text.trim()) return undefined;
  const how = h.init.kind === 'openrc' ? `/etc/init.d/${u.unit}` : `systemctl cat ${u.unit}`;
  if (!u.state || u.state.active === 'unknown') {
    return inconclusive(`${h.name}: ${how} printed nothing and the init system gave no state for ${u.unit}: no command line to judge`);
  }
  if (u.state.active === 'active') return inconclusive(`${h.name}: ${u.unit} runs, but ${how} printed nothing: no command line to judge`);
  return outcome([{
    code: 'unit-missing',
    host: h.name,
    subject: u.unit,
    message: `has no definition (${how} printed nothing) and is ${u.state.active}: ${h.name} should run it, and there is no command line to judge`,
    fix: 'install it (hardway render and install put it there); see hosts.services-active',
  }], 1);
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
const authRefused = (p: Probe) => p.status === 401 || p.status === 403;
const answered = (probes: Probe[]) => probes.filter((p) => p.status !== undefined).length;
const answers = (ps: Probe[]) => ps.map((p) => `HTTP ${p.status} (from ${p.from})`).join(', ');

const describe = (p: Probe) =>
  `${p.from}: ${p.status !== undefined ? `HTTP ${p.status}` : p.refused ? `refused (${p.refused})` : `not reachable (${p.unreachable})`}`;
const untold = (probes: Probe[]) => probes.map(describe).join('; ');

/** "if you keep it on purpose": the part of a fix that applyAccepted drops. */
const keepHint = (id: string) => `if you keep it on purpose, list ${id} under accept: in the inventory`;

export const ETCD_CODES = { 'etcd-no-client-cert': 'etcd answers a client that presents no certificate' };

/** etcd must refuse the TLS client without a certificate: any HTTP answer fails, refusals tell. */
export function judgeEtcd(h: HostRef, url: string, probes: Probe[]): Outcome {
  const got = probes.filter((p) => p.status !== undefined);
  const telling = probes.filter((p) => p.status !== undefined || p.refused).length;
  const notes = probes.map(describe);
  if (got.length) {
    return outcome([{
      code: 'etcd-no-client-cert',
      host: h.name,
      subject: url,
      message: `etcd answered ${answers(got)} to a client without a certificate: ` +
        'whoever reaches port 2379 reads and writes the whole cluster state, Secrets included',
      fix: `--client-cert-auth=true and --trusted-ca-file=${K8S_DIR}/ca.pem in etcd's unit on ${h.name}, then ${h.init.restart('etcd')} ` +
        '(and firewall 2379 to the masters and workers)',
    }], telling, { notes });
  }
  if (telling) return passed(telling, notes);
  return inconclusive(`etcd at ${url} gave no answer that tells (${untold(probes)}): cannot tell whether it requires client certificates`);
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

/** kubelet's API: an answer without credentials fails; so does AlwaysAllow; anonymous enabled warns. */
export function judgeKubelet(h: HostRef, url: string, probes: Probe[], cfg: KubeletAuthConfig | undefined, cfgPath: string): Outcome {
  const fix = `in ${cfgPath} on ${h.name} set authentication.anonymous.enabled: false, authentication.webhook.enabled: true ` +
    `and authorization.mode: Webhook, then ${h.init.restart('kubelet')}`;
  const on = findingsOn(h.name);
  const open = probes.filter(served);
  const findings: Finding[] = [];
  const warnings: Finding[] = [];
  if (open.length) {
    const says = cfg?.anonymous ? ` (authentication.anonymous.enabled is true${cfg.mode === 'AlwaysAllow' ? ', authorization.mode AlwaysAllow)' : ')'}` : '';
    findings.push(on('kubelet-anonymous-access', url,
      `kubelet's API answered ${answers(open)} without credentials: whoever reaches port 10250 lists pods and runs commands in them${says}`, fix));
  } else if (cfg?.mode === 'AlwaysAllow') {
    findings.push(on('kubelet-always-allow', cfgPath,
      'kubelet runs with authorization.mode AlwaysAllow: any authenticated client may do anything on the node', fix));
  } else if (cfg?.anonymous) {
    warnings.push(on('kubelet-anonymous-enabled', cfgPath,
      'kubelet accepts anonymous requests (authentication.anonymous.enabled: true); they are refused only by authorization', fix));
  }
  const extra = { notes: probes.map(describe), ...(warnings.length ? { warnings } : {}) };
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
 * Anonymous access to the apiserver. `flags` are the apiserver's (undefined when its definition
 * could not be read: then only the probes are judged, and the caller keeps the check from passing).
 */
export function judgeAnonymous(h: HostRef, url: string, flags: Map<string, string> | undefined, probes: Probe[]): Outcome {
  const on = findingsOn(h.name);
  const findings: Finding[] = [];
  const notes: string[] = [];
  if (flags) {
    const modes = (flags.get('authorization-mode') ?? '').split(',').filter(Boolean);
    if (modes.length === 0 || modes.includes('AlwaysAllow')) {
      const mode = modes.length ? '--authorization-mode including AlwaysAllow' : 'no --authorization-mode (the default is AlwaysAllow)';
      findings.push(on('authorization-always-allow', 'kube-apiserver',
        `runs with ${mode}: every authenticated user, and anonymous requests too, may do anything`,
        `--authorization-mode=Node,RBAC in kube-apiserver's unit, then ${h.init.restart('kube-apiserver')}`));
    }
    notes.push(flags.get('anonymous-auth') !== 'false'
      ? 'anonymous requests are allowed (--anonymous-auth is not false) and must be refused by authorization'
      : '--anonymous-auth=false');
  }
  const open = probes.filter(served);
  if (open.length) {
    findings.push(on('anonymous-read', url, `without credentials answered ${answers(open)}: anonymous users can list namespaces`,
      "find the binding that grants it (kubectl get clusterrolebindings,rolebindings -A -o wide | grep -E 'system:(anonymous|unauthenticated)') " +
      'and delete it, or run kube-apiserver with --anonymous-auth=false'));
  }
  notes.push(...probes.map(describe));
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
    return passed(1, [f.modelStaticToken
      ? 'no --token-auth-file (the model still says apiserver.staticToken: true; set it to false to match)'
      : 'no --token-auth-file: static tokens are off']);
  }
  const count = f.tokens !== undefined ? ` (${f.tokens} token${f.tokens === 1 ? '' : 's'}${f.admins ? `, ${f.admins} in system:masters` : ''})` : '';
  const what = `kube-apiserver accepts static tokens from it${count}: the seed's debugging token never expires and ` +
    `${f.admins === 0 ? 'authenticates whoever holds it' : 'makes its holder cluster-admin'}`;
  const remove = `remove --token-auth-file from kube-apiserver's unit and delete ${f.file} on ${h.name}, then ${h.init.restart('kube-apiserver')} ` +
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

/** A judgement made without the unit's text keeps its findings, but cannot pass. */
export function withoutUnit(unread: Outcome, j: Outcome): Outcome {
  if (j.findings.length) return { ...j, findings: [...unread.findings, ...j.findings], examined: j.examined + unread.examined };
  return { ...unread, ...(j.warnings?.length ? { warnings: j.warnings } : {}), ...(j.notes?.length ? { notes: j.notes } : {}) };
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
    const timer = setTimeout(() => finish({ unreachable: tcp ? `no answer ${within} after connecting` : `no connection ${within}` }), timeoutMs);
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
  const cmd = 'command -v curl >/dev/null || exit 127; ' +
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

// ---------------------------------------------------------------------------------------------
// Checks

const RUNNER = 'this machine';
const DEFAULT_KUBELET_CONFIG = `${K8S_DIR}/kubelet/kubelet-config.yaml`;

/** The unit's definition and state, in one command (memoized: two checks read kube-apiserver's). */
function readUnit(ctx: CheckContext, h: HostView, unit: string): Promise<UnitRead> {
  return ctx.memo(`security:unit:${h.name}:${unit}`, async () => {
    const script = `${h.init.definition(unit)}; echo '${UNIT_STATE_MARK}'; ${h.init.stateScript([unit])}`;
    const r = await h.access.exec!(script, { timeoutMs: 20_000 });
    return parseUnitRead(unit, r.stdout);
  });
}

const UNIT_MISSING = { 'unit-missing': 'the component\'s unit is not on a host that should run it (nothing to judge)' };

const staticToken = hostCheck({
  id: STATIC_TOKEN_ID,
  title: 'the apiserver no longer accepts the seed\'s static debugging token (unless the inventory accepts it)',
  on: { component: 'kube-apiserver' },
  needs: ['live'],
  codes: { ...STATIC_TOKEN_CODES, ...UNIT_MISSING },
  async run(ctx, h) {
    const u = await readUnit(ctx, h, 'kube-apiserver');
    const unread = unitUnread(h, u);
    if (unread) return unread;
    const file = unitFlags(u.text).get('token-auth-file');
    const facts: StaticTokenFacts = { modelStaticToken: ctx.cluster.apiserver.staticToken, ownedByHardway: ctx.target.ownedByHardway };
    if (file) {
      facts.file = file;
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
  codes: { ...ANONYMOUS_CODES, ...UNIT_MISSING },
  async run(ctx, h) {
    const port = ctx.cluster.apiserver.port;
    const path = '/api/v1/namespaces';
    const url = `https://${h.model.address}:${port}${path}`;
    const [u, first] = await Promise.all([readUnit(ctx, h, 'kube-apiserver'), tlsProbe(RUNNER, h.model.address, port, path)]);
    const probes = [first];
    if (first.status === undefined) probes.push(await curlProbe(h, `https://127.0.0.1:${port}${path}`));
    const unread = unitUnread(h, u);
    const j = applyAccepted(ANONYMOUS_ID, ctx.target.accepted, judgeAnonymous(h, url, unread ? undefined : unitFlags(u.text), probes));
    return unread ? withoutUnit(unread, j) : j;
  },
});

const ETCD_ID = 'security.etcd-client-cert';
const etcdClientCert = hostCheck({
  id: ETCD_ID,
  title: 'etcd refuses clients without a certificate (from this machine and from a worker)',
  on: { component: 'etcd' },
  needs: ['live'],
  codes: ETCD_CODES,
  async run(ctx, h) {
    const address = h.model.internalAddress;
    const url = `https://${address}:2379`;
    const w = ctx.cluster.workers[0];
    const probes = await Promise.all([
      tlsProbe(RUNNER, address, 2379, '/version'),
      ...(w ? [curlProbe(ctx.host(w.host), `${url}/version`)] : []),
    ]);
    return applyAccepted(ETCD_ID, ctx.target.accepted, judgeEtcd(h, url, probes));
  },
});

const KUBELET_ID = 'security.kubelet-auth';
const kubeletAuth = hostCheck({
  id: KUBELET_ID,
  title: 'kubelet\'s API refuses unauthenticated requests (GET :10250/pods is 401/403)',
  on: { component: 'kubelet' },
  needs: ['live'],
  codes: { ...KUBELET_CODES, ...UNIT_MISSING },
  async run(ctx, h) {
    const url = `https://${h.model.internalAddress}:10250/pods`;
    const [u, first] = await Promise.all([readUnit(ctx, h, 'kubelet'), tlsProbe(RUNNER, h.model.internalAddress, 10250, '/pods')]);
    const probes = [first];
    const master = ctx.cluster.masters[0];
    if (first.status === undefined && master) probes.push(await curlProbe(ctx.host(master.host), url));
    // The unit names the config file; without it, the default path is read and the check cannot pass.
    const unread = unitUnread(h, u);
    const cfgPath = (unread ? undefined : unitFlags(u.text).get('config')) ?? DEFAULT_KUBELET_CONFIG;
    const cfg = kubeletConfigOf(await h.access.readFile(cfgPath).catch(() => undefined));
    const j = applyAccepted(KUBELET_ID, ctx.target.accepted, judgeKubelet(h, url, probes, cfg, cfgPath));
    return unread ? withoutUnit(unread, j) : j;
  },
});

/** A host check of the certs suite, reused here with its own codes. */
function certsCheck(id: string): HostCheck {
  const c = certsSuite.checks.find((x) => x.id === id);
  if (!c || c.scope !== 'host') throw new Error(`the certs suite has no host check ${id}`);
  return c;
}

const validity = certsCheck('certs.validity');
const EXPIRY_ID = 'security.cert-expiry';
const certExpiry = hostCheck({
  id: EXPIRY_ID,
  title: 'no certificate has expired or expires within --expiry-warning-days (default 30)',
  on: validity.on,
  // certs.validity's codes; its warning expires-soon is a failure here.
  codes: { ...validity.codes, 'expires-soon': 'the certificate expires within --expiry-warning-days (a failure here, a warning in certs.validity)' },
  async run(ctx, h) {
    const o = await validity.run(ctx, h);
    if (o.inconclusive || o.notApplicable || o.needsActive) return o;
    const fix = 're-issue it from the cluster CA (hardway render) and install it before it expires: expired certificates stop the cluster';
    const warnings = o.warnings ?? [];
    const soon = warnings.filter((w) => w.code === 'expires-soon')
      .map((w) => ({ ...w, message: `${w.message} (within ${ctx.options.expiryWarningDays} days)`, fix }));
    const rest = warnings.filter((w) => w.code !== 'expires-soon');
    return applyAccepted(EXPIRY_ID, ctx.target.accepted, outcome([...o.findings, ...soon], o.examined, {
      ...(rest.length ? { warnings: rest } : {}),
      ...(o.notes?.length ? { notes: o.notes } : {}),
    }));
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

export const securitySuite: Suite = {
  name: 'security',
  title: 'Security: static token, anonymous access, etcd and kubelet authentication, expiring certificates, CA key placement',
  dependsOn: [],
  checks: [staticToken, anonymousAuth, etcdClientCert, kubeletAuth, certExpiry, caKeyOnWorkers],
};
