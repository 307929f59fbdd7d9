// Installs the HTTPS edge onto an installed cluster, over SSH like the cluster installer, the seed's
// way ("nginx-ingress & cert-manager", then "Запускаем приложение"): images into every worker's
// containerd, the CRDs, cert-manager and the gateway controller, the ACME ClusterIssuer, then the
// application; each step waits for its own health signal. The last wait, for the certificate, is
// bounded and on timeout reports cert-manager's own status (Certificate, Order, Challenge).
import { createHash, randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { stringify } from 'yaml';
import { CERT_MANAGER_VERSION, GATEWAY_API_VERSION, NGF_VERSION } from '../binaries/manifest.ts';
import { UserFacingError } from '../cli/errors.ts';
import { goModuleDir } from '../images/edge-images.ts';
import { Remote, shq } from '../installer/remote.ts';
import { uploadIfChanged } from '../installer/upload.ts';
import type { Cluster } from '../model/cluster.ts';
import type { SshSession } from '../ssh/session.ts';
import { type AcmeState, type CmObject, describeAcmeState, ownedChain } from './acme-status.ts';
import {
  APP,
  APP_NS,
  CERT_MANAGER_NS,
  CLUSTER_ISSUER,
  GATEWAY_DAEMONSET,
  GATEWAY_NS,
  type K8sObject,
  appObjects,
  certManagerObjects,
  edgeCrds,
  gatewayObjects,
  issuerObjects,
} from './manifests.ts';

export interface EdgeInstallInput {
  cluster: Cluster;
  sessions: Map<string, SshSession>;
  /** OCI tarballs of the edge images (buildEdgeImages), imported into every worker. */
  images: { name: string; tar: string }[];
  /** CA bundle for the ACME server's TLS (the lab's Pebble); absent for a public ACME CA. */
  acmeCaBundle?: string;
  progress: (line: string) => void;
  /** Bound of the wait for the certificate (default 240 s). */
  certificateTimeoutMs?: number;
  /** The cluster's install still running (lab up runs both at once): each step waits for what it needs. */
  after?: ClusterReadiness;
}

/** Parts of a cluster being installed, as they become ready (from the installer's onHealthy). */
export interface ClusterReadiness {
  /** The host's files and binaries are copied: its link is free for more. */
  copied(host: string): Promise<void>;
  apiserver: Promise<void>;
  containerd(host: string): Promise<void>;
  /** Every worker Ready. */
  nodes: Promise<void>;
}

const READY: ClusterReadiness = {
  copied: () => Promise.resolve(),
  apiserver: Promise.resolve(),
  containerd: () => Promise.resolve(),
  nodes: Promise.resolve(),
};

const EDGE_DIR = '/var/lib/hardway/edge';

export function toYaml(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** Sends the image tars one after another (each upload keeps a core busy) and imports each into
 * containerd, once it runs, while the next is sent. */
async function importImages(r: Remote, images: { name: string; tar: string }[], containerd: Promise<void>): Promise<void> {
  const imports: Promise<string>[] = [];
  for (const img of images) {
    const remote = `/var/lib/hardway/images/${basename(img.tar)}`;
    await uploadIfChanged(r, img.tar, remote, 0o644);
    imports.push(containerd.then(() => r.run(`ctr -n k8s.io images import ${shq(remote)} >/dev/null`, { timeoutMs: 300_000 })));
  }
  await Promise.all(imports);
}

/** kubectl on the master, as the seed's user does it; JSON answers parsed. */
class Kubectl {
  readonly r: Remote;
  constructor(r: Remote) {
    this.r = r;
  }
  async apply(name: string, objects: K8sObject[], extra = ''): Promise<void> {
    const file = `${EDGE_DIR}/${name}.yaml`;
    await this.r.ssh.writeFile(file, toYaml(objects), 0o600);
    // Server-side apply: the CRDs are larger than client-side apply's annotation allows.
    await this.r.run(`kubectl apply --server-side --force-conflicts --field-manager=hardway-edge ${extra} -f ${file} >/dev/null`, {
      timeoutMs: 180_000,
    });
  }
  async json<T>(args: string): Promise<T | undefined> {
    const r = await this.r.ssh.exec(`kubectl ${args} -o json`, { timeoutMs: 30_000 });
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as T;
  }
  async items(args: string): Promise<CmObject[]> {
    return (await this.json<{ items: CmObject[] }>(args))?.items ?? [];
  }
}

async function waitUntil(timeoutMs: number, probe: () => Promise<boolean>, intervalMs = 1000): Promise<boolean> {
  const t0 = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() - t0 > timeoutMs) return false;
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

/** Pods of a workload that are not Ready, with their waiting reasons and last warning events. */
async function workloadProblem(k: Kubectl, ns: string, selector: string): Promise<string> {
  const pods = await k.items(`-n ${ns} get pods -l ${shq(selector)}`);
  if (!pods.length) return `no pods match ${selector} in ${ns}`;
  const lines: string[] = [];
  for (const p of pods as (CmObject & {
    spec?: { nodeName?: string };
    status?: {
      phase?: string;
      containerStatuses?: {
        name: string;
        ready: boolean;
        state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
        lastState?: { terminated?: { reason?: string; exitCode?: number } };
      }[];
    };
  })[]) {
    const bad = (p.status?.containerStatuses ?? []).filter((c) => !c.ready);
    if (!bad.length && p.status?.phase === 'Running') continue;
    const why = bad
      .map(
        (c) =>
          `${c.name}: ${c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? 'not ready'}${c.state?.waiting?.message ? ` (${c.state.waiting.message.slice(0, 160)})` : ''}${c.lastState?.terminated ? ` (last exit ${c.lastState.terminated.exitCode} ${c.lastState.terminated.reason ?? ''})` : ''}`,
      )
      .join(', ');
    lines.push(`${p.metadata?.name} on ${p.spec?.nodeName ?? 'no node'}: phase ${p.status?.phase}${why ? `, ${why}` : ''}`);
  }
  const events = await k.items(`-n ${ns} get events --field-selector type=Warning --sort-by=.lastTimestamp`);
  const last = events.slice(-2).map((e) => {
    const ev = e as unknown as { reason?: string; message?: string; involvedObject?: { name?: string } };
    return `${ev.involvedObject?.name}: ${ev.reason}: ${(ev.message ?? '').slice(0, 200)}`;
  });
  return [...lines, ...(last.length ? [`warning events: ${last.join(' | ')}`] : [])].join('; ') || 'pods are Running but not Ready';
}

async function rollout(
  k: Kubectl,
  ns: string,
  kind: 'deployment' | 'daemonset',
  name: string,
  selector: string,
  timeoutS: number,
): Promise<void> {
  const r = await k.r.ssh.exec(`kubectl -n ${ns} rollout status ${kind}/${name} --timeout=${timeoutS}s`, {
    timeoutMs: (timeoutS + 30) * 1000,
  });
  if (r.code === 0) return;
  throw new UserFacingError(
    `edge: ${kind} ${ns}/${name} did not become ready within ${timeoutS} s: ${await workloadProblem(k, ns, selector)}; fix: kubectl -n ${ns} describe ${kind} ${name}, and kubectl -n ${ns} logs -l ${selector} --all-containers`,
    1,
  );
}

/** cert-manager's state for the app's certificate (also what the ingress suite reports). */
export async function acmeStateVia(k: Kubectl, ns: string, certificate: string): Promise<AcmeState> {
  const cert = await k.json<CmObject>(`-n ${ns} get certificate ${certificate}`);
  const [requests, orders, challenges] = await Promise.all([
    k.items(`-n ${ns} get certificaterequests`),
    k.items(`-n ${ns} get orders.acme.cert-manager.io`),
    k.items(`-n ${ns} get challenges.acme.cert-manager.io`),
  ]);
  const issuerName = (cert?.spec?.issuerRef as { name?: string } | undefined)?.name ?? CLUSTER_ISSUER;
  const issuer = await k.json<CmObject>(`get clusterissuer ${issuerName}`);
  return {
    ...(cert ? { certificate: cert, ...ownedChain(cert, requests, orders, challenges) } : { requests, orders, challenges }),
    ...(issuer ? { issuer } : {}),
  };
}

export async function installEdge(input: EdgeInstallInput): Promise<void> {
  const c = input.cluster;
  if (!c.ingress) throw new UserFacingError('the cluster model has no ingress section: no HTTPS edge to install');
  const p = (l: string) => input.progress(`edge: ${l}`);
  const remote = (host: string) => {
    const s = input.sessions.get(host);
    if (!s) throw new UserFacingError(`${host}: no SSH session to install the edge with`);
    return new Remote(host, s);
  };
  const master = remote(c.masters[0]!.host);
  const k = new Kubectl(master);
  const t0 = Date.now();
  const readiness = input.after ?? READY;

  // Images go into each worker as soon as its containerd runs, and the CRDs in as soon as the
  // apiserver answers: both while the rest of the cluster is still being installed.
  const images = (async () => {
    p(
      `sending ${input.images.length} images to every worker, imported as its containerd starts (${input.images.map((i) => i.name).join(', ')})`,
    );
    await Promise.all(
      c.workers.map(async (w) => {
        await readiness.copied(w.host);
        await importImages(remote(w.host), input.images, readiness.containerd(w.host));
      }),
    );
    p('images imported on every worker');
  })();
  const crdsEstablished = (async () => {
    await readiness.apiserver;
    await master.run(`mkdir -p ${EDGE_DIR} && chmod 700 ${EDGE_DIR}`);
    const [certManager, gatewayApi, ngf] = await Promise.all([
      goModuleDir('github.com/cert-manager/cert-manager', CERT_MANAGER_VERSION),
      goModuleDir('sigs.k8s.io/gateway-api', GATEWAY_API_VERSION),
      goModuleDir('github.com/nginxinc/nginx-gateway-fabric', NGF_VERSION),
    ]);
    const crds = edgeCrds({ certManager, gatewayApi, ngf });
    p(
      `applying ${crds.length} CRDs (Gateway API ${GATEWAY_API_VERSION}, NGINX Gateway Fabric ${NGF_VERSION}, cert-manager ${CERT_MANAGER_VERSION})`,
    );
    await k.apply('crds', crds);
    await master.run(
      `kubectl wait --for=condition=Established --timeout=60s ${crds.map((x) => `crd/${x.metadata.name}`).join(' ')} >/dev/null`,
      { timeoutMs: 90_000 },
    );
  })();
  // Both run to their end before anything fails, so that nothing is left working on a removed lab.
  const [imported, established] = await Promise.allSettled([images, crdsEstablished]);
  for (const r of [imported, established]) if (r.status === 'rejected') throw r.reason;

  // Pods only once every node has the images (imagePullPolicy Never: a pod started earlier would
  // wait out kubelet's back-off). The application goes in with the controllers; only its
  // Certificate waits for the issuer.
  p('applying cert-manager (controller, webhook, cainjector), the gateway controller (DaemonSet, host ports 80/443) and the application');
  // The image tars are named by their recipe key: a rebuilt image rolls the pods that run it.
  const builds = createHash('sha256')
    .update(
      input.images
        .map((i) => basename(i.tar))
        .sort()
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
  const app = appObjects({ cluster: c, appSecretToken: randomBytes(24).toString('hex') });
  await k.apply('cert-manager', certManagerObjects(builds));
  await k.apply('gateway', gatewayObjects(builds));
  await k.apply(
    'app',
    app.filter((o) => o.kind !== 'Certificate'),
  );
  await readiness.nodes;
  // The seed's master runs no kube-proxy and no pod network, so the apiserver cannot reach a
  // Service such as cert-manager's webhook. Service addresses are routed to the workers, whose
  // kube-proxy forwards (and masquerades) them, as the routes of "the hard way" do for pods. Only
  // once every worker's kube-proxy runs: before, a worker would send such a packet on to its own
  // default route, out of the lab.
  const hops = c.workers.map((w) => w.internalAddress);
  for (const m of c.masters) {
    p(`${m.host}: routing the service range ${c.serviceCIDR} through the workers (the apiserver calls cert-manager's webhook)`);
    await remote(m.host).run(
      `ip route replace ${c.serviceCIDR} ${hops.length > 1 ? hops.map((h) => `nexthop via ${h}`).join(' ') : `via ${hops[0]}`}`,
    );
  }
  const webhook = rollout(k, CERT_MANAGER_NS, 'deployment', 'cert-manager-webhook', 'app.kubernetes.io/name=cert-manager-webhook', 150);
  const rollouts = Promise.all([
    rollout(k, CERT_MANAGER_NS, 'deployment', 'cert-manager', 'app.kubernetes.io/name=cert-manager', 150),
    webhook,
    rollout(k, CERT_MANAGER_NS, 'deployment', 'cert-manager-cainjector', 'app.kubernetes.io/name=cert-manager-cainjector', 150),
    rollout(k, GATEWAY_NS, 'daemonset', GATEWAY_DAEMONSET, 'app.kubernetes.io/name=nginx-gateway', 150),
    rollout(k, APP_NS, 'deployment', APP, `app=${APP}`, 150),
  ]);
  const issued = (async () => {
    // No call to the webhook's ClusterIP before its pod is Ready: by then every worker's kube-proxy
    // has the Service's rules. Without them the master's route would carry the packet through a
    // worker's default route, out of the lab.
    await webhook;
    // cert-manager's API is usable once cainjector has put the webhook's CA into the webhook
    // configurations and the apiserver reaches the webhook: a server-side dry run proves both.
    const issuer = issuerObjects({ cluster: c, appSecretToken: '', ...(input.acmeCaBundle ? { acmeCaBundle: input.acmeCaBundle } : {}) });
    await master.ssh.writeFile(`${EDGE_DIR}/issuer.yaml`, toYaml(issuer), 0o600);
    let last = '';
    const apiReady = await waitUntil(
      150_000,
      async () => {
        const r = await master.ssh.exec(
          `kubectl apply --server-side --dry-run=server --request-timeout=10s --field-manager=hardway-edge -f ${EDGE_DIR}/issuer.yaml`,
          { timeoutMs: 40_000 },
        );
        last = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
        return r.code === 0;
      },
      1000,
    );
    if (!apiReady) {
      const ca = (
        await master.ssh.exec(
          `kubectl get validatingwebhookconfiguration cert-manager-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}' | head -c 20`,
        )
      ).stdout;
      throw new UserFacingError(
        `edge: cert-manager's webhook does not answer the apiserver within 150 s (last answer: ${last.slice(0, 300)}); ${ca ? 'its CA is injected' : 'cainjector has not injected its CA yet'}; fix: kubectl -n ${CERT_MANAGER_NS} logs deploy/cert-manager-webhook and deploy/cert-manager-cainjector; check the route to ${c.serviceCIDR} on the master (ip route)`,
        1,
      );
    }
    p(
      `applying the ClusterIssuer ${CLUSTER_ISSUER} (ACME ${c.ingress!.acmeServer}${input.acmeCaBundle ? ', with the CA bundle of its TLS certificate' : ''})`,
    );
    await k.apply('issuer', issuer);
    const issuerReady = await waitUntil(
      90_000,
      async () =>
        (await k.json<CmObject>(`get clusterissuer ${CLUSTER_ISSUER}`))?.status?.conditions?.some(
          (x) => x.type === 'Ready' && x.status === 'True',
        ) ?? false,
      500,
    );
    if (!issuerReady) {
      const st = await k.json<CmObject>(`get clusterissuer ${CLUSTER_ISSUER}`);
      const cond = st?.status?.conditions?.find((x) => x.type === 'Ready');
      throw new UserFacingError(
        `edge: ClusterIssuer ${CLUSTER_ISSUER} is not Ready after 90 s (${cond ? `${cond.reason}: ${cond.message}` : 'no status'}); fix: check that ${c.ingress!.acmeServer} answers from the cluster and that caBundle matches its TLS certificate`,
        1,
      );
    }
  })();
  const [rolled, issuerUp] = await Promise.allSettled([rollouts, issued]);
  for (const r of [rolled, issuerUp]) if (r.status === 'rejected') throw r.reason;

  p(
    `the application (${APP}: ${c.workers.length} replicas, service, routes for ${[...c.ingress.plainHosts, ...c.ingress.hosts].join(', ')}) is up; applying its certificate`,
  );
  await k.apply(
    'certificate',
    app.filter((o) => o.kind === 'Certificate'),
  );

  if (c.ingress.hosts.length) {
    const timeoutMs = input.certificateTimeoutMs ?? 240_000;
    p(
      `waiting for the certificate of ${c.ingress.hosts.join(', ')} (ACME HTTP-01 through the gateway, at most ${Math.round(timeoutMs / 1000)} s)`,
    );
    const t1 = Date.now();
    const ready = await waitUntil(
      timeoutMs,
      async () =>
        (await k.json<CmObject>(`-n ${APP_NS} get certificate ${APP}`))?.status?.conditions?.some(
          (x) => x.type === 'Ready' && x.status === 'True',
        ) ?? false,
      1000,
    );
    if (!ready) {
      const state = await acmeStateVia(k, APP_NS, APP);
      throw new UserFacingError(
        `edge: the certificate ${APP_NS}/${APP} is not Ready after ${Math.round(timeoutMs / 1000)} s. cert-manager says: ${describeAcmeState(state)}; fix: kubectl -n ${APP_NS} describe certificate,order,challenge; kubectl -n ${CERT_MANAGER_NS} logs deploy/cert-manager`,
        1,
      );
    }
    p(`certificate issued in ${Math.round((Date.now() - t1) / 1000)} s`);
  }
  p(`installed in ${Math.round((Date.now() - t0) / 1000)} s`);
}

export { Kubectl };
