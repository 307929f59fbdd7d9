// `hardway lab up`: the lab's main job, phase by phase (each timed for the benchmark):
// node image + containers, binaries, pod images and rendering in parallel; then, at once, the edge
// host (lab DNS, Pebble), the installer over SSH until every worker is Ready, and, when the model
// has an ingress section, the HTTPS edge (cert-manager, the gateway, the app), whose steps each
// wait for the part of the cluster they need (images as each worker's containerd runs, CRDs once
// the apiserver answers, workloads once the nodes are Ready).
import { join } from 'node:path';
import { CLUSTER_COMPONENTS, EDGE_COMPONENTS, ensureBinaries, type BinarySource } from '../../binaries/binaries.ts';
import { CACHE_DIR } from '../../cache.ts';
import { buildPodImages } from '../../images/pod-images.ts';
import { buildEdgeImages } from '../../images/edge-images.ts';
import { installEdge } from '../../edge/install.ts';
import { install } from '../../installer/install.ts';
import type { Cluster } from '../../model/cluster.ts';
import { layoutFor } from '../../layouts/index.ts';
import { renderToDir } from '../../render/render.ts';
import { SshSession } from '../../ssh/session.ts';
import { setupEdge } from './edge.ts';
import { setupPebble } from './acme.ts';
import { InstallReadiness } from './readiness.ts';
import { labDir } from './lab.ts';
import { type ProviderKind, makeProvider } from '../index.ts';

export interface PhaseTimes {
  [phase: string]: number;
}

export interface LabUpOptions {
  cluster: Cluster;
  configPath: string;
  binaries: BinarySource;
  /** Who makes the hosts: containers (default) or Vagrant VMs. */
  provider?: ProviderKind;
  /** `cluster` as YAML when it differs from the file at configPath (lab up --workers). */
  modelYaml?: string;
  progress: (line: string) => void;
}

async function timed<T>(times: PhaseTimes, phase: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    times[phase] = Date.now() - t0;
  }
}

export async function labUp(opts: LabUpOptions): Promise<PhaseTimes> {
  const times: PhaseTimes = {};
  const provider = makeProvider(
    opts.provider ?? 'containers',
    opts.cluster,
    opts.configPath,
    opts.modelYaml !== undefined ? { modelYaml: opts.modelYaml } : {},
  );
  const p = opts.progress;
  const layout = layoutFor(opts.cluster);
  const t0 = Date.now();
  try {
    // The HTTPS edge (cluster.ingress): cert-manager and the gateway controller are built and
    // packaged while the cluster comes up; awaited (and their failures reported) after the install.
    const edgeImages = opts.cluster.ingress
      ? timed(times, 'edgeImages', async () =>
          buildEdgeImages(await ensureBinaries(opts.binaries, p, EDGE_COMPONENTS), join(CACHE_DIR, 'images'), p),
        )
      : undefined;
    edgeImages?.catch(() => undefined);
    const [[hosts, rendering], binaries, podImages] = await Promise.all([
      // The lab folder is (re)created by provider.up, so the rendering goes in after it.
      timed(times, 'hosts', () => provider.up(p)).then(
        async (h) =>
          [h, await timed(times, 'render', () => renderToDir(opts.cluster, join(labDir(opts.cluster.name), 'rendered')))] as const,
      ),
      timed(times, 'binaries', () =>
        ensureBinaries(
          opts.binaries,
          p,
          CLUSTER_COMPONENTS.filter((x) => layout.components.includes(x.name)),
        ),
      ),
      // A layout without hardway's pod images (kthw) leaves its nodes without them.
      layout.lab.podImages
        ? timed(times, 'podImages', () => buildPodImages({ cacheDir: join(CACHE_DIR, 'images'), onProgress: p }))
        : Promise.resolve([]),
    ]);
    const sessions = new Map<string, SshSession>();
    try {
      await timed(times, 'ssh', async () => {
        await Promise.all(hosts.map(async (h) => sessions.set(h.name, await SshSession.connect(h.ssh))));
      });
      const edge = hosts.find((h) => h.role === 'edge')!;
      const outside = timed(times, 'edge', async () => {
        await setupEdge(opts.cluster, sessions.get('edge')!, edge.address, binaries.get('coredns')!, p);
        return opts.cluster.ingress ? setupPebble(opts.cluster, sessions.get('edge')!, edge.address, p) : undefined;
      });
      const readiness = new InstallReadiness(opts.cluster);
      let installed = 0;
      const cluster = timed(times, 'install', () =>
        install({
          cluster: opts.cluster,
          trees: rendering.hosts,
          sessions,
          binaries,
          podImages,
          progress: p,
          onHealthy: readiness.healthy,
        }),
      ).then(
        () => void (installed = Date.now()),
        (e: unknown) => {
          readiness.fail(e);
          throw e;
        },
      );
      const https = edgeImages
        ? (async () => {
            const [acmeCa, images] = await Promise.all([outside, edgeImages]);
            const t = Date.now();
            await installEdge({
              cluster: opts.cluster,
              sessions,
              images,
              ...(acmeCa ? { acmeCaBundle: acmeCa } : {}),
              progress: p,
              after: readiness,
            });
            // What the edge adds after the cluster is up (it started with the install).
            times.https = Date.now() - Math.max(t, installed);
          })()
        : outside.then(() => undefined);
      // Everything runs to its end before a failure is reported: nothing keeps working on a removed lab.
      const results = await Promise.allSettled([cluster, https]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    } finally {
      for (const s of sessions.values()) s.close();
    }
  } catch (e) {
    p('lab up failed: removing the lab (keep nothing half-made)');
    await provider.down(() => undefined).catch(() => undefined);
    throw e;
  }
  times.total = Date.now() - t0;
  return times;
}
