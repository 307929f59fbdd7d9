// The test workloads active checks need, in one labelled namespace per run
// (hardway-verify-<run>): a pod on every worker with two containers, a toolbox to look at the
// network from ("main") and the demo app behind a Service ("backend"): one sandbox per worker
// instead of two (each pod start costs its worker most of a core-second here).
// Pods are pinned to their worker (spec.nodeName), so pod checks do not depend on the scheduler,
// and the namespace's default ServiceAccount is created here, not awaited from the controller
// manager: each suite then tests one component. `hardway verify` deletes the namespace at the end
// (also on failure and Ctrl-C) and sweeps namespaces a dead run left behind.
import type { V1Pod } from '@kubernetes/client-node';
import type { CheckContext } from './check.ts';
import { removeImportedImages, workloadImages } from './images.ts';
import { leaseAge } from './leases.ts';
import { type Kube, apiError, apiStatus, kube, poll } from './kube.ts';

export const OWNER_LABEL = 'hardway.io/owner';
export const RUN_LABEL = 'hardway.io/run';
export const BACKEND_SERVICE = 'backend';
export const BACKEND_PORT = 8000;
/** The demo app's container in each worker's pod (the toolbox's is "main"). */
export const BACKEND_CONTAINER = 'backend';

/** The run's id as a DNS label: from the report folder's name (the same in every process). */
export function runIdOf(runDir: string): string {
  return runDir
    .split('/')
    .pop()!
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(-40)
    .replace(/^-+/, '');
}

export function workspaceName(run: string): string {
  return `hardway-verify-${run}`.slice(0, 63).replace(/-+$/, '');
}

async function createIgnoringExisting(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (apiStatus(e) !== 409) throw e;
  }
}

/** The run's namespace, created once (idempotent across Playwright workers). */
export function workspace(ctx: CheckContext): Promise<string> {
  return ctx.memo('workspace', async () => {
    const k = await kube(ctx);
    const ns = workspaceName(ctx.run.id);
    const labels = { [OWNER_LABEL]: 'hardway', [RUN_LABEL]: ctx.run.id };
    await createIgnoringExisting(() => k.core.createNamespace({ body: { metadata: { name: ns, labels } } }));
    await createIgnoringExisting(() =>
      k.core.createNamespacedServiceAccount({
        namespace: ns,
        body: { metadata: { name: 'default' }, automountServiceAccountToken: false },
      }),
    );
    return ns;
  });
}

function pinnedPod(
  name: string,
  nodeName: string,
  image: string,
  pullPolicy: string,
  labels: Record<string, string>,
  extra: Partial<NonNullable<V1Pod['spec']>['containers'][number]> = {},
  more: NonNullable<V1Pod['spec']>['containers'] = [],
): V1Pod {
  return {
    metadata: { name, labels: { [OWNER_LABEL]: 'hardway', ...labels } },
    spec: {
      nodeName,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      restartPolicy: 'Always',
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'main', image, imagePullPolicy: pullPolicy, ...extra }, ...more],
    },
  };
}

export interface PodOnWorker {
  host: string;
  nodeName: string;
  name: string;
  ip?: string;
  /** Why the pod is not running, when it is not. */
  problem?: string;
  /** Why its node's lease could not be read: the pod looks Ready, but that may be stale. */
  leaseUnread?: string;
}

/** Describes why a pod is not Ready: its phase, container waiting reason, last events. */
export async function podProblem(k: Kube, ns: string, name: string): Promise<string> {
  const pod = await k.core.readNamespacedPod({ namespace: ns, name }).catch(() => undefined);
  if (!pod) return 'the pod does not exist';
  const waiting = (pod.status?.containerStatuses ?? []).filter((c) => c.state?.waiting);
  const events = await k.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` }).catch(() => undefined);
  const last = (events?.items ?? []).filter((e) => e.type === 'Warning').slice(-1)[0];
  return [
    `phase ${pod.status?.phase ?? 'unknown'}`,
    ...waiting.map((c) => {
      const w = c.state!.waiting!;
      return `container ${c.name} waiting: ${w.reason}${w.message ? ` (${w.message.slice(0, 160)})` : ''}`;
    }),
    last ? `last warning event: ${last.reason}: ${(last.message ?? '').slice(0, 200)}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** A node lease older than this: its kubelet (renewing every 10 s) is gone; what it reported is stale. */
const KUBELET_GONE_S = 40;

type Images = { toolbox: string; demoApp: string; pullPolicy: string };
type PodReady = (p: V1Pod) => boolean;

/** The pod Ready (every container ready). */
const podReady: PodReady = (p) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Creates a pod per worker (once per run, whoever asks first) and waits until each is ready as
 * `isReady` says (memoised under `key`): users of the same pods may wait for different things. */
async function ensurePods(
  ctx: CheckContext,
  key: string,
  make: (host: string, nodeName: string, images: Images) => V1Pod,
  isReady: PodReady = podReady,
  createdKey = key,
): Promise<PodOnWorker[]> {
  return ctx.memo(key, async () => {
    const k = await kube(ctx);
    const [ns, images] = await Promise.all([workspace(ctx), workloadImages(ctx)]);
    const pods = ctx.cluster.workers.map((w) => ({ w, pod: make(w.host, w.nodeName, images) }));
    await ctx.memo(`${createdKey}:created`, () =>
      Promise.all(
        pods
          .filter(({ w }) => !images.problems.has(w.host))
          .map(({ pod }) => createIgnoringExisting(() => k.core.createNamespacedPod({ namespace: ns, body: pod }))),
      ),
    );
    // One list of the namespace's pods per tick answers every pod waiting (not a read per pod per
    // tick: with six workers that was twenty requests a second to the apiserver).
    let snapshot: { at: number; pods: Promise<Map<string, V1Pod>> } | undefined;
    const podNow = async (name: string) => {
      if (!snapshot || Date.now() - snapshot.at >= 250) {
        const list = k.core.listNamespacedPod({ namespace: ns }).then((l) => new Map(l.items.map((p) => [p.metadata?.name ?? '', p])));
        list.catch(() => undefined); // each waiter sees the failure as "not yet"
        snapshot = { at: Date.now(), pods: list };
      }
      return (await snapshot.pods).get(name);
    };
    return Promise.all(
      pods.map(async ({ w, pod }): Promise<PodOnWorker> => {
        const name = pod.metadata!.name!;
        const noImage = images.problems.get(w.host);
        if (noImage) return { host: w.host, nodeName: w.nodeName, name, problem: noImage };
        // A node whose kubelet stopped renewing its lease will not start the pod: waiting the
        // full minute for it tells nothing more. The lease is looked at every 3 s; two stale
        // readings in a row, the second older, are needed (a kubelet just restarted renews
        // within 10 s of its start, and its first reading may still be the old lease).
        let lastLeaseLook = Date.now();
        let staleSeen: number | undefined;
        let deadKubelet: number | undefined;
        const ready = await poll(
          60_000,
          async () => {
            const p = await podNow(name);
            if (p && isReady(p) && p.status?.podIP) return p.status.podIP;
            if (Date.now() - lastLeaseLook >= 3000) {
              lastLeaseLook = Date.now();
              const age = (await leaseAge(ctx, 'kube-node-lease', w.nodeName)).ageS;
              const stale = age !== undefined && age > KUBELET_GONE_S ? age : undefined;
              if (stale !== undefined && staleSeen !== undefined && stale > staleSeen) {
                deadKubelet = stale;
                return '';
              }
              staleSeen = stale;
            }
            return undefined;
          },
          300,
        );
        if (deadKubelet !== undefined)
          return {
            host: w.host,
            nodeName: w.nodeName,
            name,
            problem: `pod ${ns}/${name} not Ready: node ${w.nodeName}'s kubelet has not renewed its lease for ${deadKubelet} s, nobody starts the pod (${await podProblem(k, ns, name)})`,
          };
        if (!ready)
          return {
            host: w.host,
            nodeName: w.nodeName,
            name,
            problem: `pod ${ns}/${name} on ${w.nodeName} not Ready after 60 s: ${await podProblem(k, ns, name)}`,
          };
        // A pod's status is its kubelet's word: when the kubelet stopped reporting, "Running" is stale.
        const lease = await leaseAge(ctx, 'kube-node-lease', w.nodeName);
        if (lease.ageS !== undefined && lease.ageS > KUBELET_GONE_S) {
          return {
            host: w.host,
            nodeName: w.nodeName,
            name,
            problem: `pod ${ns}/${name} looks Ready, but node ${w.nodeName}'s kubelet has not renewed its lease for ${lease.ageS} s: the status is stale, nobody runs the pod`,
          };
        }
        // Nor can it be trusted when the lease cannot be read (a 403): unknown, not running.
        if (lease.error) {
          const leaseUnread = `cannot read lease kube-node-lease/${w.nodeName}: ${lease.error}`;
          return {
            host: w.host,
            nodeName: w.nodeName,
            name,
            problem: `pod ${ns}/${name} looks Ready, but ${leaseUnread}: whether node ${w.nodeName}'s kubelet still runs it is unknown`,
            leaseUnread,
          };
        }
        return { host: w.host, nodeName: w.nodeName, name, ip: ready };
      }),
    );
  });
}

/** The pod on every worker: the toolbox (ping, nslookup, nc, wget) in "main", the demo app in
 * "backend" (port 8000). */
function workerPod(host: string, nodeName: string, img: Images): V1Pod {
  return pinnedPod(`probe-${host}`, nodeName, img.toolbox, img.pullPolicy, { app: 'hardway-probe' }, { command: ['sleep', '3600'] }, [
    {
      name: BACKEND_CONTAINER,
      image: img.demoApp,
      imagePullPolicy: img.pullPolicy,
      ports: [{ containerPort: BACKEND_PORT }],
      env: [
        { name: 'POD_NAME', value: `probe-${host}` },
        { name: 'NODE_NAME', value: nodeName },
      ],
      readinessProbe: { httpGet: { path: '/status/', port: BACKEND_PORT }, periodSeconds: 1 },
    },
  ]);
}

/** The toolbox container ready: what the probe's users need (the demo app beside it may still be
 * starting, or broken: that is the backends' users' finding, not theirs). */
const toolboxReady: PodReady = (p) => !!p.status?.containerStatuses?.find((c) => c.name === 'main')?.ready;

/** Every worker's pod, once its toolbox runs. */
export function probePods(ctx: CheckContext): Promise<PodOnWorker[]> {
  return ensurePods(ctx, 'probe-pods', workerPod, toolboxReady, 'worker-pods');
}

/** The demo app on every worker (the pods' "backend" containers), behind the Service "backend"
 * (port 80 -> 8000). */
export async function backends(ctx: CheckContext): Promise<{ pods: PodOnWorker[]; clusterIP: string }> {
  // The Service is created beside its pods, not after them: by the time they run it is seconds old
  // and CoreDNS's watch and kube-proxy have it (a NXDOMAIN for a Service CoreDNS has not seen yet
  // would be cached for the zone's negative TTL).
  const service = ctx.memo('backend-service', async () => {
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    await createIgnoringExisting(() =>
      k.core.createNamespacedService({
        namespace: ns,
        body: {
          metadata: { name: BACKEND_SERVICE, labels: { [OWNER_LABEL]: 'hardway' } },
          spec: { selector: { app: 'hardway-probe' }, ports: [{ port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }] },
        },
      }),
    );
    const svc = await k.core.readNamespacedService({ namespace: ns, name: BACKEND_SERVICE });
    return svc.spec!.clusterIP!;
  });
  service.catch(() => undefined); // awaited below; not an unhandled rejection while the pods start
  // The same pods, once the demo app answers its readiness probe too.
  const pods = await ensurePods(ctx, 'backend-pods', workerPod, podReady, 'worker-pods');
  return { pods, clusterIP: await service };
}

/** Deletes namespaces of this run, and any a dead run left (older than `staleMs`). */
export async function removeWorkspaces(k: Kube, run: string, staleMs = 30 * 60_000): Promise<string[]> {
  const list = await k.core.listNamespace({ labelSelector: `${OWNER_LABEL}=hardway` });
  const now = Date.now();
  const doomed = list.items.filter((n) => {
    if (n.metadata?.labels?.[RUN_LABEL] === run) return true;
    const created = n.metadata?.creationTimestamp ? new Date(n.metadata.creationTimestamp).getTime() : now;
    return now - created > staleMs;
  });
  await Promise.all(
    doomed.map((n) =>
      k.core.deleteNamespace({ name: n.metadata!.name!, propagationPolicy: 'Background' }).catch((e) => {
        if (apiStatus(e) !== 404) throw new Error(`cannot delete namespace ${n.metadata!.name}: ${apiError(e)}`);
      }),
    ),
  );
  return doomed.map((n) => n.metadata!.name!);
}

/**
 * Deletes this run's namespaces (and those a dead run left) when the run could create any. On a
 * cluster hardway did not create, waits until they are really gone (a user must be able to rely
 * on "leaves nothing behind").
 */
export async function removeRunWorkloads(ctx: CheckContext, log: (line: string) => void): Promise<void> {
  if (!ctx.options.active || !ctx.target.live) return;
  try {
    const k = await kube(ctx);
    const removed = await removeWorkspaces(k, ctx.run.id);
    const live = new Set(
      (await k.core.listNamespace({ labelSelector: OWNER_LABEL })).items
        .filter((n) => !removed.includes(n.metadata!.name!))
        .map((n) => n.metadata?.labels?.[RUN_LABEL])
        .filter((r): r is string => !!r),
    );
    const images = await removeImportedImages(ctx, live);
    if (images.length) log(`removed the images this run imported (${images.join(', ')})`);
    if (!ctx.target.ownedByHardway && removed.length) {
      log(`removing this run's test namespace${removed.length > 1 ? 's' : ''} (${removed.join(', ')})`);
      const gone = await poll(
        120_000,
        async () => {
          const left = (await k.core.listNamespace({ labelSelector: OWNER_LABEL })).items.filter((n) =>
            removed.includes(n.metadata!.name!),
          );
          return left.length === 0 ? true : undefined;
        },
        2000,
      );
      if (!gone)
        log(`namespaces ${removed.join(', ')} are still terminating after 120 s; check them with kubectl get ns -l ${OWNER_LABEL}`);
    }
  } catch (e) {
    log(
      `could not remove the run's test namespace: ${apiError(e)}; remove namespaces labelled ${OWNER_LABEL}=hardway by hand (a later hardway verify sweeps them after 30 min)`,
    );
  }
}
