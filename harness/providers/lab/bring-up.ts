// `hardway lab up`: the lab's main job, phase by phase (each timed for the benchmark):
// node image + containers, binaries, pod images and rendering in parallel; then the edge host and
// the installer over SSH, until both workers are Ready.
import { join } from 'node:path';
import { ensureBinaries, type BinarySource } from '../../binaries/binaries.ts';
import { CACHE_DIR } from '../../cache.ts';
import { buildPodImages } from '../../images/pod-images.ts';
import { install } from '../../installer/install.ts';
import type { Cluster } from '../../model/cluster.ts';
import { renderToDir } from '../../render/render.ts';
import { SshSession } from '../../ssh/session.ts';
import { setupEdge } from './edge.ts';
import { LabProvider, labDir } from './lab.ts';

export interface PhaseTimes {
  [phase: string]: number;
}

export interface LabUpOptions {
  cluster: Cluster;
  configPath: string;
  binaries: BinarySource;
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
  const provider = new LabProvider(opts.cluster, opts.configPath);
  const p = opts.progress;
  const t0 = Date.now();
  try {
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
      await timed(times, 'install', () => install({ cluster: opts.cluster, trees: rendering.hosts, sessions, binaries, podImages, progress: p }));
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
