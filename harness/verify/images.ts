// The images test workloads run from. hardway brings its own small images (toolbox, demo app, and
// the sandbox image when the runtime lacks the one it is configured with) to every worker over SSH
// and imports them into containerd, so that air-gapped clusters and clusters that never saw
// hardway can run its probes. Every image it imports carries the labels below, so that the end of
// the run (also on failure and Ctrl-C) removes exactly those, and the next run sweeps what a dead
// run left. Images the cluster already has (the lab's) are used as they are and never removed.
// An inventory may name images the cluster can pull instead (`images:`); then nothing is imported.
import { basename, join } from 'node:path';
import { CACHE_DIR } from '../cache.ts';
import { DEMO_APP_IMAGE, PAUSE_IMAGE, TOOLBOX_IMAGE, buildPodImages } from '../images/pod-images.ts';
import type { CheckContext } from './check.ts';

export const IMAGE_OWNER_LABEL = 'io.hardway.owner';
export const IMAGE_RUN_LABEL = 'io.hardway.run';
const CTR = 'ctr -n k8s.io';
const IMPORT_DIR = '/var/lib/hardway/import';

export interface WorkloadImages {
  toolbox: string;
  demoApp: string;
  pullPolicy: 'Never' | 'IfNotPresent';
  /** Per worker: why its pods cannot get their images, when they cannot. */
  problems: Map<string, string>;
}

/** The CRI sandbox image containerd is configured with (v2 `sandbox_image`, v3 `sandbox`). */
export function sandboxImageOf(configDump: string): string | undefined {
  return /^\s*sandbox(?:_image)?\s*=\s*["']([^"']+)["']/m.exec(configDump)?.[1];
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Brings the images to every worker (once per run); `problems` names workers where it could not. */
export function workloadImages(ctx: CheckContext): Promise<WorkloadImages> {
  return ctx.memo('workload-images', async () => {
    const given = ctx.target.images;
    if (given) return { toolbox: given.toolbox, demoApp: given.demoApp, pullPolicy: 'IfNotPresent', problems: new Map() };
    const problems = new Map<string, string>();
    let tars: Map<string, string> | undefined;
    const localTars = async () => {
      tars ??= new Map(
        (await buildPodImages({ cacheDir: join(CACHE_DIR, 'images'), onProgress: () => undefined })).map((i) => [i.name, i.tar]),
      );
      return tars;
    };
    await Promise.all(
      ctx.cluster.workers.map(async (w) => {
        const h = ctx.host(w.host).access;
        try {
          const state = await h.exec!(
            `command -v ctr >/dev/null || exit 44; ${CTR} images ls -q; echo ---; containerd config dump 2>/dev/null`,
            { timeoutMs: 30_000 },
          );
          if (state.code === 44) {
            problems.set(
              w.host,
              `no containerd client (ctr) on ${w.host}: hardway cannot bring its images there; fix: name images the cluster can pull under images: in the inventory`,
            );
            return;
          }
          const [list = '', dump = ''] = state.stdout.split('---\n');
          const have = new Set(
            list
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean),
          );
          const sandbox = sandboxImageOf(dump);
          const wanted = [TOOLBOX_IMAGE, DEMO_APP_IMAGE].filter((i) => !have.has(i));
          const needSandbox = sandbox && !have.has(sandbox);
          if (needSandbox && !have.has(PAUSE_IMAGE)) wanted.push(PAUSE_IMAGE);
          if (!wanted.length && !needSandbox) return;
          const t = await localTars();
          const labels = `${IMAGE_OWNER_LABEL}=hardway ${IMAGE_RUN_LABEL}=${ctx.run.id}`;
          const steps: string[] = [];
          const uploaded: string[] = [];
          for (const img of wanted) {
            const remote = `${IMPORT_DIR}/${basename(t.get(img)!)}`;
            uploaded.push(remote);
            await h.upload!(t.get(img)!, remote, 0o644);
            steps.push(
              `${CTR} images import ${shq(remote)} >/dev/null && rm -f ${shq(remote)} && ${CTR} images label ${shq(img)} ${labels} >/dev/null`,
            );
          }
          // The runtime's own sandbox image name, pointing at hardway's pause program.
          if (needSandbox)
            steps.push(
              `${CTR} images tag --force ${PAUSE_IMAGE} ${shq(sandbox)} >/dev/null && ${CTR} images label ${shq(sandbox)} ${labels} >/dev/null`,
            );
          // The tars go whether the import works or not.
          const trap = uploaded.length ? `trap "rm -f ${uploaded.map(shq).join(' ')}" EXIT; ` : '';
          const r = await h.exec!(`${trap}set -e; ${steps.join('; ')}`, { timeoutMs: 120_000 });
          if (r.code !== 0)
            problems.set(
              w.host,
              `importing hardway's images into containerd on ${w.host} failed: ${r.stderr.trim().split('\n').pop()?.slice(0, 200)}`,
            );
        } catch (e) {
          problems.set(w.host, `bringing hardway's images to ${w.host} failed: ${(e as Error).message.split('\n')[0]}`);
        }
      }),
    );
    return { toolbox: TOOLBOX_IMAGE, demoApp: DEMO_APP_IMAGE, pullPolicy: 'Never', problems };
  });
}

/**
 * Removes the images hardway imported: this run's, and those of runs that are over (their test
 * namespace is gone). `liveRuns` are the runs whose namespaces still exist.
 */
export async function removeImportedImages(ctx: CheckContext, liveRuns: Set<string>): Promise<string[]> {
  const removed: string[] = [];
  await Promise.all(
    ctx.cluster.workers.map(async (w) => {
      const h = ctx.host(w.host).access;
      // One line per image: reference and its run label.
      const r = await h.exec!(
        `command -v ctr >/dev/null || exit 0; ${CTR} images ls 'labels."${IMAGE_OWNER_LABEL}"==hardway' 2>/dev/null | awk 'NR>1 {print $1, $NF}'`,
        { timeoutMs: 30_000 },
      ).catch(() => undefined);
      const doomed = (r?.stdout ?? '')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((x) => x[0])
        .filter(([, labels = '']) => {
          const run = new RegExp(`${IMAGE_RUN_LABEL.replace(/\./g, '\\.')}=([^,\\s]+)`).exec(labels)?.[1];
          return run === ctx.run.id || !run || !liveRuns.has(run);
        })
        .map(([ref]) => ref!);
      if (!doomed.length) return;
      await h.exec!(`${CTR} images rm ${doomed.map(shq).join(' ')} >/dev/null`, { timeoutMs: 60_000 }).catch(() => undefined);
      removed.push(...doomed.map((d) => `${w.host}:${d}`));
    }),
  );
  return removed;
}
