// `hardway lab up`: the lab's main job, phase by phase (each timed for the benchmark):
// node image + containers, binaries, pod images and rendering in parallel; then the edge host and
// the installer over SSH, until both workers are Ready; then, when the model has an ingress
// section, the HTTPS edge (Pebble on the edge host, cert-manager, the gateway, the app).
import { join } from 'node:path';
import { EDGE_COMPONENTS, ensureBinaries, type BinarySource } from '../../binaries/binaries.ts';
import { CACHE_DIR } from '../../cache.ts';
import { buildPodImages } from '../../images/pod-images.ts';
import { buildEdgeImages } from '../../images/edge-images.ts';
import { installEdge } from '../../edge/install.ts';
import { install } from '../../installer/install.ts';
import type { Cluster } from '../../model/cluster.ts';
import { renderToDir } from '../../render/render.ts';
import { SshSession } from '../../ssh/session.ts';
import { setupEdge } from './edge.ts';
import { setupPebble } from './acme.ts';
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
  const provider = makeProvider(opts.provider ?? 'containers', opts.cluster, opts.configPath);
  const p = opts.progress;
  const t0 = Date.now();
  try {
    // The HTTPS edge (cluster.ingress): cert-manager and the gateway controller are built and
    // packaged while the cluster comes up; awaited (and their failures reported) after the install.
    const edgeImages = opts.cluster.ingress
      ? timed(times, 'edgeImages', async () => buildEdgeImages(await ensureBinaries(opts.binaries, p, EDGE_COMPONENTS), join(CACHE_DIR, 'images'), p))
      : undefined;
    edgeImages?.catch(() => undefined);
    const [[hosts, rendering], binaries, podImages] = await Promise.all([
      // The lab folder is (re)created by provider.up, so the rendering goes in after it.
      timed(times, 'hosts', () => provider.up(p)).then(async (h) =>
        [h, await timed(times, 'render', () => renderToDir(opts.cluster, join(labDir(opts.cluster.name), 'rendered')))] as const),
      timed(times, 'binaries', () => ensureBinaries(opts.binaries, p)),
      timed(times, 'podImages', () => buildPodImages({ cacheDir: join(CACHE_DIR, 'images'), onProgress: p })),
    ]);
    const sessions = new Map<string, SshSession>();
    try {
      await timed(times, 'ssh', async () => {
        for (const h of hosts) sessions.set(h.name, await SshSession.connect(h.ssh));
      });
      const edge = hosts.find((h) => h.role === 'edge')!;
      await timed(times, 'edge', () => setupEdge(opts.cluster, sessions.get('edge')!, edge.address, binaries.get('coredns')!, p));
      const acmeCa = opts.cluster.ingress ? await timed(times, 'acme', () => setupPebble(opts.cluster, sessions.get('edge')!, edge.address, p)) : undefined;
      await timed(times, 'install', () => install({ cluster: opts.cluster, trees: rendering.hosts, sessions, binaries, podImages, progress: p }));
      if (edgeImages) {
        const images = await edgeImages;
        await timed(times, 'https', () => installEdge({ cluster: opts.cluster, sessions, images, ...(acmeCa ? { acmeCaBundle: acmeCa } : {}), progress: p }));
      }
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
