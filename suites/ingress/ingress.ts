// The ingress suite: the seed's two addresses, checked the way a visitor meets them.
//   http://no-https.<domain>/  must answer (the seed's "if something went wrong, check this one")
//   https://<domain>/          must open in a real browser with a certificate from the ACME CA
// Requests go from this machine to the workers' addresses as the outside world's DNS gives them
// (the model's DNS upstream: the lab's edge host), so a wrong DNS record, a stopped gateway on one
// worker, a backend without endpoints, a broken issuer or a foreign certificate each fail the check
// that meets them first, with the cause named. Trust comes from the ACME CA only: the lab's Pebble
// publishes its (per start) root on its management API; a public ACME CA is trusted as browsers do.
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
import { APP_NS, CERT_MANAGER_NS, GATEWAY_DAEMONSET, GATEWAY_NS, GATEWAY_POD_LABELS } from '../../harness/edge/manifests.ts';
import type { Cluster } from '../../harness/model/cluster.ts';
import { parseCertificates, publicKeyDerOf, x509 } from '../../harness/pki/keys.ts';
import { registerSecret } from '../../harness/report/redact.ts';
import type { Check, CheckContext, Outcome, Suite } from '../../harness/verify/check.ts';
import { decode, query } from '../../harness/verify/dns.ts';
import { apiError, kube } from '../../harness/verify/kube.ts';
import { podProblem } from '../../harness/verify/workspace.ts';

const workers = (c: Cluster) => c.workers.map((w) => w.host);
const NO_INGRESS = 'the cluster model has no ingress section (no HTTPS edge to check)';
const TIMEOUT_MS = 5000;
/** The CA/Browser Forum's ceiling for a publicly trusted server certificate. */
const MAX_LIFETIME_DAYS = 398;
/** Pebble's management interface (harness/providers/lab/acme.ts): the ACME port + 1000. */
const PEBBLE_MANAGEMENT_PORT = 15000;

type Json = Record<string, unknown>;
const G = { cm: { group: 'cert-manager.io', version: 'v1' }, acme: { group: 'acme.cert-manager.io', version: 'v1' }, gw: { group: 'gateway.networking.k8s.io', version: 'v1' } };

function custom(ctx: CheckContext): Promise<k8s.CustomObjectsApi> {
  return ctx.memo('ingress:custom', async () => (await kube(ctx)).kc.makeApiClient(k8s.CustomObjectsApi));
}

async function listAll(ctx: CheckContext, g: { group: string; version: string }, plural: string): Promise<CmObject[]> {
  const api = await custom(ctx);
  const r = (await api.listClusterCustomObject({ ...g, plural })) as { items?: CmObject[] };
  return r.items ?? [];
}

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
      sock.on('message', (m) => { clearTimeout(timer); resolve(m); });
      sock.on('error', (e) => { clearTimeout(timer); reject(e); });
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
      return { addresses: (await lookup(name, { all: true, family: 4 })).map((a) => a.address), via: 'this machine\'s resolver' };
    } catch (e) {
      return { addresses: [], via: server ? `${server}:53` : 'this machine\'s resolver', error: (e as Error).message };
    }
  });
}

interface HttpAnswer {
  status?: number;
  location?: string;
  body?: string;
  error?: string;
  code?: string;
  peerDer?: Buffer;
}

function fetchVia(address: string, host: string, path: string, tls?: { ca?: string[] }): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const opts = { host: address, port: tls ? 443 : 80, path, method: 'GET', headers: { Host: host, 'User-Agent': 'hardway-ingress-suite' }, timeout: TIMEOUT_MS };
    const req = tls
      ? httpsRequest({ ...opts, servername: host, ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: true, agent: false })
      : httpRequest({ ...opts, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const peer = tls ? (res.socket as TLSSocket).getPeerCertificate?.()?.raw : undefined;
      res.on('data', (d: Buffer) => { if (chunks.length < 64) chunks.push(d); });
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ...(res.headers.location ? { location: res.headers.location } : {}), ...(peer ? { peerDer: peer } : {}) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    // Node appends advice about its own trust store to TLS errors; the diagnosis has its own.
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.message.split('; if the root CA')[0]!, ...(e.code ? { code: e.code } : {}) }));
    req.end();
  });
}

// ---- cluster-side facts for the diagnoses ----------------------------------------------------

/** The gateway pod on a worker's node, and what is wrong with it (if anything). */
async function gatewayOn(ctx: CheckContext, host: string): Promise<{ pod?: string; problem?: string }> {
  const w = ctx.cluster.workers.find((x) => x.host === host)!;
  const k = await kube(ctx);
  const selector = Object.entries(GATEWAY_POD_LABELS).map(([a, b]) => `${a}=${b}`).join(',');
  const pods = (await k.core.listNamespacedPod({ namespace: GATEWAY_NS, labelSelector: selector })).items.filter((p) => p.spec?.nodeName === w.nodeName);
  if (!pods.length) {
    const ds = await k.apps.readNamespacedDaemonSet({ namespace: GATEWAY_NS, name: GATEWAY_DAEMONSET }).catch(() => undefined);
    if (!ds) return { problem: `there is no gateway DaemonSet ${GATEWAY_NS}/${GATEWAY_DAEMONSET}` };
    const sel = Object.entries(ds.spec?.template.spec?.nodeSelector ?? {}).map(([a, b]) => `${a}=${b}`).join(',');
    const node = await k.core.readNode({ name: w.nodeName }).catch(() => undefined);
    const taints = (node?.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', ');
    const why = sel ? `; its nodeSelector ${sel} leaves ${w.nodeName} out` : taints ? `; ${w.nodeName} is tainted ${taints}` : '';
    return { problem: `the gateway DaemonSet ${GATEWAY_NS}/${GATEWAY_DAEMONSET} has no pod on node ${w.nodeName} (${ds.status?.numberReady ?? 0}/${ds.status?.desiredNumberScheduled ?? 0} ready cluster-wide)${why}` };
  }
  const pod = pods[0]!;
  const ready = pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
  return ready ? { pod: pod.metadata!.name! } : { pod: pod.metadata!.name!, problem: `gateway pod ${pod.metadata!.name} on ${w.nodeName} is not Ready: ${await podProblem(k, GATEWAY_NS, pod.metadata!.name!)}` };
}

interface RouteInfo {
  name: string;
  namespace: string;
  backends: { namespace: string; name: string }[];
  redirect?: { scheme?: string; statusCode?: number };
  sections: string[];
}

/** HTTPRoutes that serve `host` (Gateway API: what the seed's Ingress resources became). */
async function routesFor(ctx: CheckContext, host: string): Promise<RouteInfo[]> {
  const all = await ctx.memo('ingress:routes', () => listAll(ctx, G.gw, 'httproutes'));
  return all
    .filter((r) => ((r.spec?.hostnames as string[] | undefined) ?? []).includes(host))
    .map((r) => {
      const ns = r.metadata?.namespace ?? 'default';
      const rules = (r.spec?.rules as Json[] | undefined) ?? [];
      const backends = rules.flatMap((x) => ((x.backendRefs as Json[] | undefined) ?? []).map((b) => ({ namespace: (b.namespace as string | undefined) ?? ns, name: b.name as string })));
      const redirect = rules.flatMap((x) => ((x.filters as Json[] | undefined) ?? []).filter((f) => f.type === 'RequestRedirect').map((f) => f.requestRedirect as { scheme?: string; statusCode?: number }))[0];
      const sections = ((r.spec?.parentRefs as Json[] | undefined) ?? []).map((p) => (p.sectionName as string | undefined) ?? '');
      return { name: r.metadata!.name!, namespace: ns, backends, sections, ...(redirect ? { redirect } : {}) };
    });
}

/** Why a backend answers 5xx: its Service's ready endpoints and its Deployment's replicas. */
async function backendProblem(ctx: CheckContext, backends: { namespace: string; name: string }[]): Promise<string | undefined> {
  const k = await kube(ctx);
  for (const b of backends) {
    const slices = await k.discovery.listNamespacedEndpointSlice({ namespace: b.namespace, labelSelector: `kubernetes.io/service-name=${b.name}` }).catch(() => undefined);
    const ready = (slices?.items ?? []).flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready));
    if (ready.length) continue;
    const svc = await k.core.readNamespacedService({ namespace: b.namespace, name: b.name }).catch(() => undefined);
    if (!svc) return `the route's backend Service ${b.namespace}/${b.name} does not exist`;
    const sel = Object.entries(svc.spec?.selector ?? {}).map(([a, v]) => `${a}=${v}`).join(',');
    const deps = (await k.apps.listNamespacedDeployment({ namespace: b.namespace })).items.filter((d) => Object.entries(d.spec?.selector?.matchLabels ?? {}).every(([a, v]) => svc.spec?.selector?.[a] === v));
    const reps = deps.map((d) => `Deployment ${d.metadata?.name}: ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0} replicas ready`).join(', ');
    return `Service ${b.namespace}/${b.name} has no ready endpoints (selector ${sel || 'none'}${reps ? `; ${reps}` : ''}): nothing to send the request to`;
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
  return (ref.kind ?? 'Issuer') === 'ClusterIssuer'
    ? ((await api.getClusterCustomObject({ ...G.cm, plural: 'clusterissuers', name: ref.name }).catch(() => undefined)) as CmObject | undefined)
    : ((await api.getNamespacedCustomObject({ ...G.cm, namespace: cert.metadata!.namespace!, plural: 'issuers', name: ref.name }).catch(() => undefined)) as CmObject | undefined);
}

async function acmeState(ctx: CheckContext, cert: CmObject): Promise<AcmeState> {
  const api = await custom(ctx);
  const ns = cert.metadata!.namespace!;
  const list = async (g: { group: string; version: string }, plural: string) => ((await api.listNamespacedCustomObject({ ...g, namespace: ns, plural })) as { items?: CmObject[] }).items ?? [];
  const [requests, orders, challenges] = await Promise.all([list(G.cm, 'certificaterequests'), list(G.acme, 'orders'), list(G.acme, 'challenges')]);
  const issuer = await issuerOf(ctx, cert);
  return { certificate: cert, ...ownedChain(cert, requests, orders, challenges), ...(issuer ? { issuer } : {}) };
}

interface TrustAnchor {
  /** PEM roots the site's chain must reach; undefined: a public CA (the platform's roots). */
  roots?: string[];
  source: string;
}

/**
 * The ACME CA's root. With a private ACME server (an issuer with caBundle: the lab's Pebble) it is
 * read from Pebble's management API, over TLS checked against that same caBundle; otherwise the
 * CA is a public one and the platform's roots apply.
 */
function trustAnchor(ctx: CheckContext): Promise<TrustAnchor> {
  return ctx.memo('ingress:trust', async () => {
    const host = ctx.cluster.ingress!.hosts[0]!;
    const cert = (await certificatesFor(ctx, host))[0];
    const issuer = cert ? await issuerOf(ctx, cert) : undefined;
    const acme = issuer?.spec?.acme as { server?: string; caBundle?: string } | undefined;
    // The model's ACME server, not the issuer's: an issuer pointing elsewhere is a fault to find.
    const server = ctx.cluster.ingress!.acmeServer;
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

interface ChainVerdict {
  problems: string[];
  notes: string[];
  leaf?: x509.X509Certificate;
}

/** The secret's chain: leaf for `host`, sane validity, key pair, and up to the ACME CA's root. */
export async function judgeChain(where: string, host: string, crtPem: string, keyPem: string | undefined, anchor: TrustAnchor): Promise<ChainVerdict> {
  const chain = parseCertificates(crtPem);
  const leaf = chain[0];
  if (!leaf) return { problems: [`${where}: tls.crt holds no certificate; fix: delete the secret so that cert-manager issues a new one`], notes: [] };
  const problems: string[] = [];
  const notes = [`${where}: ${leaf.subject || '(no subject)'} issued by ${leaf.issuer}, serial ${leaf.serialNumber}, valid ${leaf.notBefore.toISOString()} .. ${leaf.notAfter.toISOString()}; chain of ${chain.length}`];
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.filter((n) => n.type === 'dns').map((n) => n.value) ?? [];
  if (!san.includes(host)) problems.push(`${where}: the certificate does not name ${host} (SANs: ${san.join(', ') || 'none'}): browsers reject it for that host; fix: cert-manager re-issues when the secret is deleted`);
  const now = Date.now();
  const lifetimeDays = (leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 86400_000;
  if (leaf.notBefore.getTime() > now + 5 * 60_000) problems.push(`${where}: not valid before ${leaf.notBefore.toISOString()} (in the future: a clock is wrong)`);
  if (leaf.notAfter.getTime() < now) problems.push(`${where}: expired on ${leaf.notAfter.toISOString()}: cert-manager did not renew it; fix: kubectl describe certificate (renewal), cert-manager's log`);
  if (lifetimeDays > MAX_LIFETIME_DAYS) problems.push(`${where}: valid for ${Math.round(lifetimeDays)} days, more than the ${MAX_LIFETIME_DAYS} browsers accept for a server certificate`);
  if (keyPem) {
    const same = await Promise.resolve().then(() => Buffer.from(leaf.publicKey.rawData).equals(publicKeyDerOf(keyPem))).catch(() => false);
    if (!same) problems.push(`${where}: tls.key does not belong to the certificate in tls.crt: TLS handshakes fail; fix: delete the secret so that cert-manager issues a matching pair`);
  }
  // Each certificate must be signed by the next one.
  for (let i = 0; i + 1 < chain.length; i++) {
    const ok = await chain[i]!.verify({ publicKey: chain[i + 1]!.publicKey, signatureOnly: true }).catch(() => false);
    if (!ok) problems.push(`${where}: certificate ${i} (${chain[i]!.subject}) is not signed by the next one in tls.crt (${chain[i + 1]!.subject}): the chain is out of order or mixed`);
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
    if (!reached) {
      problems.push(selfSigned && chain.length === 1
        ? `${where}: the certificate is self-signed (${leaf.subject}), not issued by the ACME CA (${anchor.source}): browsers show it as untrusted; fix: delete the secret (or kubectl cert-manager renew) so that cert-manager puts its ACME certificate back`
        : `${where}: the chain ends at "${top.issuer}", which is not signed by ${anchor.source} (root "${roots[0]?.subject}"): the certificate comes from another CA, or the lab's Pebble restarted and made a new root; fix: renew the certificate (delete the secret)`);
    }
  } else if (selfSigned && chain.length === 1) {
    problems.push(`${where}: the certificate is self-signed (${leaf.subject}), not issued by the ACME CA; fix: delete the secret so that cert-manager issues it again`);
  }
  return { problems, notes, leaf };
}

// ---- checks ----------------------------------------------------------------------------------

const names = (c: Cluster) => [...(c.ingress?.hosts ?? []), ...(c.ingress?.plainHosts ?? [])];

const dns: Check = {
  id: 'ingress.dns',
  title: 'every app name resolves, through the outside world\'s DNS, to the workers',
  live: true,
  async run(ctx) {
    if (!ctx.cluster.ingress) return { problems: [], skipped: NO_INGRESS };
    const want = ctx.cluster.workers.map((w) => w.address);
    const problems: string[] = [];
    const notes: string[] = [];
    for (const n of names(ctx.cluster)) {
      const r = await resolveOutside(ctx, n);
      notes.push(`${n} -> ${r.addresses.join(', ') || 'nothing'} (via ${r.via})`);
      if (r.error || !r.addresses.length) {
        problems.push(`${n}: does not resolve through ${r.via} (${r.error ?? 'no A record'}): visitors and the ACME CA cannot find the site; fix: add A records for the workers (${want.join(', ')})${outsideResolver(ctx.cluster) ? ' (the lab: /etc/hardway-labdns/hosts on the edge)' : ''}`);
        continue;
      }
      const foreign = r.addresses.filter((a) => !want.includes(a));
      if (foreign.length) {
        problems.push(`${n}: resolves through ${r.via} to ${foreign.join(', ')}, which is no worker (${ctx.cluster.workers.map((w) => `${w.host} ${w.address}`).join(', ')}): browsers and the ACME CA's HTTP-01 validation go there instead of the ingress; fix: point its A records at the workers${outsideResolver(ctx.cluster) ? ' (the lab: /etc/hardway-labdns/hosts on the edge)' : ''}`);
      }
    }
    return { problems, notes };
  },
};

const gateway: Check = {
  id: 'ingress.gateway',
  title: 'a Ready gateway (nginx) pod serves ports 80/443 on every worker',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    if (!ctx.cluster.ingress) return { problems: [], skipped: NO_INGRESS };
    const g = await gatewayOn(ctx, host!);
    return g.problem
      ? { problems: [`${host}: ${g.problem}; fix: kubectl -n ${GATEWAY_NS} describe daemonset ${GATEWAY_DAEMONSET} and kubectl -n ${GATEWAY_NS} logs ${g.pod ?? `-l app.kubernetes.io/name=nginx-gateway`} --all-containers`] }
      : { problems: [], notes: [`${host}: ${g.pod} Ready`] };
  },
};

/** One line for an HTTP request that did not get the expected answer. */
async function diagnoseHttp(ctx: CheckContext, host: string, address: string, name: string, url: string, a: HttpAnswer): Promise<string> {
  if (a.error) {
    const g = await gatewayOn(ctx, host).catch(() => ({ problem: undefined }));
    const what = a.code === 'ECONNREFUSED' ? 'refuses the connection (nothing listens there)' : a.code === 'ETIMEDOUT' ? `does not answer within ${TIMEOUT_MS / 1000} s` : `fails: ${a.error}`;
    return `${host}: ${url} (Host ${name}, at ${address}) ${what}${g.problem ? `: ${g.problem}` : ''}; fix: ${g.problem ? `bring the gateway back on ${host} (kubectl -n ${GATEWAY_NS} get pods -o wide; describe daemonset ${GATEWAY_DAEMONSET})` : `check the gateway's host ports on ${host} (iptables -t nat -S CNI-HOSTPORT-DNAT) and its logs`}`;
  }
  const routes = await routesFor(ctx, name);
  if (a.status === 404 && !routes.length) return `${host}: ${url} answers 404: no HTTPRoute serves the host ${name}; fix: create the route (the seed's ingress) for ${name}`;
  if (a.status && a.status >= 500) {
    const why = await backendProblem(ctx, routes.flatMap((r) => r.backends));
    return `${host}: ${url} (Host ${name}) answers ${a.status}${why ? `: ${why}; fix: scale the app up or make its pods Ready (kubectl -n ${routes[0]?.backends[0]?.namespace ?? APP_NS} get deploy,pods)` : ' although the backend Service has ready endpoints: the gateway cannot reach the pods; fix: see the gateway\'s nginx log and flannel.pod-ping'}`;
  }
  return `${host}: ${url} (Host ${name}) answers ${a.status}${a.location ? ` -> ${a.location}` : ''} with "${(a.body ?? '').slice(0, 80).replace(/\s+/g, ' ')}", not the app's "ok"; fix: check the HTTPRoute for ${name} (${routes.map((r) => `${r.namespace}/${r.name}`).join(', ') || 'none'})`;
}

const plainHttp: Check = {
  id: 'ingress.plain-http',
  title: 'http://no-https.<domain>/status/ answers "ok" through the gateway on every worker',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const ing = ctx.cluster.ingress;
    if (!ing) return { problems: [], skipped: NO_INGRESS };
    if (!ing.plainHosts.length) return { problems: [], skipped: 'the model has no ingress.plainHosts' };
    const w = ctx.cluster.workers.find((x) => x.host === host)!;
    const problems: string[] = [];
    const notes: string[] = [];
    for (const name of ing.plainHosts) {
      const url = `http://${name}/status/`;
      const a = await fetchVia(w.address, name, '/status/');
      if (a.status === 200 && a.body?.trim() === 'ok') notes.push(`${url} via ${w.address}: 200 ok`);
      else problems.push(await diagnoseHttp(ctx, host!, w.address, name, url, a));
    }
    return { problems, notes };
  },
};

const redirect: Check = {
  id: 'ingress.redirect',
  title: 'plain HTTP to the TLS names redirects to HTTPS where the routes ask for it',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const ing = ctx.cluster.ingress;
    if (!ing) return { problems: [], skipped: NO_INGRESS };
    const w = ctx.cluster.workers.find((x) => x.host === host)!;
    const problems: string[] = [];
    const notes: string[] = [];
    let asked = 0;
    for (const name of ing.hosts) {
      const r = (await routesFor(ctx, name)).find((x) => x.redirect?.scheme === 'https');
      if (!r) continue;
      asked++;
      const want = r.redirect!.statusCode ?? 302;
      const a = await fetchVia(w.address, name, '/status/');
      if (a.status === want && a.location?.startsWith(`https://${name}`)) notes.push(`http://${name}/status/ via ${w.address}: ${a.status} -> ${a.location}`);
      else if (a.status === want || (a.status && a.status >= 300 && a.status < 400)) problems.push(`${host}: http://${name}/status/ redirects to ${a.location ?? 'nowhere'} (${a.status}), not to https://${name}/status/ as route ${r.namespace}/${r.name} asks; fix: check the route's RequestRedirect filter`);
      else problems.push(`${(await diagnoseHttp(ctx, host!, w.address, name, `http://${name}/status/`, a)).replace(/; fix:/, `; route ${r.namespace}/${r.name} asks for a ${want} redirect to HTTPS; fix:`)}`);
    }
    if (!asked) return { problems: [], skipped: `no route asks for a redirect to HTTPS for ${ing.hosts.join(', ') || 'any TLS name'}` };
    return { problems, notes };
  },
};

const issuer: Check = {
  id: 'ingress.issuer',
  title: 'the ACME issuer of the site certificates is Ready and points at the model\'s ACME server',
  live: true,
  async run(ctx) {
    const ing = ctx.cluster.ingress;
    if (!ing) return { problems: [], skipped: NO_INGRESS };
    if (!ing.hosts.length) return { problems: [], skipped: 'the model has no ingress.hosts (no certificates)' };
    const problems: string[] = [];
    const notes: string[] = [];
    const seen = new Set<string>();
    for (const name of ing.hosts) {
      for (const cert of await certificatesFor(ctx, name)) {
        const ref = cert.spec?.issuerRef as { name: string; kind?: string };
        const key = `${ref.kind}/${ref.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const iss = await issuerOf(ctx, cert);
        if (!iss) {
          problems.push(`${ref.kind ?? 'Issuer'} ${ref.name} (issuer of ${cert.metadata?.namespace}/${cert.metadata?.name}) does not exist: nothing can issue the certificate; fix: create it (hardway's edge installer does)`);
          continue;
        }
        const server = (iss.spec?.acme as { server?: string } | undefined)?.server;
        const ready = conditionOf(iss, 'Ready');
        const wrongServer = server && server !== ing.acmeServer ? ` Its ACME server ${server} is not the model's ingress.acmeServer ${ing.acmeServer}.` : '';
        notes.push(`${key}: Ready=${ready?.status ?? 'unknown'}, ACME server ${server ?? '(not ACME)'}`);
        if (ready?.status !== 'True') {
          problems.push(`${key} is not Ready (${ready?.reason ?? 'no status'}: ${(ready?.message ?? '').replace(/\s+/g, ' ').slice(0, 300)}):${wrongServer || ' cert-manager cannot use its ACME account.'} New certificates and renewals fail; fix: ${wrongServer ? `set spec.acme.server back to ${ing.acmeServer} (kubectl edit clusterissuer ${ref.name})` : `check that ${server} answers from the cluster and that spec.acme.caBundle matches its TLS certificate`}`);
        } else if (wrongServer) {
          problems.push(`${key}:${wrongServer} Certificates come from another CA than the model says; fix: set spec.acme.server to ${ing.acmeServer}`);
        }
      }
    }
    if (!seen.size) problems.push(`no cert-manager Certificate names ${ing.hosts.join(', ')}: no issuer to check; fix: create the Certificate (the seed's tls-production.yaml)`);
    return { problems, notes };
  },
};

const certificate: Check = {
  id: 'ingress.certificate',
  title: 'the site certificate is Ready; its secret\'s chain leads to the ACME CA\'s root, names the host, has a sane validity',
  live: true,
  async run(ctx) {
    const ing = ctx.cluster.ingress;
    if (!ing) return { problems: [], skipped: NO_INGRESS };
    if (!ing.hosts.length) return { problems: [], skipped: 'the model has no ingress.hosts' };
    const k = await kube(ctx);
    const anchor = await trustAnchor(ctx);
    const problems: string[] = [];
    const notes = [`trust anchor: ${anchor.source}`];
    for (const name of ing.hosts) {
      const certs = await certificatesFor(ctx, name);
      if (!certs.length) {
        problems.push(`${name}: no cert-manager Certificate names it: nobody obtains a certificate for it; fix: create one (the seed's tls-production.yaml) with secretName matching the gateway's TLS listener`);
        continue;
      }
      for (const cert of certs) {
        const id = `${cert.metadata?.namespace}/${cert.metadata?.name}`;
        const ready = conditionOf(cert, 'Ready');
        if (ready?.status !== 'True') {
          problems.push(`${name}: Certificate ${id} is not Ready. cert-manager says: ${describeAcmeState(await acmeState(ctx, cert))}; fix: kubectl -n ${cert.metadata?.namespace} describe certificate,order,challenge; cert-manager's log`);
          continue;
        }
        const secretName = cert.spec?.secretName as string;
        const secret = await k.core.readNamespacedSecret({ namespace: cert.metadata!.namespace!, name: secretName }).catch((e: unknown) => { problems.push(`${name}: secret ${cert.metadata?.namespace}/${secretName} of Certificate ${id} cannot be read (${apiError(e)})`); return undefined; });
        if (!secret) continue;
        const crt = secret.data?.['tls.crt'] ? Buffer.from(secret.data['tls.crt'], 'base64').toString('utf8') : '';
        const key = secret.data?.['tls.key'] ? Buffer.from(secret.data['tls.key'], 'base64').toString('utf8') : undefined;
        registerSecret(key);
        const v = await judgeChain(`${name}: secret ${cert.metadata?.namespace}/${secretName}`, name, crt, key, anchor);
        // cert-manager replaces a foreign certificate in its secret at once, unless it is not running.
        const cm = v.problems.length ? await k.apps.readNamespacedDeployment({ namespace: CERT_MANAGER_NS, name: 'cert-manager' }).catch(() => undefined) : undefined;
        const down = cm && !(cm.status?.readyReplicas ?? 0) ? ` (cert-manager's controller ${CERT_MANAGER_NS}/cert-manager has ${cm.status?.readyReplicas ?? 0}/${cm.spec?.replicas ?? 0} replicas ready, so nothing puts the issued certificate back and Certificate ${id} still reads Ready)` : '';
        problems.push(...v.problems.map((x) => (down ? x.replace(/; fix: /, `${down}; fix: start cert-manager's controller (kubectl -n ${CERT_MANAGER_NS} scale deploy/cert-manager --replicas=1), then `) : x)));
        notes.push(...v.notes);
      }
    }
    return { problems, notes };
  },
};

/** The site certificate as the secret holds it (DER of the leaf), to compare with what is served. */
async function secretLeafFor(ctx: CheckContext, name: string): Promise<Buffer | undefined> {
  const cert = (await certificatesFor(ctx, name))[0];
  if (!cert) return undefined;
  const k = await kube(ctx);
  const s = await k.core.readNamespacedSecret({ namespace: cert.metadata!.namespace!, name: cert.spec!.secretName as string }).catch(() => undefined);
  const crt = s?.data?.['tls.crt'];
  const leaf = crt ? parseCertificates(Buffer.from(crt, 'base64').toString('utf8'))[0] : undefined;
  return leaf ? Buffer.from(leaf.rawData) : undefined;
}

const https: Check = {
  id: 'ingress.https',
  title: 'https://<domain>/status/ answers "ok" on every worker with the secret\'s certificate, trusted through the ACME root only',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const ing = ctx.cluster.ingress;
    if (!ing) return { problems: [], skipped: NO_INGRESS };
    if (!ing.hosts.length) return { problems: [], skipped: 'the model has no ingress.hosts' };
    const w = ctx.cluster.workers.find((x) => x.host === host)!;
    const anchor = await trustAnchor(ctx);
    const problems: string[] = [];
    const notes: string[] = [];
    for (const name of ing.hosts) {
      const url = `https://${name}/status/`;
      const a = await fetchVia(w.address, name, '/status/', anchor.roots ? { ca: anchor.roots } : {});
      if (a.error) {
        if (/certificate|self.signed|unable to verify|issuer/i.test(a.error)) {
          problems.push(`${host}: ${url} (at ${w.address}) presents a certificate that does not verify against ${anchor.source}: ${a.error}; fix: see ingress.certificate (the secret) and whether the gateway serves that secret`);
        } else problems.push(await diagnoseHttp(ctx, host!, w.address, name, url, a));
        continue;
      }
      if (a.status !== 200 || a.body?.trim() !== 'ok') {
        problems.push(await diagnoseHttp(ctx, host!, w.address, name, url, a));
        continue;
      }
      const want = await secretLeafFor(ctx, name);
      if (want && a.peerDer && !want.equals(a.peerDer)) {
        problems.push(`${host}: ${url} serves a certificate other than the one in the Certificate's secret: the gateway on ${host} has not loaded the current secret; fix: kubectl -n ${GATEWAY_NS} logs on ${host}'s gateway pod (nginx reload)`);
        continue;
      }
      notes.push(`${url} via ${w.address}: 200 ok, certificate verified against ${anchor.source}`);
    }
    return { problems, notes };
  },
};

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _o, stderr) => {
      if (!err) return resolve();
      reject(new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd} not found (apt-get install libnss3-tools)` : `${cmd} ${args[0]} failed: ${stderr.trim().split('\n').pop()}`));
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

const browser: Check = {
  id: 'ingress.browser',
  title: 'https://<domain>/ opens in Chromium that trusts only the ACME CA\'s root (screenshot attached)',
  live: true,
  async run(ctx): Promise<Outcome> {
    const ing = ctx.cluster.ingress;
    if (!ing) return { problems: [], skipped: NO_INGRESS };
    if (!ing.hosts.length) return { problems: [], skipped: 'the model has no ingress.hosts' };
    if (!ctx.browser) return { problems: [], skipped: 'needs a browser: runs under hardway verify (Playwright)' };
    const anchor = await trustAnchor(ctx);
    const problems: string[] = [];
    const notes: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'hardway-chromium-'));
    try {
      const home = await browserHome(dir, anchor.roots ?? []);
      const emptyHome = anchor.roots ? await browserHome(join(dir, 'untrusting'), []) : undefined;
      for (const name of ing.hosts) {
        const r = await resolveOutside(ctx, name);
        const address = r.addresses[0];
        if (!address) {
          problems.push(`${name}: Chromium cannot open https://${name}/: the name does not resolve through ${r.via} (${r.error ?? 'no A record'}); fix: see ingress.dns`);
          continue;
        }
        // The browser resolves only the site's name, as the outside DNS answers it; every other
        // lookup fails, so nothing leaves the lab.
        const rules = `MAP ${name} ${address}, MAP * ~NOTFOUND`;
        const launch = (h: string) => ctx.browser!.launch({ env: { ...process.env, HOME: h }, args: [`--host-resolver-rules=${rules}`] });
        const b = await launch(home);
        try {
          const page = await b.newPage();
          const url = `https://${name}/`;
          let error = '';
          const resp = await page.goto(url, { waitUntil: 'load', timeout: 20_000 }).catch((e: Error) => { error = e.message.split('\n')[0]!; return null; });
          if (!resp) {
            const onWorker = ctx.cluster.workers.some((w) => w.address === address);
            problems.push(/ERR_CERT/.test(error)
              ? `${name}: Chromium refuses https://${name}/ at ${address}: ${error.replace(/^page\.goto: /, '')}: the served certificate does not chain to ${anchor.source}; fix: see ingress.certificate`
              : `${name}: Chromium cannot open https://${name}/ at ${address}: ${error.replace(/^page\.goto: /, '')}${onWorker ? '' : ` (${address} is no worker: the outside DNS sends visitors elsewhere; see ingress.dns)`}`);
            continue;
          }
          const shot = ctx.browser.outputPath(`${name}.png`);
          await page.screenshot({ path: shot, fullPage: true });
          await ctx.browser.attach(`https://${name}/ in Chromium`, shot, 'image/png');
          const title = await page.title();
          const text = async (sel: string) => (await page.locator(sel).textContent({ timeout: 3000 }).catch(() => null))?.trim();
          const shownHost = await text('#host');
          const sec = await resp.securityDetails();
          notes.push(`https://${name}/ -> ${resp.status()} "${title}" served by pod ${(await text('#pod')) ?? '?'}; TLS ${sec?.protocol ?? '?'}, issuer ${sec?.issuer ?? '?'}, valid to ${sec?.validTo ? new Date(sec.validTo * 1000).toISOString() : '?'}`);
          if (resp.status() >= 500) {
            const why = await backendProblem(ctx, (await routesFor(ctx, name)).flatMap((r) => r.backends));
            problems.push(`${name}: Chromium gets HTTP ${resp.status()} from https://${name}/ ("${title}")${why ? `: ${why}; fix: scale the app up or make its pods Ready` : '; fix: see ingress.https and the gateway\'s nginx log'}`);
          } else if (resp.status() !== 200) problems.push(`${name}: Chromium gets HTTP ${resp.status()} from https://${name}/ ("${title}"); fix: see ingress.https and the route's backend`);
          else if (shownHost !== name) problems.push(`${name}: https://${name}/ opens, but the page is not the demo app for ${name} (title "${title}", host shown: ${shownHost ?? 'none'}); fix: check the HTTPRoute's backend`);
        } finally {
          await b.close();
        }
        if (emptyHome) {
          // Control: without the ACME root the same visit must fail, or trust came from elsewhere.
          const b2 = await launch(emptyHome);
          try {
            const page = await b2.newPage();
            const err = await page.goto(`https://${name}/`, { timeout: 20_000 }).then(() => '', (e: Error) => e.message);
            if (!err) problems.push(`${name}: Chromium also opens https://${name}/ without the ACME root: the certificate is trusted through another CA, not the ACME CA; fix: see ingress.certificate`);
            else if (/ERR_CERT_AUTHORITY_INVALID/.test(err)) notes.push(`control: without the ACME root Chromium refuses the site (ERR_CERT_AUTHORITY_INVALID)`);
          } finally {
            await b2.close();
          }
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return { problems, notes };
  },
};

export const ingressSuite: Suite = {
  name: 'ingress',
  title: 'the HTTPS edge: DNS, gateway, plain HTTP, redirect, ACME issuer and certificate, HTTPS in Chromium',
  dependsOn: ['kube-proxy'],
  checks: [dns, gateway, plainHttp, redirect, issuer, certificate, https, browser],
};

