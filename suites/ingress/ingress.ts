// The ingress suite: the seed's two addresses, checked the way a visitor meets them.
//   http://no-https.<domain>/  must answer (the seed's "if something went wrong, check this one")
//   https://<domain>/          must open in a real browser with a certificate from the ACME CA
// Requests go from this machine to the workers' addresses as the outside world's DNS gives them
// (the model's DNS upstream: the lab's edge host), so a wrong DNS record, a stopped gateway on one
// worker, a backend without endpoints, a broken issuer or a foreign certificate each fail the check
// that meets them first, with the cause named. Trust comes from the ACME CA only: the lab's Pebble
// publishes its (per start) root on its management API; a public ACME CA is trusted as browsers do.
// Every check needs the HTTPS edge (`needs: ['edge']`): without an ingress section it is
// not-applicable. Subjects name objects as <kind>/<namespace>/<name> (<kind>/<name> when
// cluster-scoped), addresses as the URL requested.
import type { Browser } from '@playwright/test';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { type AcmeState, type CmObject, conditionOf, describeAcmeState, ownedChain } from '../../harness/edge/acme-status.ts';
import { APP, APP_NS, CERT_MANAGER_NS, GATEWAY_DAEMONSET, GATEWAY_NS, GATEWAY_POD_LABELS } from '../../harness/edge/manifests.ts';
import type { Cluster } from '../../harness/model/cluster.ts';
import { parseCertificates, publicKeyDerOf, x509 } from '../../harness/pki/keys.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import {
  type CheckContext,
  type Finding,
  type HostView,
  type Outcome,
  type Suite,
  clusterCheck,
  findingsOn,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
  renderFinding,
} from '../../harness/verify/check.ts';
import { decode, query } from '../../harness/verify/dns.ts';
import { apiError, kube } from '../../harness/verify/kube.ts';
import { podProblem } from '../../harness/verify/workspace.ts';

const TIMEOUT_MS = 5000;
/** The CA/Browser Forum's ceiling for a publicly trusted server certificate. */
const MAX_LIFETIME_DAYS = 398;
/** Pebble's management interface (harness/providers/lab/acme.ts): the ACME port + 1000. */
const PEBBLE_MANAGEMENT_PORT = 15000;

type Json = Record<string, unknown>;
type Edge = NonNullable<Cluster['ingress']>;
const G = {
  cm: { group: 'cert-manager.io', version: 'v1' },
  acme: { group: 'acme.cert-manager.io', version: 'v1' },
  gw: { group: 'gateway.networking.k8s.io', version: 'v1' },
};

/** The model's ingress section; every check declares needs: ['edge'], so the engine ran it only with one. */
function edgeOf(ctx: CheckContext): Edge {
  const ing = ctx.cluster.ingress;
  if (!ing) throw new Error('the cluster model has no ingress section');
  return ing;
}

function custom(ctx: CheckContext): Promise<k8s.CustomObjectsApi> {
  return ctx.memo('ingress:custom', async () => (await kube(ctx)).kc.makeApiClient(k8s.CustomObjectsApi));
}

async function listAll(ctx: CheckContext, g: { group: string; version: string }, plural: string): Promise<CmObject[]> {
  const api = await custom(ctx);
  const r = (await api.listClusterCustomObject({ ...g, plural })) as { items?: CmObject[] };
  return r.items ?? [];
}

const nsOf = (o: CmObject) => o.metadata?.namespace ?? 'default';
const objectName = (kind: string, o: CmObject) => `${kind}/${nsOf(o)}/${o.metadata?.name ?? '?'}`;

// ---- the outside world's view: DNS and plain requests from this machine ----------------------

/** The resolver the outside world uses for the app's names: the model's first DNS upstream. */
function outsideResolver(c: Cluster): string | undefined {
  return c.dns.upstreams.find((u) => isIP(u) === 4);
}

async function udpQuery(server: string, name: string): Promise<string[]> {
  const q = query(name, 'udp');
  const sock = createSocket('udp4');
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${server}:53 within 3 s`)), 3000);
      sock.on('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.send(q.bytes, 53, server);
    });
    const a = decode(reply, q.id, 'udp');
    if (a.rcode !== 'NOERROR') throw new Error(`${server} answers ${a.rcode}`);
    return a.addresses;
  } finally {
    sock.close();
  }
}

/** Addresses of `name` as a visitor's resolver gives them (memoized per run). */
function resolveOutside(ctx: CheckContext, name: string): Promise<{ addresses: string[]; via: string; error?: string }> {
  return ctx.memo(`ingress:dns:${name}`, async () => {
    const server = outsideResolver(ctx.cluster);
    try {
      if (server) return { addresses: [...new Set(await udpQuery(server, name))], via: `${server}:53` };
      return { addresses: (await lookup(name, { all: true, family: 4 })).map((a) => a.address), via: "this machine's resolver" };
    } catch (e) {
      return { addresses: [], via: server ? `${server}:53` : "this machine's resolver", error: (e as Error).message };
    }
  });
}

export interface HttpAnswer {
  status?: number;
  location?: string;
  body?: string;
  error?: string;
  code?: string;
  peerDer?: Buffer;
}

function fetchVia(address: string, host: string, path: string, tls?: { ca?: string[] }): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const headers = { Host: host, 'User-Agent': 'hardway-ingress-suite' };
    const opts = { host: address, port: tls ? 443 : 80, path, method: 'GET', headers, timeout: TIMEOUT_MS };
    const req = tls
      ? httpsRequest({ ...opts, servername: host, ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: true, agent: false })
      : httpRequest({ ...opts, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const peer = tls ? (res.socket as TLSSocket).getPeerCertificate?.()?.raw : undefined;
      res.on('data', (d: Buffer) => {
        if (chunks.length < 64) chunks.push(d);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(res.headers.location ? { location: res.headers.location } : {}),
          ...(peer ? { peerDer: peer } : {}),
        }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    // Node appends advice about its own trust store to TLS errors; the diagnosis has its own.
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ error: e.message.split('; if the root CA')[0]!, ...(e.code ? { code: e.code } : {}) }),
    );
    req.end();
  });
}

// ---- cluster-side facts for the diagnoses ----------------------------------------------------

interface GatewayState {
  pod?: string;
  /** What is wrong, with its code and subject (a DaemonSet or a pod). */
  problem?: { code: 'gateway-missing' | 'gateway-not-ready'; subject: string; message: string };
}

/** The gateway pod on a worker's node, and what is wrong with it (if anything). */
async function gatewayOn(ctx: CheckContext, h: HostView): Promise<GatewayState> {
  const node = h.model.nodeName;
  const k = await kube(ctx);
  const selector = Object.entries(GATEWAY_POD_LABELS)
    .map(([a, b]) => `${a}=${b}`)
    .join(',');
  const pods = (await k.core.listNamespacedPod({ namespace: GATEWAY_NS, labelSelector: selector })).items.filter(
    (p) => p.spec?.nodeName === node,
  );
  const dsName = `daemonset/${GATEWAY_NS}/${GATEWAY_DAEMONSET}`;
  const missing = (message: string): GatewayState => ({ problem: { code: 'gateway-missing', subject: dsName, message } });
  if (!pods.length) {
    const ds = await k.apps.readNamespacedDaemonSet({ namespace: GATEWAY_NS, name: GATEWAY_DAEMONSET }).catch(() => undefined);
    if (!ds) return missing(`there is no gateway DaemonSet ${GATEWAY_NS}/${GATEWAY_DAEMONSET}`);
    const sel = Object.entries(ds.spec?.template.spec?.nodeSelector ?? {})
      .map(([a, b]) => `${a}=${b}`)
      .join(',');
    const n = await k.core.readNode({ name: node }).catch(() => undefined);
    const taints = (n?.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', ');
    const why = sel ? `; its nodeSelector ${sel} leaves ${node} out` : taints ? `; ${node} is tainted ${taints}` : '';
    const ready = `${ds.status?.numberReady ?? 0}/${ds.status?.desiredNumberScheduled ?? 0} ready cluster-wide`;
    return missing(`the gateway DaemonSet ${GATEWAY_NS}/${GATEWAY_DAEMONSET} has no pod on node ${node} (${ready})${why}`);
  }
  const pod = pods[0]!;
  const name = pod.metadata?.name ?? '?';
  if (pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) return { pod: name };
  const message = `gateway pod ${name} on ${node} is not Ready: ${await podProblem(k, GATEWAY_NS, name)}`;
  return { pod: name, problem: { code: 'gateway-not-ready', subject: `pod/${GATEWAY_NS}/${name}`, message } };
}

export interface RouteInfo {
  name: string;
  namespace: string;
  backends: { namespace: string; name: string }[];
  redirect?: { scheme?: string; statusCode?: number };
  sections: string[];
}

/** What the checks need of an HTTPRoute: its backends, its first RequestRedirect, its listeners. */
export function routeInfo(r: CmObject): RouteInfo {
  const ns = nsOf(r);
  const rules = (r.spec?.rules as Json[] | undefined) ?? [];
  const backends = rules.flatMap((x) =>
    ((x.backendRefs as Json[] | undefined) ?? []).map((b) => ({
      namespace: (b.namespace as string | undefined) ?? ns,
      name: b.name as string,
    })),
  );
  const redirect = rules.flatMap((x) =>
    ((x.filters as Json[] | undefined) ?? [])
      .filter((f) => f.type === 'RequestRedirect')
      .map((f) => f.requestRedirect as { scheme?: string; statusCode?: number }),
  )[0];
  const sections = ((r.spec?.parentRefs as Json[] | undefined) ?? []).map((p) => (p.sectionName as string | undefined) ?? '');
  return { name: r.metadata?.name ?? '?', namespace: ns, backends, sections, ...(redirect ? { redirect } : {}) };
}

/** HTTPRoutes that serve `host` (Gateway API: what the seed's Ingress resources became). */
async function routesFor(ctx: CheckContext, host: string): Promise<RouteInfo[]> {
  const all = await ctx.memo('ingress:routes', () => listAll(ctx, G.gw, 'httproutes'));
  return all.filter((r) => ((r.spec?.hostnames as string[] | undefined) ?? []).includes(host)).map(routeInfo);
}

/** Why a backend answers 5xx: its Service's ready endpoints and its Deployment's replicas. */
async function backendProblem(ctx: CheckContext, backends: { namespace: string; name: string }[]): Promise<string | undefined> {
  const k = await kube(ctx);
  for (const b of backends) {
    const slices = await k.discovery
      .listNamespacedEndpointSlice({ namespace: b.namespace, labelSelector: `kubernetes.io/service-name=${b.name}` })
      .catch(() => undefined);
    const ready = (slices?.items ?? []).flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready));
    if (ready.length) continue;
    const svc = await k.core.readNamespacedService({ namespace: b.namespace, name: b.name }).catch(() => undefined);
    if (!svc) return `the route's backend Service ${b.namespace}/${b.name} does not exist`;
    const sel = Object.entries(svc.spec?.selector ?? {})
      .map(([a, v]) => `${a}=${v}`)
      .join(',');
    const deps = (await k.apps.listNamespacedDeployment({ namespace: b.namespace })).items.filter((d) =>
      Object.entries(d.spec?.selector?.matchLabels ?? {}).every(([a, v]) => svc.spec?.selector?.[a] === v),
    );
    const reps = deps.map((d) => `Deployment ${d.metadata?.name}: ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0} replicas ready`);
    const detail = `selector ${sel || 'none'}${reps.length ? `; ${reps.join(', ')}` : ''}`;
    return `Service ${b.namespace}/${b.name} has no ready endpoints (${detail}): nothing to send the request to`;
  }
  return undefined;
}

// ---- cert-manager and the ACME CA ------------------------------------------------------------

async function certificatesFor(ctx: CheckContext, host: string): Promise<CmObject[]> {
  const all = await ctx.memo('ingress:certificates', () => listAll(ctx, G.cm, 'certificates'));
  return all.filter((c) => ((c.spec?.dnsNames as string[] | undefined) ?? []).includes(host));
}

async function issuerOf(ctx: CheckContext, cert: CmObject): Promise<CmObject | undefined> {
  const ref = cert.spec?.issuerRef as { name: string; kind?: string } | undefined;
  if (!ref) return undefined;
  const api = await custom(ctx);
  const got =
    (ref.kind ?? 'Issuer') === 'ClusterIssuer'
      ? api.getClusterCustomObject({ ...G.cm, plural: 'clusterissuers', name: ref.name })
      : api.getNamespacedCustomObject({ ...G.cm, namespace: nsOf(cert), plural: 'issuers', name: ref.name });
  return (await got.catch(() => undefined)) as CmObject | undefined;
}

async function acmeState(ctx: CheckContext, cert: CmObject): Promise<AcmeState> {
  const api = await custom(ctx);
  const ns = nsOf(cert);
  const list = async (g: { group: string; version: string }, plural: string) =>
    ((await api.listNamespacedCustomObject({ ...g, namespace: ns, plural })) as { items?: CmObject[] }).items ?? [];
  const [requests, orders, challenges] = await Promise.all([
    list(G.cm, 'certificaterequests'),
    list(G.acme, 'orders'),
    list(G.acme, 'challenges'),
  ]);
  const issuer = await issuerOf(ctx, cert);
  return { certificate: cert, ...ownedChain(cert, requests, orders, challenges), ...(issuer ? { issuer } : {}) };
}

export interface TrustAnchor {
  /** PEM roots the site's chain must reach; undefined: a public CA (the platform's roots). */
  roots?: string[];
  source: string;
}

/**
 * The ACME CA's root. With a private ACME server (an issuer with caBundle: the lab's Pebble) it is
 * read from Pebble's management API, over TLS checked against that same caBundle; otherwise the
 * CA is a public one and the platform's roots apply. When Pebble does not answer, this throws and
 * the check that needs the root is inconclusive.
 */
function trustAnchor(ctx: CheckContext): Promise<TrustAnchor> {
  return ctx.memo('ingress:trust', async () => {
    const ing = edgeOf(ctx);
    const first = ing.hosts[0];
    const cert = first ? (await certificatesFor(ctx, first))[0] : undefined;
    const issuer = cert ? await issuerOf(ctx, cert) : undefined;
    const acme = issuer?.spec?.acme as { server?: string; caBundle?: string } | undefined;
    // The model's ACME server, not the issuer's: an issuer pointing elsewhere is a fault to find.
    const server = ing.acmeServer;
    if (!acme?.caBundle) return { source: `public ACME CA ${server}: the platform's trusted roots` };
    const tlsCa = Buffer.from(acme.caBundle, 'base64').toString('utf8');
    const u = new URL(server);
    const url = `https://${u.hostname}:${PEBBLE_MANAGEMENT_PORT}/roots/0`;
    const pem = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(url, { ca: [tlsCa], timeout: TIMEOUT_MS, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url} answered HTTP ${res.statusCode}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end();
    });
    if (!parseCertificates(pem).length) throw new Error(`${url} returned no certificate`);
    return { roots: [pem], source: `the ACME CA's root from ${url}` };
  });
}

export const CHAIN_CODES = {
  'tls-crt-empty': "the secret's tls.crt holds no certificate",
  'name-missing': 'the certificate does not name the host',
  'not-yet-valid': 'the certificate is not valid yet',
  expired: 'the certificate has expired',
  'lifetime-too-long': 'the certificate is valid longer than browsers accept',
  'key-mismatch': 'tls.key does not belong to the certificate',
  'chain-out-of-order': 'a certificate of tls.crt is not signed by the next one',
  'self-signed': 'the certificate is self-signed, not from the ACME CA',
  'foreign-ca': "the chain does not lead to the ACME CA's root",
} as const;

export interface ChainVerdict {
  findings: Finding[];
  /** The findings rendered (harness/edge/edge.test.ts still asserts on these lines). */
  problems: string[];
  notes: string[];
  leaf?: x509.X509Certificate;
}

/** The secret's chain: leaf for `host`, sane validity, key pair, and up to the ACME CA's root. */
export async function judgeChain(
  subject: string,
  host: string,
  crtPem: string,
  keyPem: string | undefined,
  anchor: TrustAnchor,
): Promise<ChainVerdict> {
  const findings: Finding[] = [];
  const add = (code: keyof typeof CHAIN_CODES, message: string, fix: string) => findings.push({ code, subject, message, fix });
  const done = (notes: string[], leaf?: x509.X509Certificate): ChainVerdict => ({
    findings,
    problems: findings.map(renderFinding),
    notes,
    ...(leaf ? { leaf } : {}),
  });
  const renew = 'delete the secret so that cert-manager issues a new one';
  const chain = parseCertificates(crtPem);
  const leaf = chain[0];
  if (!leaf) {
    add('tls-crt-empty', 'tls.crt holds no certificate', renew);
    return done([]);
  }
  const validity = `valid ${leaf.notBefore.toISOString()} .. ${leaf.notAfter.toISOString()}`;
  const notes = [
    `${subject}: ${leaf.subject || '(no subject)'} issued by ${leaf.issuer}, serial ${leaf.serialNumber}, ${validity}; chain of ${chain.length}`,
  ];
  const sans = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const san = sans.filter((n) => n.type === 'dns').map((n) => n.value);
  if (!san.includes(host)) {
    add(
      'name-missing',
      `the certificate does not name ${host} (SANs: ${san.join(', ') || 'none'}): browsers reject it for that host`,
      'cert-manager re-issues when the secret is deleted',
    );
  }
  const now = Date.now();
  const lifetimeDays = (leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 86400_000;
  if (leaf.notBefore.getTime() > now + 5 * 60_000) {
    add(
      'not-yet-valid',
      `not valid before ${leaf.notBefore.toISOString()} (in the future: a clock is wrong)`,
      `check the clocks of the ACME CA and the cluster, then ${renew}`,
    );
  }
  if (leaf.notAfter.getTime() < now) {
    add(
      'expired',
      `expired on ${leaf.notAfter.toISOString()}: cert-manager did not renew it`,
      "kubectl describe certificate (renewal), cert-manager's log",
    );
  }
  if (lifetimeDays > MAX_LIFETIME_DAYS) {
    add(
      'lifetime-too-long',
      `valid for ${Math.round(lifetimeDays)} days, more than the ${MAX_LIFETIME_DAYS} browsers accept for a server certificate`,
      "issue it from an ACME CA that keeps to the CA/Browser Forum's limits (ingress.acmeServer)",
    );
  }
  if (keyPem) {
    const same = await Promise.resolve()
      .then(() => Buffer.from(leaf.publicKey.rawData).equals(publicKeyDerOf(keyPem)))
      .catch(() => false);
    if (!same) {
      add(
        'key-mismatch',
        'tls.key does not belong to the certificate in tls.crt: TLS handshakes fail',
        'delete the secret so that cert-manager issues a matching pair',
      );
    }
  }
  // Each certificate must be signed by the next one.
  for (let i = 0; i + 1 < chain.length; i++) {
    const ok = await chain[i]!.verify({ publicKey: chain[i + 1]!.publicKey, signatureOnly: true }).catch(() => false);
    if (!ok) {
      const [a, b] = [chain[i]!.subject, chain[i + 1]!.subject];
      add(
        'chain-out-of-order',
        `certificate ${i} (${a}) is not signed by the next one in tls.crt (${b}): the chain is out of order or mixed`,
        renew,
      );
    }
  }
  const top = chain[chain.length - 1]!;
  const selfSigned = top.subject === top.issuer && (await top.verify({ publicKey: top.publicKey, signatureOnly: true }).catch(() => false));
  if (anchor.roots) {
    const roots = anchor.roots.flatMap(parseCertificates);
    let reached = false;
    for (const r of roots) {
      if (Buffer.from(top.rawData).equals(Buffer.from(r.rawData))) reached = true;
      else if (await top.verify({ publicKey: r.publicKey, signatureOnly: true }).catch(() => false)) reached = true;
    }
    if (!reached && selfSigned && chain.length === 1) {
      add(
        'self-signed',
        `the certificate is self-signed (${leaf.subject}), not issued by the ACME CA (${anchor.source}): ` +
          'browsers show it as untrusted',
        'delete the secret (or kubectl cert-manager renew) so that cert-manager puts its ACME certificate back',
      );
    } else if (!reached) {
      add(
        'foreign-ca',
        `the chain ends at "${top.issuer}", which is not signed by ${anchor.source} (root "${roots[0]?.subject}"): ` +
          "the certificate comes from another CA, or the lab's Pebble restarted and made a new root",
        'renew the certificate (delete the secret)',
      );
    }
  } else if (selfSigned && chain.length === 1) {
    add(
      'self-signed',
      `the certificate is self-signed (${leaf.subject}), not issued by the ACME CA`,
      'delete the secret so that cert-manager issues it again',
    );
  }
  return done(notes, leaf);
}

// ---- HTTP diagnoses --------------------------------------------------------------------------

/** Codes of a request that did not get the expected answer (plain-http, redirect, https). */
const HTTP_CODES = {
  'connection-refused': "nothing listens on the worker's port (the gateway is gone from it)",
  'no-answer': 'the request got no answer in time',
  'request-failed': 'the request failed otherwise',
  'no-route': 'the gateway answers 404: no HTTPRoute serves the name',
  'backend-unavailable': "the gateway answers 5xx: the route's backend has no ready endpoints",
  'backend-unreachable': 'the gateway answers 5xx although the backend has ready endpoints',
  'unexpected-answer': 'another answer than the app\'s "ok"',
};

/** The finding for a request (at the worker's address) that did not get the expected answer. */
async function diagnoseHttp(ctx: CheckContext, h: HostView, name: string, url: string, a: HttpAnswer): Promise<Finding> {
  const on = findingsOn(h.name);
  const address = h.model.address;
  if (a.error) {
    const g = await gatewayOn(ctx, h).catch((): GatewayState => ({}));
    const [code, what] =
      a.code === 'ECONNREFUSED'
        ? ['connection-refused', `refuses the connection at ${address} (nothing listens there)`]
        : a.code === 'ETIMEDOUT'
          ? ['no-answer', `does not answer at ${address} within ${TIMEOUT_MS / 1000} s`]
          : ['request-failed', `fails at ${address}: ${a.error}`];
    const fix = g.problem
      ? `bring the gateway back on ${h.name} (kubectl -n ${GATEWAY_NS} get pods -o wide; describe daemonset ${GATEWAY_DAEMONSET})`
      : `check the gateway's host ports on ${h.name} (iptables -t nat -S CNI-HOSTPORT-DNAT) and its logs`;
    return on(code, url, `${what}${g.problem ? `: ${g.problem.message}` : ''}`, fix);
  }
  const routes = await routesFor(ctx, name);
  if (a.status === 404 && !routes.length) {
    return on(
      'no-route',
      url,
      `answers 404 at ${address}: no HTTPRoute serves the host ${name}`,
      `create the route (the seed's ingress) for ${name}`,
    );
  }
  if (a.status && a.status >= 500) {
    const why = await backendProblem(
      ctx,
      routes.flatMap((r) => r.backends),
    );
    return why
      ? on(
          'backend-unavailable',
          url,
          `answers ${a.status} at ${address}: ${why}`,
          `scale the app up or make its pods Ready (kubectl -n ${routes[0]?.backends[0]?.namespace ?? APP_NS} get deploy,pods)`,
        )
      : on(
          'backend-unreachable',
          url,
          `answers ${a.status} at ${address} although the backend Service has ready endpoints: the gateway cannot reach the pods`,
          "see the gateway's nginx log and pod-network.pod-to-pod",
        );
  }
  const body = (a.body ?? '').slice(0, 80).replace(/\s+/g, ' ');
  const to = a.location ? ` -> ${a.location}` : '';
  return on(
    'unexpected-answer',
    url,
    `answers ${a.status}${to} at ${address} with "${body}", not the app's "ok"`,
    `check the HTTPRoute for ${name} (${routes.map((r) => `${r.namespace}/${r.name}`).join(', ') || 'none'})`,
  );
}

// ---- checks ----------------------------------------------------------------------------------

const names = (ing: Edge) => [...ing.hosts, ...ing.plainHosts];
const NO_HOSTS = 'the model has no ingress.hosts (no site served over HTTPS)';

const dns = clusterCheck({
  id: 'ingress.dns',
  title: "every app name resolves, through the outside world's DNS, to the workers",
  needs: ['live', 'edge'],
  codes: {
    'name-unresolved': 'the name does not resolve through the outside DNS',
    'name-not-on-workers': 'the name resolves to an address that is no worker',
  },
  async run(ctx) {
    const ing = edgeOf(ctx);
    const all = names(ing);
    if (!all.length) return notApplicable("the model's ingress section names no host (ingress.hosts and ingress.plainHosts are empty)");
    const want = ctx.cluster.workers.map((w) => w.address);
    const lab = outsideResolver(ctx.cluster) ? ' (the lab: /etc/hardway-labdns/hosts on the edge)' : '';
    const findings: Finding[] = [];
    const notes: string[] = [];
    for (const n of all) {
      const r = await resolveOutside(ctx, n);
      notes.push(`${n} -> ${r.addresses.join(', ') || 'nothing'} (via ${r.via})`);
      if (r.error || !r.addresses.length) {
        findings.push({
          code: 'name-unresolved',
          subject: n,
          message: `does not resolve through ${r.via} (${r.error ?? 'no A record'}): visitors and the ACME CA cannot find the site`,
          fix: `add A records for the workers (${want.join(', ')})${lab}`,
        });
        continue;
      }
      const foreign = r.addresses.filter((a) => !want.includes(a));
      if (foreign.length) {
        const workers = ctx.cluster.workers.map((w) => `${w.host} ${w.address}`).join(', ');
        findings.push({
          code: 'name-not-on-workers',
          subject: n,
          message:
            `resolves through ${r.via} to ${foreign.join(', ')}, which is no worker (${workers}): ` +
            "browsers and the ACME CA's HTTP-01 validation go there instead of the ingress",
          fix: `point its A records at the workers${lab}`,
        });
      }
    }
    return outcome(findings, all.length, { notes });
  },
});

const gateway = hostCheck({
  id: 'ingress.gateway',
  title: 'a Ready gateway (nginx) pod serves ports 80/443 on every worker',
  on: { role: 'worker' },
  needs: ['live', 'edge'],
  codes: {
    'gateway-missing': "no gateway pod on the worker's node (or no gateway DaemonSet at all)",
    'gateway-not-ready': "the worker's gateway pod is not Ready",
  },
  async run(ctx, h) {
    const g = await gatewayOn(ctx, h);
    if (!g.problem) return outcome([], 1, { notes: [`${h.name}: ${g.pod} Ready`] });
    const logs = `kubectl -n ${GATEWAY_NS} logs ${g.pod ?? '-l app.kubernetes.io/name=nginx-gateway'} --all-containers`;
    const fix = `kubectl -n ${GATEWAY_NS} describe daemonset ${GATEWAY_DAEMONSET} and ${logs}`;
    return outcome([{ ...g.problem, host: h.name, fix }], 1);
  },
});

const plainHttp = hostCheck({
  id: 'ingress.plain-http',
  title: 'http://no-https.<domain>/status/ answers "ok" through the gateway on every worker',
  on: { role: 'worker' },
  needs: ['live', 'edge'],
  codes: HTTP_CODES,
  async run(ctx, h) {
    const ing = edgeOf(ctx);
    if (!ing.plainHosts.length) return notApplicable('the model has no ingress.plainHosts (no site served over plain HTTP)');
    const findings: Finding[] = [];
    const notes: string[] = [];
    for (const name of ing.plainHosts) {
      const url = `http://${name}/status/`;
      const a = await fetchVia(h.model.address, name, '/status/');
      if (a.status === 200 && a.body?.trim() === 'ok') notes.push(`${url} via ${h.model.address}: 200 ok`);
      else findings.push(await diagnoseHttp(ctx, h, name, url, a));
    }
    return outcome(findings, ing.plainHosts.length, { notes });
  },
});

/** What the redirect check makes of one HTTPS name: from its routes and the plain-HTTP answer. */
export type RedirectJudgement =
  | { kind: 'unrouted' }
  | { kind: 'ok'; note: string }
  | { kind: 'finding'; code: 'redirect-wrong' | 'redirect-missing'; message: string; fix: string }
  /** The redirect route exists but the request failed: diagnosed like any request, plus `asks`. */
  | { kind: 'diagnose'; asks: string };

/**
 * Every name of ingress.hosts is served over HTTPS, and plain HTTP to it must redirect there (the
 * seed's ingress-production.yaml; hardway's edge installs route <app>-redirect for them). So:
 *  - a route with a RequestRedirect to https: the answer must be that redirect;
 *  - routes serve the name but none redirects (the redirect route is gone): a finding, whatever
 *    plain HTTP answers (unless it redirects to HTTPS anyway);
 *  - no route serves the name at all: nothing to redirect; ingress.https reports the missing route.
 */
export function judgeRedirect(name: string, address: string, routes: RouteInfo[], a: HttpAnswer): RedirectJudgement {
  const target = `https://${name}/status/`;
  const isRedirect = a.status !== undefined && a.status >= 300 && a.status < 400;
  const toHttps = isRedirect && !!a.location?.startsWith(`https://${name}`);
  const r = routes.find((x) => x.redirect?.scheme === 'https');
  const seen = `http://${name}/status/ via ${address}: ${a.status} -> ${a.location}`;
  if (r) {
    const want = r.redirect?.statusCode ?? 302;
    const route = `route ${r.namespace}/${r.name}`;
    const wrong = (message: string): RedirectJudgement => ({
      kind: 'finding',
      code: 'redirect-wrong',
      message,
      fix: "check the route's RequestRedirect filter",
    });
    if (a.status === want && toHttps) return { kind: 'ok', note: seen };
    if (toHttps) return wrong(`redirects to ${a.location} with ${a.status}, not with the ${want} ${route} asks for`);
    if (isRedirect) return wrong(`redirects to ${a.location ?? 'nowhere'} (${a.status}), not to ${target} as ${route} asks`);
    return { kind: 'diagnose', asks: `${route} asks for a ${want} redirect to HTTPS` };
  }
  if (!routes.length) return { kind: 'unrouted' };
  if (toHttps) return { kind: 'ok', note: `${seen} (no HTTPRoute of the name asks for it)` };
  const got = a.error ? `fails (${a.error})` : `answers ${a.status}${a.location ? ` -> ${a.location}` : ''}`;
  const routeList = routes.map((x) => `${x.namespace}/${x.name}`).join(', ');
  return {
    kind: 'finding',
    code: 'redirect-missing',
    message:
      `no HTTPRoute redirects plain HTTP for ${name} to HTTPS (its routes: ${routeList}); at ${address} it ${got}: ` +
      `visitors who type the name without https:// ${a.status === 200 ? 'get the site in clear text' : 'do not reach the site'}`,
    fix:
      `restore the redirect route (hardway's edge installs ${APP_NS}/${APP}-redirect, the seed's ingress-production.yaml): ` +
      `an HTTPRoute for ${name} on the gateway's http listener with a RequestRedirect filter to scheme https`,
  };
}

const redirect = hostCheck({
  id: 'ingress.redirect',
  title: 'plain HTTP to the TLS names redirects to HTTPS on every worker',
  on: { role: 'worker' },
  needs: ['live', 'edge'],
  codes: {
    ...HTTP_CODES,
    'redirect-wrong': 'plain HTTP redirects elsewhere than the route asks',
    'redirect-missing': 'no route redirects plain HTTP for an HTTPS name',
  },
  async run(ctx, h) {
    const ing = edgeOf(ctx);
    if (!ing.hosts.length) return notApplicable(NO_HOSTS);
    const address = h.model.address;
    const findings: Finding[] = [];
    const notes: string[] = [];
    const unrouted: string[] = [];
    for (const name of ing.hosts) {
      const routes = await routesFor(ctx, name);
      const a = routes.length ? await fetchVia(address, name, '/status/') : {};
      const j = judgeRedirect(name, address, routes, a);
      const url = `http://${name}/status/`;
      if (j.kind === 'unrouted') unrouted.push(name);
      else if (j.kind === 'ok') notes.push(j.note);
      else if (j.kind === 'finding') findings.push({ code: j.code, host: h.name, subject: url, message: j.message, fix: j.fix });
      else {
        const f = await diagnoseHttp(ctx, h, name, url, a);
        findings.push({ ...f, message: `${f.message}; ${j.asks}` });
      }
    }
    const examined = ing.hosts.length - unrouted.length;
    if (!examined) {
      return notApplicable(
        `no HTTPRoute serves ${unrouted.join(', ')} at all: no redirect to check (ingress.https reports the missing route)`,
      );
    }
    if (unrouted.length) notes.push(`no HTTPRoute serves ${unrouted.join(', ')}: not checked here (see ingress.https)`);
    return outcome(findings, examined, { notes });
  },
});

const issuer = clusterCheck({
  id: 'ingress.issuer',
  title: "the ACME issuer of the site certificates is Ready and points at the model's ACME server",
  needs: ['live', 'edge'],
  codes: {
    'issuer-missing': 'the issuer a Certificate names does not exist',
    'issuer-not-ready': 'the issuer is not Ready (its ACME account cannot be used)',
    'issuer-wrong-server': "the issuer's ACME server is not the model's ingress.acmeServer",
    'no-certificate': 'no cert-manager Certificate names the site, so no issuer to check',
  },
  async run(ctx) {
    const ing = edgeOf(ctx);
    if (!ing.hosts.length) return notApplicable(`${NO_HOSTS}: no certificates, no issuer`);
    const findings: Finding[] = [];
    const notes: string[] = [];
    const seen = new Set<string>();
    for (const name of ing.hosts) {
      for (const cert of await certificatesFor(ctx, name)) {
        const ref = cert.spec?.issuerRef as { name: string; kind?: string };
        const kind = ref.kind ?? 'Issuer';
        const subject = kind === 'ClusterIssuer' ? `clusterissuer/${ref.name}` : `${kind.toLowerCase()}/${nsOf(cert)}/${ref.name}`;
        if (seen.has(subject)) continue;
        seen.add(subject);
        const iss = await issuerOf(ctx, cert);
        if (!iss) {
          findings.push({
            code: 'issuer-missing',
            subject,
            message: `does not exist, yet Certificate ${nsOf(cert)}/${cert.metadata?.name} names it: nothing can issue the certificate`,
            fix: "create it (hardway's edge installer does)",
          });
          continue;
        }
        const server = (iss.spec?.acme as { server?: string } | undefined)?.server;
        const ready = conditionOf(iss, 'Ready');
        const wrong = !!server && server !== ing.acmeServer;
        const wrongServer = wrong ? ` Its ACME server ${server} is not the model's ingress.acmeServer ${ing.acmeServer}.` : '';
        notes.push(`${subject}: Ready=${ready?.status ?? 'unknown'}, ACME server ${server ?? '(not ACME)'}`);
        const edit = `set spec.acme.server back to ${ing.acmeServer} (kubectl edit ${kind.toLowerCase()} ${ref.name})`;
        if (ready?.status !== 'True') {
          const said = `${ready?.reason ?? 'no status'}: ${(ready?.message ?? '').replace(/\s+/g, ' ').slice(0, 300)}`;
          findings.push({
            code: wrong ? 'issuer-wrong-server' : 'issuer-not-ready',
            subject,
            message: `is not Ready (${said}):${wrongServer || ' cert-manager cannot use its ACME account.'} New certificates and renewals fail`,
            fix: wrong ? edit : `check that ${server} answers from the cluster and that spec.acme.caBundle matches its TLS certificate`,
          });
        } else if (wrong) {
          const message = `is Ready, but${wrongServer} Certificates come from another CA than the model says`;
          findings.push({ code: 'issuer-wrong-server', subject, message, fix: edit });
        }
      }
    }
    if (!seen.size) {
      const them = ing.hosts.length > 1 ? 'them' : 'it';
      findings.push({
        code: 'no-certificate',
        subject: ing.hosts.join(', '),
        message: `no cert-manager Certificate names ${them}: no issuer to check`,
        fix: "create the Certificate (the seed's tls-production.yaml)",
      });
    }
    return outcome(findings, seen.size, { notes });
  },
});

const certificate = clusterCheck({
  id: 'ingress.certificate',
  title: "the site certificate is Ready; its secret's chain leads to the ACME CA's root, names the host, has a sane validity",
  needs: ['live', 'edge'],
  codes: {
    'no-certificate': 'no cert-manager Certificate names the site',
    'certificate-not-ready': "the Certificate is not Ready (cert-manager's account of the ACME order)",
    'secret-unreadable': "the Certificate's secret cannot be read",
    ...CHAIN_CODES,
  },
  async run(ctx) {
    const ing = edgeOf(ctx);
    if (!ing.hosts.length) return notApplicable(NO_HOSTS);
    const k = await kube(ctx);
    const anchor = await trustAnchor(ctx);
    const findings: Finding[] = [];
    const notes = [`trust anchor: ${anchor.source}`];
    let examined = 0;
    for (const name of ing.hosts) {
      const certs = await certificatesFor(ctx, name);
      if (!certs.length) {
        findings.push({
          code: 'no-certificate',
          subject: name,
          message: 'no cert-manager Certificate names it: nobody obtains a certificate for it',
          fix: "create one (the seed's tls-production.yaml) with secretName matching the gateway's TLS listener",
        });
        continue;
      }
      for (const cert of certs) {
        examined++;
        const ns = nsOf(cert);
        const id = `${ns}/${cert.metadata?.name}`;
        const ready = conditionOf(cert, 'Ready');
        if (ready?.status !== 'True') {
          findings.push({
            code: 'certificate-not-ready',
            subject: objectName('certificate', cert),
            message: `is not Ready (for ${name}). cert-manager says: ${describeAcmeState(await acmeState(ctx, cert))}`,
            fix: `kubectl -n ${ns} describe certificate,order,challenge; cert-manager's log`,
          });
          continue;
        }
        const secretName = cert.spec?.secretName as string;
        const subject = `secret/${ns}/${secretName}`;
        let secret: k8s.V1Secret;
        try {
          secret = await k.core.readNamespacedSecret({ namespace: ns, name: secretName });
        } catch (e) {
          findings.push({
            code: 'secret-unreadable',
            subject,
            message: `of Certificate ${id} cannot be read (${apiError(e)})`,
            fix: `kubectl -n ${ns} get secret ${secretName}; cert-manager writes it when it issues the certificate`,
          });
          continue;
        }
        const crt = secret.data?.['tls.crt'] ? Buffer.from(secret.data['tls.crt'], 'base64').toString('utf8') : '';
        const key = secret.data?.['tls.key'] ? Buffer.from(secret.data['tls.key'], 'base64').toString('utf8') : undefined;
        registerSecret(key);
        const v = await judgeChain(subject, name, crt, key, anchor);
        notes.push(...v.notes);
        if (!v.findings.length) continue;
        // cert-manager replaces a foreign certificate in its secret at once, unless it is not running.
        const cm = await k.apps.readNamespacedDeployment({ namespace: CERT_MANAGER_NS, name: 'cert-manager' }).catch(() => undefined);
        const replicas = `${cm?.status?.readyReplicas ?? 0}/${cm?.spec?.replicas ?? 0}`;
        const down =
          cm && !(cm.status?.readyReplicas ?? 0)
            ? ` (cert-manager's controller ${CERT_MANAGER_NS}/cert-manager has ${replicas} replicas ready, ` +
              `so nothing puts the issued certificate back and Certificate ${id} still reads Ready)`
            : '';
        const start = `start cert-manager's controller (kubectl -n ${CERT_MANAGER_NS} scale deploy/cert-manager --replicas=1), then `;
        findings.push(...v.findings.map((f) => (down ? { ...f, message: `${f.message}${down}`, fix: `${start}${f.fix}` } : f)));
      }
    }
    return outcome(findings, examined, { notes });
  },
});

/** The site certificate as the secret holds it (DER of the leaf), to compare with what is served. */
async function secretLeafFor(ctx: CheckContext, name: string): Promise<Buffer | undefined> {
  const cert = (await certificatesFor(ctx, name))[0];
  const secretName = cert?.spec?.secretName as string | undefined;
  if (!cert || !secretName) return undefined;
  const k = await kube(ctx);
  const s = await k.core.readNamespacedSecret({ namespace: nsOf(cert), name: secretName }).catch(() => undefined);
  const crt = s?.data?.['tls.crt'];
  const leaf = crt ? parseCertificates(Buffer.from(crt, 'base64').toString('utf8'))[0] : undefined;
  return leaf ? Buffer.from(leaf.rawData) : undefined;
}

/** Node's TLS errors that mean "the certificate does not verify" rather than "no connection". */
export const isCertificateError = (error: string) => /certificate|self.signed|unable to verify|issuer/i.test(error);

const https = hostCheck({
  id: 'ingress.https',
  title: 'https://<domain>/status/ answers "ok" on every worker with the secret\'s certificate, trusted through the ACME root only',
  on: { role: 'worker' },
  needs: ['live', 'edge'],
  codes: {
    ...HTTP_CODES,
    'certificate-untrusted': "the served certificate does not verify against the ACME CA's root",
    'stale-certificate': 'the gateway serves another certificate than the one in the secret',
  },
  async run(ctx, h) {
    const ing = edgeOf(ctx);
    if (!ing.hosts.length) return notApplicable(NO_HOSTS);
    const address = h.model.address;
    const anchor = await trustAnchor(ctx);
    const on = findingsOn(h.name);
    const findings: Finding[] = [];
    const notes: string[] = [];
    for (const name of ing.hosts) {
      const url = `https://${name}/status/`;
      const a = await fetchVia(address, name, '/status/', anchor.roots ? { ca: anchor.roots } : {});
      if (a.error && isCertificateError(a.error)) {
        findings.push(
          on(
            'certificate-untrusted',
            url,
            `presents at ${address} a certificate that does not verify against ${anchor.source}: ${a.error}`,
            'see ingress.certificate (the secret) and whether the gateway serves that secret',
          ),
        );
        continue;
      }
      if (a.error || a.status !== 200 || a.body?.trim() !== 'ok') {
        findings.push(await diagnoseHttp(ctx, h, name, url, a));
        continue;
      }
      const want = await secretLeafFor(ctx, name);
      if (want && a.peerDer && !want.equals(a.peerDer)) {
        findings.push(
          on(
            'stale-certificate',
            url,
            `serves at ${address} a certificate other than the one in the Certificate's secret: the gateway on ${h.name} has not loaded the current secret`,
            `kubectl -n ${GATEWAY_NS} logs on ${h.name}'s gateway pod (nginx reload)`,
          ),
        );
        continue;
      }
      notes.push(`${url} via ${address}: 200 ok, certificate verified against ${anchor.source}`);
    }
    return outcome(findings, ing.hosts.length, { notes });
  },
});

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _o, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new Error(
          missing ? `${cmd} not found (apt-get install libnss3-tools)` : `${cmd} ${args[0]} failed: ${stderr.trim().split('\n').pop()}`,
        ),
      );
    });
  });
}

/** A HOME whose NSS store (~/.pki/nssdb, where Chromium on Linux keeps added roots) holds `roots`. */
async function browserHome(dir: string, roots: string[]): Promise<string> {
  const home = join(dir, 'home');
  const db = join(home, '.pki', 'nssdb');
  await mkdir(db, { recursive: true });
  await run('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  for (const [i, pem] of roots.entries()) {
    const file = join(dir, `root-${i}.pem`);
    await writeFile(file, pem);
    await run('certutil', ['-A', '-d', `sql:${db}`, '-n', `hardway ACME root ${i}`, '-t', 'C,,', '-i', file]);
  }
  return home;
}

interface Browsers {
  anchor: TrustAnchor;
  resolved: Map<string, { addresses: string[]; via: string; error?: string }>;
  /** Trusts only the ACME CA's roots. */
  trusting: Browser;
  /** Trusts nothing: the control visit (when the ACME CA's roots are known). */
  control?: Browser;
}

/**
 * Both browsers, launched once and early (the suite's prepare starts them while other suites run):
 * each resolves only the site's names, as the outside DNS answers them, so nothing else leaves the
 * lab. Closed, and their folders removed, when the run ends.
 */
function browsers(ctx: CheckContext, br: NonNullable<CheckContext['browser']>): Promise<Browsers> {
  return ctx.memo('ingress:browsers', async () => {
    const ing = edgeOf(ctx);
    const [anchor, ...answers] = await Promise.all([trustAnchor(ctx), ...ing.hosts.map((n) => resolveOutside(ctx, n))]);
    const resolved = new Map(ing.hosts.map((n, i) => [n, answers[i]!]));
    const maps = [...resolved].filter(([, r]) => r.addresses[0]).map(([n, r]) => `MAP ${n} ${r.addresses[0]}`);
    const rules = [...maps, 'MAP * ~NOTFOUND'].join(', ');
    const dir = await mkdtemp(join(tmpdir(), 'hardway-chromium-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const [home, emptyHome] = await Promise.all([
      browserHome(dir, anchor.roots ?? []),
      anchor.roots ? browserHome(join(dir, 'untrusting'), []) : undefined,
    ]);
    const launch = (h: string) =>
      br.launch({ env: { ...process.env, HOME: h }, args: [`--host-resolver-rules=${rules}`] }).then((b) => {
        ctx.defer(() => b.close());
        return b;
      });
    const [trusting, control] = await Promise.all([launch(home), emptyHome ? launch(emptyHome) : undefined]);
    return { anchor, resolved, trusting, ...(control ? { control } : {}) };
  });
}

const browser = clusterCheck({
  id: 'ingress.browser',
  title: "https://<domain>/ opens in Chromium that trusts only the ACME CA's root (screenshot attached)",
  needs: ['live', 'edge'],
  // Two visits of up to 20 s per name (the real one and the control without the ACME root).
  timeoutMs: 120_000,
  codes: {
    'name-unresolved': "the site's name does not resolve through the outside DNS",
    'certificate-refused': 'Chromium refuses the served certificate (ERR_CERT_...)',
    'page-unreachable': 'Chromium cannot open the page (connection, or DNS pointing elsewhere)',
    'backend-unavailable': 'the page answers 5xx',
    'http-error': 'the page answers another status than 200',
    'wrong-page': 'the page is not the demo app for the name',
    'trusted-elsewhere': 'Chromium opens the site without the ACME root: trust comes from another CA',
  },
  async run(ctx): Promise<Outcome> {
    const ing = edgeOf(ctx);
    if (!ing.hosts.length) return notApplicable(NO_HOSTS);
    const br = ctx.browser;
    if (!br) return inconclusive('no browser in this run (checks run without one only in unit tests)');
    const b = await browsers(ctx, br);
    const anchor = b.anchor;
    const findings: Finding[] = [];
    const notes: string[] = [];
    let visited = 0;
    for (const name of ing.hosts) {
      const url = `https://${name}/`;
      const add = (code: string, message: string, fix: string) => findings.push({ code, subject: url, message, fix });
      const r = b.resolved.get(name)!;
      const address = r.addresses[0];
      if (!address) {
        add(
          'name-unresolved',
          `Chromium cannot open it: ${name} does not resolve through ${r.via} (${r.error ?? 'no A record'})`,
          'see ingress.dns',
        );
        continue;
      }
      visited++;
      const page = await b.trusting.newPage();
      try {
        let error = '';
        const resp = await page.goto(url, { waitUntil: 'load', timeout: 20_000 }).catch((e: Error) => {
          error = e.message.split('\n')[0]!;
          return null;
        });
        if (!resp) {
          const err = error.replace(/^page\.goto: /, '');
          const onWorker = ctx.cluster.workers.some((w) => w.address === address);
          if (/ERR_CERT/.test(error)) {
            add(
              'certificate-refused',
              `Chromium refuses it at ${address}: ${err}: the served certificate does not chain to ${anchor.source}`,
              'see ingress.certificate',
            );
          } else {
            const elsewhere = onWorker ? '' : ` (${address} is no worker: the outside DNS sends visitors elsewhere; see ingress.dns)`;
            add(
              'page-unreachable',
              `Chromium cannot open it at ${address}: ${err}${elsewhere}`,
              onWorker ? 'see ingress.gateway and ingress.https' : 'see ingress.dns',
            );
          }
          continue;
        }
        const shot = br.outputPath(`${name}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        await br.attach(`https://${name}/ in Chromium`, shot, 'image/png');
        const title = await page.title();
        const text = async (sel: string) =>
          (
            await page
              .locator(sel)
              .textContent({ timeout: 3000 })
              .catch(() => null)
          )?.trim();
        const shownHost = await text('#host');
        const sec = await resp.securityDetails();
        const validTo = sec?.validTo ? new Date(sec.validTo * 1000).toISOString() : '?';
        const tls = `TLS ${sec?.protocol ?? '?'}, issuer ${sec?.issuer ?? '?'}, valid to ${validTo}`;
        notes.push(`${url} -> ${resp.status()} "${title}" served by pod ${(await text('#pod')) ?? '?'}; ${tls}`);
        const got = `Chromium gets HTTP ${resp.status()} ("${title}")`;
        if (resp.status() >= 500) {
          const why = await backendProblem(
            ctx,
            (await routesFor(ctx, name)).flatMap((x) => x.backends),
          );
          if (why) add('backend-unavailable', `${got}: ${why}`, 'scale the app up or make its pods Ready');
          else add('backend-unavailable', got, "see ingress.https and the gateway's nginx log");
        } else if (resp.status() !== 200) add('http-error', got, "see ingress.https and the route's backend");
        else if (shownHost !== name) {
          add(
            'wrong-page',
            `opens, but the page is not the demo app for ${name} (title "${title}", host shown: ${shownHost ?? 'none'})`,
            "check the HTTPRoute's backend",
          );
        }
      } finally {
        await page.close().catch(() => undefined);
      }
      if (b.control) {
        // Control: without the ACME root the same visit must fail, or trust came from elsewhere.
        const page2 = await b.control.newPage();
        try {
          const err = await page2.goto(url, { timeout: 20_000 }).then(
            () => '',
            (e: Error) => e.message,
          );
          if (!err) {
            add(
              'trusted-elsewhere',
              'Chromium also opens it without the ACME root: the certificate is trusted through another CA, not the ACME CA',
              'see ingress.certificate',
            );
          } else if (/ERR_CERT_AUTHORITY_INVALID/.test(err)) {
            notes.push('control: without the ACME root Chromium refuses the site (ERR_CERT_AUTHORITY_INVALID)');
          }
        } finally {
          await page2.close().catch(() => undefined);
        }
      }
    }
    return outcome(findings, visited, { notes });
  },
});

export const ingressSuite: Suite = {
  name: 'ingress',
  title: 'the HTTPS edge: DNS, gateway, plain HTTP, redirect, ACME issuer and certificate, HTTPS in Chromium',
  dependsOn: ['kube-proxy'],
  gate: ['ingress.gateway', 'ingress.https'],
  checks: [dns, gateway, plainHttp, redirect, issuer, certificate, https, browser],
  // Chromium starts while the suites before this one run.
  prepare: async (ctx, planned) => {
    if (!planned.has('ingress.browser')) return;
    const br = ctx.browserFor?.('ingress.browser');
    if (br && ctx.cluster.ingress?.hosts.length) await browsers(ctx, br);
  },
};
