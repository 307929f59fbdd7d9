// The reference installer's second half: puts a rendered tree onto hosts over SSH and starts the
// components in the seed's order, waiting for each one's own health signal:
//   master: etcd -> (flannel network config into etcd) -> kube-apiserver -> controller-manager, scheduler
//   workers: containerd -> pod images -> flanneld -> kubelet -> kube-proxy -> coredns
// then waits until every worker is Ready under its node name.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { type Cluster, type Host, allHosts } from '../model/cluster.ts';
import { BIN_DIR } from '../model/components.ts';
import type { BinarySet } from '../binaries/binaries.ts';
import { FLANNEL_CONFIG_FILE, type TreeFile } from '../render/render.ts';
import { RBAC_FILE } from '../render/configs.ts';
import type { SshSession } from '../ssh/session.ts';
import { UserFacingError } from '../cli/errors.ts';
import { Remote, shq } from './remote.ts';
import { ETCDCTL, healthSignal } from './health.ts';

export interface InstallInput {
  cluster: Cluster;
  /** Rendered files per host (from render()). */
  trees: Map<string, TreeFile[]>;
  sessions: Map<string, SshSession>;
  binaries: BinarySet;
  /** OCI tarballs imported into every worker's containerd. */
  podImages: { name: string; tar: string }[];
  progress: (line: string) => void;
}

const MASTER_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
const WORKER_BINARIES = ['kubelet', 'kube-proxy', 'coredns', 'flanneld'];

const shaCache = new Map<string, Promise<string>>();
function localSha(path: string): Promise<string> {
  if (!shaCache.has(path)) {
    shaCache.set(path, new Promise((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
    }));
  }
  return shaCache.get(path)!;
}

/** Copies a local file unless the host already has identical content (re-installs are quick). */
async function uploadIfChanged(r: Remote, local: string, remote: string, mode: number): Promise<boolean> {
  const [want, have] = await Promise.all([localSha(local), r.ssh.exec(`sha256sum ${shq(remote)} 2>/dev/null`)]);
  if (have.code === 0 && have.stdout.startsWith(want)) return false;
  await r.ssh.upload(local, remote, mode);
  return true;
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

/** Waits for a component's own health signal (see health.ts). */
export async function waitHealthy(c: Cluster, r: Remote, component: string, timeoutMs?: number): Promise<void> {
  const h = healthSignal(c, component);
  await r.waitFor(component, h.signal, h.command, timeoutMs);
}

async function installMaster(c: Cluster, m: Host, r: Remote, input: InstallInput): Promise<void> {
  const p = (l: string) => input.progress(`${m.host}: ${l}`);
  await r.run(`systemctl daemon-reload 2>/dev/null || true; mkdir -p /var/lib/etcd && chmod 700 /var/lib/etcd`);
  p('starting etcd');
  await r.enableStart('etcd');
  await waitHealthy(c, r, 'etcd');
  p(`writing flannel's network config to etcd (${c.flannel.etcdPrefix}/config)`);
  await r.run(`${ETCDCTL} put ${shq(`${c.flannel.etcdPrefix}/config`)} "$(cat ${FLANNEL_CONFIG_FILE})" >/dev/null`);
  p('starting kube-apiserver');
  await r.enableStart('kube-apiserver');
  await waitHealthy(c, r, 'kube-apiserver', 120_000);
  p('starting kube-controller-manager and kube-scheduler');
  await r.enableStart('kube-controller-manager');
  await r.enableStart('kube-scheduler');
  await Promise.all([waitHealthy(c, r, 'kube-controller-manager'), waitHealthy(c, r, 'kube-scheduler')]);
  p('applying kubelet and CoreDNS RBAC');
  await r.run(`kubectl apply -f ${RBAC_FILE} >/dev/null`);
}

async function installWorker(c: Cluster, w: Host, r: Remote, input: InstallInput): Promise<void> {
  const p = (l: string) => input.progress(`${w.host}: ${l}`);
  await r.run(`sysctl -q -p /etc/sysctl.d/99-kubernetes.conf && systemctl daemon-reload 2>/dev/null || true`);
  p('starting containerd');
  await r.enableStart('containerd');
  await waitHealthy(c, r, 'containerd');
  p(`importing ${input.podImages.length} pod images (${input.podImages.map((i) => i.name).join(', ')})`);
  for (const img of input.podImages) {
    const remote = `/var/lib/hardway/images/${basename(img.tar)}`;
    await uploadIfChanged(r, img.tar, remote, 0o644);
    await r.run(`ctr -n k8s.io images import ${shq(remote)} >/dev/null`);
  }
  p('starting flanneld');
  await r.enableStart('flanneld');
  await waitHealthy(c, r, 'flanneld');
  p('starting kubelet');
  await r.enableStart('kubelet');
  await waitHealthy(c, r, 'kubelet');
  p('starting kube-proxy');
  await r.enableStart('kube-proxy');
  await waitHealthy(c, r, 'kube-proxy');
  p('starting coredns');
  await r.enableStart('coredns');
  await waitHealthy(c, r, 'coredns');
}

/** Waits until every worker's node is Ready (kubectl on the master, as the seed checks). */
async function waitNodesReady(c: Cluster, master: Remote, progress: (l: string) => void, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  const names = c.workers.map((w) => w.nodeName);
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    const r = await master.ssh.exec(`kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'`);
    const ready = new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('=') as [string, string]));
    last = names.map((n) => `${n}=${ready.get(n) ?? 'absent'}`).join(', ');
    if (names.every((n) => ready.get(n) === 'True')) {
      progress(`all workers Ready (${names.join(', ')}) after ${Math.round((Date.now() - t0) / 1000)} s`);
      return;
    }
    await new Promise((res) => setTimeout(res, 2000));
  }
  throw new UserFacingError(`workers not Ready within ${timeoutMs / 1000} s (${last}); fix: kubectl describe node <name> on the master, and the kubelet journal (hardway lab logs <worker> kubelet)`, 1);
}

export async function install(input: InstallInput): Promise<void> {
  const c = input.cluster;
  const remotes = new Map(allHosts(c).map((h) => {
    const s = input.sessions.get(h.host);
    if (!s) throw new UserFacingError(`${h.host}: no SSH session to install with`);
    return [h.host, new Remote(h.host, s, h.init)] as const;
  }));
  const t0 = Date.now();
  input.progress(`copying rendered files and binaries to ${remotes.size} hosts over SSH`);
  await Promise.all(allHosts(c).map(async (h) => {
    const r = remotes.get(h.host)!;
    await copyTree(r, input.trees.get(h.host) ?? []);
    const bins = h.role === 'master' ? MASTER_BINARIES : WORKER_BINARIES;
    let copied = 0;
    for (const b of bins) {
      const local = input.binaries.get(b);
      if (!local) throw new UserFacingError(`binary ${b} is missing from the binary set`);
      if (await uploadIfChanged(r, local, `${BIN_DIR}/${b}`, 0o755)) copied++;
    }
    if (h.role === 'worker') {
      if (await uploadIfChanged(r, input.binaries.get('flannel')!, `${c.cniBinDir}/flannel`, 0o755)) copied++;
    }
    input.progress(`${h.host}: ${input.trees.get(h.host)?.length ?? 0} files, ${copied} binaries copied (${bins.length + (h.role === 'worker' ? 1 : 0) - copied} unchanged)`);
  }));
  input.progress(`copied in ${Math.round((Date.now() - t0) / 1000)} s`);
  for (const m of c.masters) await installMaster(c, m, remotes.get(m.host)!, input);
  await Promise.all(c.workers.map((w) => installWorker(c, w, remotes.get(w.host)!, input)));
  await waitNodesReady(c, remotes.get(c.masters[0]!.host)!, input.progress);
}
