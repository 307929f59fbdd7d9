// The reference installer's second half: puts a rendered tree onto hosts over SSH and starts the
// components in the order the cluster's layout gives (harness/layouts: the seed's, KTHW's),
// waiting for each one's own health signal: masters one after another, then the workers in
// parallel, then the layout's finishing commands (KTHW's pod network routes), until every worker
// is Ready under its node name.
import { basename } from 'node:path';
import { type Cluster, type Host, allHosts } from '../model/cluster.ts';
import type { BinarySet } from '../binaries/binaries.ts';
import type { TreeFile } from '../render/render.ts';
import { layoutFor } from '../layouts/index.ts';
import type { Layout } from '../layouts/layout.ts';
import type { SshSession } from '../ssh/session.ts';
import { UserFacingError } from '../cli/errors.ts';
import { Remote, shq } from './remote.ts';
import { uploadIfChanged } from './upload.ts';

export interface InstallInput {
  cluster: Cluster;
  /** Rendered files per host (from render()). */
  trees: Map<string, TreeFile[]>;
  sessions: Map<string, SshSession>;
  binaries: BinarySet;
  /** OCI tarballs imported into every worker's containerd (where the layout's steps ask). */
  podImages: { name: string; tar: string }[];
  progress: (line: string) => void;
  /** Called when a host's files are copied (host, 'copied'), when a component on a host passed its
   * health signal (host, component), and with ('*', 'nodes-ready') at the end: what runs alongside
   * the install (the HTTPS edge) starts from these. */
  onHealthy?: (host: string, component: string) => void;
}

async function copyTree(r: Remote, files: TreeFile[]): Promise<void> {
  // One stream for the whole tree: a shell script of here-documents would break on binary; base64 is safe.
  const script = files
    .map((f) => {
      const dir = f.path.replace(/\/[^/]*$/, '') || '/';
      const b64 = Buffer.from(f.content).toString('base64');
      return `mkdir -p ${shq(dir)} && echo ${shq(b64)} | base64 -d > ${shq(f.path)}.hardway-tmp && chmod ${f.mode.toString(8)} ${shq(f.path)}.hardway-tmp && mv -f ${shq(f.path)}.hardway-tmp ${shq(f.path)}`;
    })
    .join(' &&\n');
  await r.run('sh -s', { stdin: `set -e\n${script}\n` });
}

/** Waits for a component's own health signal (the layout's: see health.ts and harness/layouts). */
export async function waitHealthy(c: Cluster, r: Remote, component: string, timeoutMs?: number): Promise<void> {
  const h = layoutFor(c).health(c, component);
  await r.waitFor(component, h.signal, h.command, timeoutMs);
}

async function importPodImages(r: Remote, images: InstallInput['podImages']): Promise<void> {
  await Promise.all(
    images.map(async (img) => {
      await uploadIfChanged(r, img.tar, podImagePath(img.tar), 0o644); // already there: a sha256sum
      await r.run(`ctr -n k8s.io images import ${shq(podImagePath(img.tar))} >/dev/null`);
    }),
  );
}

/** One host's installation: the layout's preparation, then its steps in order; a worker's first
 * steps that need no control plane run at once, the rest once `masters` is done. */
async function installHost(
  layout: Layout,
  c: Cluster,
  h: Host,
  r: Remote,
  input: InstallInput,
  masters: Promise<void> = Promise.resolve(),
): Promise<void> {
  const p = (l: string) => input.progress(`${h.host}: ${l}`);
  await r.run(layout.prepare(c, h));
  let early = true;
  for (const step of layout.steps(c, h)) {
    if (early && !step.beforeMasters) {
      early = false;
      await masters;
    }
    if (step.importPodImages) {
      p(`importing ${input.podImages.length} pod images (${input.podImages.map((i) => i.name).join(', ')})`);
      await importPodImages(r, input.podImages);
      continue;
    }
    p(step.say);
    if (step.run) await r.run(step.run);
    for (const s of step.start ?? []) await r.enableStart(s);
    if (step.wait?.length) {
      await Promise.all(
        step.wait.map(async (w) => {
          await waitHealthy(c, r, w, step.waitTimeoutMs);
          input.onHealthy?.(h.host, w);
        }),
      );
    }
  }
}

/** Waits until every worker's node is Ready (kubectl on the master, as the seed checks). */
async function waitNodesReady(
  c: Cluster,
  kubectl: string,
  master: Remote,
  progress: (l: string) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const t0 = Date.now();
  const names = c.workers.map((w) => w.nodeName);
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    const r = await master.ssh.exec(
      `${kubectl} get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'`,
    );
    const ready = new Map(
      r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=') as [string, string]),
    );
    last = names.map((n) => `${n}=${ready.get(n) ?? 'absent'}`).join(', ');
    if (names.every((n) => ready.get(n) === 'True')) {
      progress(`all workers Ready (${names.join(', ')}) after ${Math.round((Date.now() - t0) / 1000)} s`);
      return;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new UserFacingError(
    `workers not Ready within ${timeoutMs / 1000} s (${last}); fix: kubectl describe node <name> on the master, and the kubelet journal (hardway lab logs <worker> kubelet)`,
    1,
  );
}

export async function install(input: InstallInput): Promise<void> {
  const c = input.cluster;
  const layout = layoutFor(c);
  const remotes = new Map(
    allHosts(c).map((h) => {
      const s = input.sessions.get(h.host);
      if (!s) throw new UserFacingError(`${h.host}: no SSH session to install with`);
      return [h.host, new Remote(h.host, s, h.init)] as const;
    }),
  );
  const t0 = Date.now();
  input.progress(`copying rendered files and binaries to ${remotes.size} hosts over SSH`);
  // Each host starts installing as soon as its own files are there: the masters' install overlaps
  // the workers' copies (SSH encryption is the bottleneck of the copies, the waits are idle).
  const copied = new Map(allHosts(c).map((h) => [h.host, copyHost(layout, c, h, remotes.get(h.host)!, input)]));
  const all = Promise.all(copied.values()).then(() => input.progress(`copied in ${Math.round((Date.now() - t0) / 1000)} s`));
  all.catch(() => undefined);
  const masters = (async () => {
    for (const m of c.masters) {
      await copied.get(m.host);
      await installHost(layout, c, m, remotes.get(m.host)!, input);
    }
  })();
  const workers = Promise.all(
    c.workers.map(async (w) => {
      await copied.get(w.host);
      await installHost(layout, c, w, remotes.get(w.host)!, input, masters);
    }),
  );
  // Both to their end (a failing master leaves no worker step running), then the first failure.
  const [m, w] = await Promise.allSettled([masters, workers]);
  for (const r of [m, w]) if (r.status === 'rejected') throw r.reason;
  await all;
  for (const f of layout.finish(c)) {
    input.progress(`${f.host}: ${f.say}`);
    await remotes.get(f.host)!.run(f.run);
  }
  await waitNodesReady(c, layout.kubectl, remotes.get(c.masters[0]!.host)!, input.progress);
  input.onHealthy?.('*', 'nodes-ready');
}

/** A host's rendered tree and its binaries. */
async function copyHost(layout: Layout, c: Cluster, h: Host, r: Remote, input: InstallInput): Promise<void> {
  await copyTree(r, input.trees.get(h.host) ?? []);
  const bins = layout.binaries(c, h);
  const changed = await Promise.all(
    bins.map(async (b) => {
      const local = input.binaries.get(b.binary);
      if (!local) throw new UserFacingError(`binary ${b.binary} is missing from the binary set`);
      return uploadIfChanged(r, local, b.path, 0o755);
    }),
  );
  const n = changed.filter(Boolean).length;
  input.progress(`${h.host}: ${input.trees.get(h.host)?.length ?? 0} files, ${n} binaries copied (${bins.length - n} unchanged)`);
  // Pod images are plain files until containerd runs: sent with the rest, imported in their step.
  if (layout.steps(c, h).some((s) => s.importPodImages))
    await Promise.all(input.podImages.map((img) => uploadIfChanged(r, img.tar, podImagePath(img.tar), 0o644)));
  input.onHealthy?.(h.host, 'copied');
}

const podImagePath = (tar: string) => `/var/lib/hardway/images/${basename(tar)}`;
