// Every credential the cluster's components really use, read from the discovery facts, and judged
// as Go's crypto/x509 and crypto/tls judge it (harness/pki/x509): each certificate against the
// trust file of the peer that verifies it (the apiserver's --client-ca-file for client
// certificates, --kubelet-certificate-authority for kubelets' serving certificates, the
// apiserver's --etcd-cafile for etcd's, each kubeconfig's certificate-authority for the
// apiserver's), for the names those peers connect to. One judgement per host, shared by the
// suite's checks, which report its findings by code.
import { ADMIN_KUBECONFIG_CANDIDATES } from '../../harness/verify/kube.ts';
import { type ComponentFacts, componentsOf, hostFacts } from '../../harness/discovery/facts.ts';
import { type FileReads, readFiles } from '../../harness/discovery/read-host.ts';
import { judgeCredential, judgeKubeconfig, judgeServiceAccountKeys } from '../../harness/pki/x509/index.ts';
import type { CredentialInput, ExpectedIdentity, FileRef, FixOption, Judgement, TrustRef } from '../../harness/pki/x509/index.ts';
import type { CheckContext, Finding } from '../../harness/verify/check.ts';

export interface HostJudgement {
  findings: Finding[];
  warnings: Finding[];
  /** Credentials judged, and certificates read. */
  credentials: number;
  examined: number;
  /** Serving certificates judged for the names their clients connect to (what certs.sans looks at). */
  serving: number;
  /** Client certificates judged against the identity RBAC expects (what certs.identity looks at). */
  identities: number;
  /** Kubeconfigs judged. */
  kubeconfigs: number;
}

/** A file of a host as read: its text, absent, or there but not readable by hardway's user. */
export type FileState = { state: 'present'; text: string } | { state: 'missing' } | { state: 'unreadable' };

const stateOf = (read: FileReads, path: string): FileState => {
  const text = read.get(path);
  if (text !== undefined) return { state: 'present', text };
  return read.unreadable.has(path) ? { state: 'unreadable' } : { state: 'missing' };
};

/** A file of a host, read once per run (the suites share it), with whether it could be read. */
export function fileStateOn(ctx: CheckContext, host: string, path: string): Promise<FileState> {
  return ctx.memo(`file:${host}:${path}`, async () => stateOf(await readFiles(ctx.host(host).access, [path]), path));
}

/** A file's text, or undefined when it is missing or unreadable (fileStateOn tells which). */
export async function fileOn(ctx: CheckContext, host: string, path: string): Promise<string | undefined> {
  const f = await fileStateOn(ctx, host, path);
  return f.state === 'present' ? f.text : undefined;
}

/** The regular files below `dir` on a host, listed once per run (the suites share the list). */
export function listFilesOn(ctx: CheckContext, host: string, dir: string): Promise<string[]> {
  return ctx.memo(`list:${host}:${dir}`, () => ctx.host(host).access.listFiles(dir));
}

/** Reads many files of a host in one round trip, into the same memo fileOn uses: a check that
 * then reads them one by one waits for no further round trip. When the batch fails, each file is
 * read on its own (a batch's failure is not every file's). */
export async function prefetch(ctx: CheckContext, host: string, paths: string[]): Promise<void> {
  const todo = [...new Set(paths)];
  const access = ctx.host(host).access;
  const read = ctx.memo(`prefetch:${host}:${todo.join(',')}`, () => readFiles(access, todo));
  await Promise.all(
    todo.map((p) =>
      ctx.memo(`file:${host}:${p}`, async () => {
        const batch = await read.catch(() => undefined);
        return stateOf(batch ?? (await readFiles(access, [p])), p);
      }),
    ),
  );
}

const ref = async (ctx: CheckContext, host: string, path: string | undefined): Promise<FileRef | undefined> =>
  path ? { path, pem: await fileOn(ctx, host, path) } : undefined;

async function trust(ctx: CheckContext, host: string, path: string | undefined, source: string): Promise<TrustRef[]> {
  return path ? [{ path, pem: await fileOn(ctx, host, path), source }] : [];
}

/** What RBAC binds each component's client certificate to (Kubernetes' bootstrap policy). */
const IDENTITY: Partial<Record<string, ExpectedIdentity>> = {
  'kube-proxy': { cn: 'system:kube-proxy', o: ['system:node-proxier'], oAdvisory: true },
  'kube-controller-manager': { cn: 'system:kube-controller-manager', o: ['system:kube-controller-manager'], oAdvisory: true },
  'kube-scheduler': { cn: 'system:kube-scheduler', o: ['system:kube-scheduler'], oAdvisory: true },
};

function urlHosts(urls: string[]): string[] {
  return urls.flatMap((u) => {
    try {
      return [new URL(u).hostname.replace(/^\[|\]$/g, '')];
    } catch {
      return [];
    }
  });
}

/** The addresses the apiserver uses for a kubelet, by --kubelet-preferred-address-types. */
function kubeletNames(api: ComponentFacts | undefined, nodeName: string, internal: string): string[] {
  const order = api?.flags.list('kubelet-preferred-address-types') ?? [];
  const types = order.length ? order : ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'];
  for (const t of types) {
    if (t === 'Hostname') return [nodeName];
    if (t === 'InternalIP') return [internal];
  }
  return [internal];
}

/**
 * The apiserver's serving certificate as in-cluster clients judge it: at the kubernetes service
 * address, trusting the CA the controller manager hands to pods (--root-ca-file).
 */
function apiserverServing(ctx: CheckContext, c: ComponentFacts): Promise<Judgement | undefined> {
  return ctx.memo(`certs:apiserver-serving:${c.host}`, async () => {
    const file = (x: ComponentFacts, role: string) => x.files.find((f) => f.role === role);
    const cert = await ref(ctx, c.host, file(c, 'serving-cert')?.path);
    if (!cert) return undefined;
    const key = await ref(ctx, c.host, file(c, 'serving-key')?.path);
    const kcm = componentsOf(ctx.facts, 'kube-controller-manager')[0];
    const podCa = kcm ? file(kcm, 'root-ca') : undefined;
    const caPath = podCa?.path ?? file(c, 'client-ca')?.path;
    return judgeCredential({
      host: c.host,
      now: new Date(),
      expiryWarningDays: ctx.options.expiryWarningDays,
      fix: ctx.target.ownedByHardway ? 'hardway' : 'manual',
      component: 'kube-apiserver',
      purpose: 'serving',
      source: file(c, 'serving-cert')!.source,
      cert,
      ...(key ? { key } : {}),
      trust: await trust(
        ctx,
        podCa ? kcm!.host : c.host,
        caPath,
        podCa ? podCa.source : (file(c, 'client-ca')?.source ?? 'kube-apiserver --client-ca-file'),
      ),
      names: [ctx.cluster.kubernetesServiceIP],
      expectedNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${ctx.cluster.clusterDomain}`],
    });
  });
}

/** Judges every credential found on one host. */
export function judgeHost(ctx: CheckContext, host: string): Promise<HostJudgement> {
  return ctx.memo(`certs:${host}`, async () => {
    const facts = ctx.facts;
    const hf = hostFacts(facts, host);
    const out: HostJudgement = { findings: [], warnings: [], credentials: 0, examined: 0, kubeconfigs: 0, serving: 0, identities: 0 };
    if (!hf) return out;
    const fix: FixOption = ctx.target.ownedByHardway ? 'hardway' : 'manual';
    const common = { host, now: new Date(), expiryWarningDays: ctx.options.expiryWarningDays, fix };
    await Promise.all(
      [host, ...facts.hosts.map((h) => h.host)].map((h) =>
        prefetch(
          ctx,
          h,
          (hostFacts(facts, h)?.components ?? []).flatMap((c) => c.files.map((f) => f.path)),
        ),
      ),
    );
    const api = componentsOf(facts, 'kube-apiserver')[0];
    const etcds = componentsOf(facts, 'etcd');
    const add = (j: { findings: Finding[]; warnings: Finding[]; examined: number }, purpose?: CredentialInput['purpose']) => {
      out.findings.push(...j.findings);
      out.warnings.push(...j.warnings);
      out.examined += j.examined;
      out.credentials++;
      if (purpose === 'serving') out.serving++;
    };
    const judge = (i: CredentialInput) => add(judgeCredential(i), i.purpose);
    const file = (c: ComponentFacts, role: string) => c.files.find((f) => f.role === role);

    for (const c of hf.components) {
      const src = (role: string) => file(c, role)?.source ?? c.kind;
      switch (c.kind) {
        case 'kube-apiserver': {
          const own = await apiserverServing(ctx, c);
          if (own) add(own, 'serving');
          // Its client certificate to etcd, as each etcd member judges it (--trusted-ca-file).
          const ecert = await ref(ctx, host, file(c, 'etcd-client-cert')?.path);
          if (ecert) {
            const ekey = await ref(ctx, host, file(c, 'etcd-client-key')?.path);
            for (const e of etcds) {
              const t = file(e, 'client-ca');
              if (!t) continue;
              judge({
                ...common,
                component: 'kube-apiserver',
                purpose: 'client',
                source: src('etcd-client-cert'),
                cert: ecert,
                ...(ekey ? { key: ekey } : {}),
                trust: await trust(ctx, e.host, t.path, t.source),
              });
            }
          }
          // Its client certificate to kubelets, as each kubelet judges it (clientCAFile).
          const kcert = await ref(ctx, host, file(c, 'kubelet-client-cert')?.path);
          if (kcert) {
            const kkey = await ref(ctx, host, file(c, 'kubelet-client-key')?.path);
            for (const k of componentsOf(facts, 'kubelet')) {
              const t = file(k, 'client-ca');
              if (!t) continue;
              judge({
                ...common,
                component: 'kube-apiserver',
                purpose: 'client',
                source: src('kubelet-client-cert'),
                cert: kcert,
                ...(kkey ? { key: kkey } : {}),
                trust: await trust(ctx, k.host, t.path, t.source),
              });
            }
          }
          // Service-account keys: the signing key must be one the apiserver verifies with.
          const kcm = componentsOf(facts, 'kube-controller-manager')[0];
          const verify = c.files.filter((f) => f.role === 'sa-verify-key');
          const signers = [file(c, 'sa-signing-key'), ...(kcm ? [file(kcm, 'sa-signing-key')] : [])].filter((f) => !!f);
          for (const s of signers) {
            const signerHost = s === file(c, 'sa-signing-key') ? host : kcm!.host;
            add(
              judgeServiceAccountKeys({
                verifyFiles: await Promise.all(verify.map(async (v) => ({ path: v.path, pem: await fileOn(ctx, host, v.path) }))),
                signingKey: { path: s.path, pem: await fileOn(ctx, signerHost, s.path) },
                host: signerHost,
                verifySource: verify[0]?.source ?? 'kube-apiserver --service-account-key-file',
                signingSource: s.source,
                fix,
              }),
            );
          }
          break;
        }
        case 'etcd': {
          const cert = await ref(ctx, host, file(c, 'serving-cert')?.path);
          if (cert) {
            // As the apiserver (and flanneld) verify it, for the names in their --etcd-servers.
            const clients = [
              ...componentsOf(facts, 'kube-apiserver').map((a) => ({ a, ca: file(a, 'etcd-ca'), urls: a.flags.list('etcd-servers') })),
              ...componentsOf(facts, 'flanneld').map((a) => ({ a, ca: file(a, 'etcd-ca'), urls: a.flannel?.etcdEndpoints ?? [] })),
            ];
            const mine = new Set([...urlHosts(c.flags.list('advertise-client-urls')), ...urlHosts(c.flags.list('listen-client-urls'))]);
            for (const cl of clients.filter((x) => x.ca)) {
              const names = urlHosts(cl.urls).filter(
                (n) => mine.has(n) || ((n === '127.0.0.1' || n === 'localhost') && cl.a.host === host),
              );
              const key = await ref(ctx, host, file(c, 'serving-key')?.path);
              judge({
                ...common,
                component: 'etcd',
                purpose: 'serving',
                source: src('serving-cert'),
                cert,
                ...(key ? { key } : {}),
                trust: await trust(ctx, cl.a.host, cl.ca!.path, cl.ca!.source),
                names,
              });
            }
          }
          const peer = await ref(ctx, host, file(c, 'peer-cert')?.path);
          const peerCa = file(c, 'peer-ca');
          if (peer && peerCa) {
            const key = await ref(ctx, host, file(c, 'peer-key')?.path);
            const t = await trust(ctx, host, peerCa.path, peerCa.source);
            judge({
              ...common,
              component: 'etcd (peer)',
              purpose: 'serving',
              source: src('peer-cert'),
              cert: peer,
              ...(key ? { key } : {}),
              trust: t,
              names: urlHosts(c.flags.list('initial-advertise-peer-urls')),
            });
            if (c.flags.bool('peer-client-cert-auth'))
              judge({
                ...common,
                component: 'etcd (peer)',
                purpose: 'client',
                source: src('peer-cert'),
                cert: peer,
                ...(key ? { key } : {}),
                trust: t,
              });
          }
          break;
        }
        case 'kubelet': {
          const cert = await ref(ctx, host, file(c, 'serving-cert')?.path);
          const caFile = api ? file(api, 'kubelet-ca') : undefined;
          const model = ctx.cluster.workers.find((w) => w.host === host);
          if (cert && caFile && model) {
            const key = await ref(ctx, host, file(c, 'serving-key')?.path);
            judge({
              ...common,
              component: 'kubelet',
              purpose: 'serving',
              source: src('serving-cert'),
              cert,
              ...(key ? { key } : {}),
              trust: await trust(ctx, api!.host, caFile.path, caFile.source),
              names: kubeletNames(api, model.nodeName, model.internalAddress),
              expectedNames: [model.nodeName, model.internalAddress],
            });
          }
          break;
        }
        case 'flanneld': {
          const cert = await ref(ctx, host, file(c, 'etcd-client-cert')?.path);
          if (cert) {
            const key = await ref(ctx, host, file(c, 'etcd-client-key')?.path);
            for (const e of etcds) {
              const t = file(e, 'client-ca');
              if (t)
                judge({
                  ...common,
                  component: 'flanneld',
                  purpose: 'client',
                  source: src('etcd-client-cert'),
                  cert,
                  ...(key ? { key } : {}),
                  trust: await trust(ctx, e.host, t.path, t.source),
                });
            }
          }
          break;
        }
        default:
          break;
      }
      // The component's kubeconfig: as client-go reads it, its client certificate as the
      // apiserver judges it, the apiserver's certificate as this client judges it.
      const kc = c.files.find((f) => f.role === 'kubeconfig');
      if (kc && api) await judgeKubeconfigOf(ctx, out, host, c.kind, kc.path, c, api, common);
    }
    // An admin kubeconfig on a master: kubectl's credential.
    if (api && ctx.cluster.masters.some((m) => m.host === host)) {
      for (const path of ADMIN_KUBECONFIG_CANDIDATES) {
        if ((await fileOn(ctx, host, path)) !== undefined)
          await judgeKubeconfigOf(ctx, out, host, 'admin (kubectl)', path, undefined, api, common);
      }
    }
    return out;
  });
}

async function judgeKubeconfigOf(
  ctx: CheckContext,
  out: HostJudgement,
  host: string,
  component: string,
  path: string,
  c: ComponentFacts | undefined,
  api: ComponentFacts,
  common: { host: string; now: Date; expiryWarningDays: number; fix: FixOption },
): Promise<void> {
  const clientCa = api.files.find((f) => f.role === 'client-ca');
  const apiCert = api.files.find((f) => f.role === 'serving-cert');
  const identity =
    component === 'kubelet'
      ? { cn: `system:node:${ctx.cluster.workers.find((w) => w.host === host)?.nodeName ?? host}`, o: ['system:nodes'] }
      : component === 'admin (kubectl)'
        ? { o: ['system:masters'] }
        : IDENTITY[component];
  const text = await fileOn(ctx, host, path);
  const j = await judgeKubeconfig(text, path, (p) => fileOn(ctx, host, p), {
    ...common,
    component: c ? c.kind : component,
    clientCa: clientCa ? await trust(ctx, api.host, clientCa.path, clientCa.source) : [],
    ...(apiCert ? { apiserverCert: { path: `${api.host}:${apiCert.path}`, pem: await fileOn(ctx, api.host, apiCert.path) } } : {}),
    ...(identity ? { expectedIdentity: identity } : {}),
  });
  // The apiserver's certificate as this client judges it: what the apiserver's own judgement
  // already reports (an expired or foreign certificate) is reported there, once; here only what
  // is this client's own (its server name not covered, its CA not the one that signed it).
  const own = await apiserverServing(ctx, api);
  const ownCodes = new Set((own?.findings ?? []).map((f) => f.code));
  const apiSubject = apiCert ? `${api.host}:${apiCert.path}` : undefined;
  const clientOwn = (f: Finding) =>
    f.subject !== apiSubject || f.code === 'san-missing' || (f.code === 'chain-unknown-authority' && !ownCodes.has(f.code));
  out.findings.push(...j.findings.filter(clientOwn).map((f) => ({ ...f, host })));
  out.warnings.push(...j.warnings.map((f) => ({ ...f, host })));
  out.examined += j.examined;
  out.credentials++;
  out.kubeconfigs++;
  // What judgeKubeconfig judged besides the file: its client certificate (for the identity RBAC
  // expects, when there is one) and the apiserver's serving certificate as this client checks it.
  const r = j.resolved;
  if (identity && r.user?.cert && r.user.key) out.identities++;
  if (apiCert && r.cluster?.ca && !r.cluster.insecure) out.serving++;
}
