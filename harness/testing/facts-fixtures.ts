// Two clusters' files for offline tests of the suites, read into facts the way discovery reads a
// tree: the seed lab as recorded (fixtures/recorded: its units and configs; node-2 is node-1's with
// its name and address; kubeconfigs are synthetic, none was recorded) and a KTHW-style cluster
// from harness/layouts/kthw (its units and configs, verbatim or with the lab's deviations).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { factsFromFiles, filesOfSystemctlCat } from '../discovery/from-files.ts';
import type { ClusterFacts } from '../discovery/facts.ts';
import { bridgeConf, kubeProxyConfig, kubeletConfig, loopbackConf, schedulerConfig } from '../layouts/kthw/configs.ts';
import * as K from '../layouts/kthw/paths.ts';
import {
  apiserverUnit,
  containerdUnit,
  controllerManagerUnit,
  etcdUnit,
  kubeProxyUnit,
  kubeletUnit,
  renderUnit,
  schedulerUnit,
} from '../layouts/kthw/units.ts';
import type { Cluster } from '../model/cluster.ts';
import { loadCluster } from '../model/load.ts';
import { kubeconfig } from '../render/kubeconfig.ts';
import type { ExecResult, HostAccess, Target } from '../targets/target.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const recorded = (p: string) => readFileSync(resolve(ROOT, 'fixtures/recorded', p), 'utf8');
const cat = (unit: string, host: string) => filesOfSystemctlCat(recorded(`systemd/cat-${unit}.${host}.txt`));

/** Not a real certificate: what trust selection and CA reads need (a PEM certificate block). */
export const FAKE_CA_PEM = '-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n';

/** A kubeconfig as the layouts write them (CA embedded; the client's key is a placeholder). */
export function testKubeconfig(server: string, user: string, caPem = FAKE_CA_PEM): string {
  return kubeconfig({ clusterName: 'test', server, caPem, user, certPem: FAKE_CA_PEM, keyPem: 'placeholder' });
}

export type HostFiles = Record<string, Record<string, string>>;

export const seedCluster = (): Cluster => loadCluster(resolve(ROOT, 'fixtures/lab/cluster.yaml'));
export const kthwCluster = (): Cluster => loadCluster(resolve(ROOT, 'fixtures/lab-kthw/cluster.yaml'));

/** The seed lab's master, node-1 and node-2. */
export function seedFiles(): HostFiles {
  const api = 'https://10.240.0.10:6443';
  const master = {
    ...cat('etcd', 'master'),
    ...cat('kube-apiserver', 'master'),
    ...cat('kube-controller-manager', 'master'),
    ...cat('kube-scheduler', 'master'),
    '/var/lib/kubernetes/kube-scheduler/kube-scheduler.yaml': recorded('config/kube-scheduler.master.yaml'),
    '/var/lib/kubernetes/kube-controller-manager.kubeconfig': testKubeconfig(api, 'system:kube-controller-manager'),
    '/var/lib/kubernetes/kube-scheduler/kube-scheduler.kubeconfig': testKubeconfig(api, 'system:kube-scheduler'),
    '/var/lib/kubernetes/token.csv': 'seed-debug-token,admin,admin,"system:masters"\n',
  };
  const node1 = {
    ...cat('kubelet', 'node-1'),
    ...cat('kube-proxy', 'node-1'),
    ...cat('flanneld', 'node-1'),
    ...cat('containerd', 'node-1'),
    '/var/lib/kubernetes/kubelet/kubelet-config.yaml': recorded('config/kubelet-config.node-1.yaml'),
    '/var/lib/kubernetes/kube-proxy/kube-proxy-config.yaml': recorded('config/kube-proxy-config.node-1.yaml'),
    '/var/lib/kubernetes/kubelet/node-1.kubeconfig': testKubeconfig(api, 'system:node:node-1'),
    '/var/lib/kubernetes/kube-proxy/kube-proxy.kubeconfig': testKubeconfig(api, 'system:kube-proxy'),
    '/etc/containerd/config.toml': recorded('containerd/config.toml.node-1'),
    '/etc/cni/net.d/10-flannel.conflist': recorded('cni/10-flannel.conflist.node-1'),
  };
  const as2 = (t: string) => t.replace(/node-1/g, 'node-2').replace(/10\.240\.0\.21/g, '10.240.0.22');
  const node2 = Object.fromEntries(Object.entries(node1).map(([p, t]) => [p.replace('node-1', 'node-2'), as2(t)]));
  return { master, 'node-1': node1, 'node-2': node2 };
}

/** A KTHW cluster (server, node-0, node-1) as its chapters lay it out; `deviations` adds the lab's
 * --service-cluster-ip-range to kube-apiserver (verbatim KTHW has none). */
export function kthwFiles(opts: { deviations?: boolean } = {}): HostFiles {
  const c = kthwCluster();
  const unit = (u: { name: string } & Parameters<typeof renderUnit>[0]) => ({ [K.unitPath(u.name)]: renderUnit(u) });
  const api = 'https://server.kubernetes.local:6443';
  const server = {
    ...unit(etcdUnit()),
    ...unit(apiserverUnit(c, { apiserverServiceRange: !!opts.deviations })),
    ...unit(controllerManagerUnit(c)),
    ...unit(schedulerUnit()),
    [K.SCHEDULER_CONFIG]: schedulerConfig(),
    [K.KCM_KUBECONFIG]: testKubeconfig(api, 'system:kube-controller-manager'),
    [K.SCHEDULER_KUBECONFIG]: testKubeconfig(api, 'system:kube-scheduler'),
    [K.ADMIN_KUBECONFIG]: testKubeconfig('https://127.0.0.1:6443', 'admin'),
  };
  const worker = (name: string) => ({
    ...unit(kubeletUnit()),
    ...unit(kubeProxyUnit()),
    ...unit(containerdUnit()),
    [K.KUBELET_CONFIG]: kubeletConfig(),
    [K.KUBELET_KUBECONFIG]: testKubeconfig(api, `system:node:${name}`),
    [K.KUBE_PROXY_CONFIG]: kubeProxyConfig(c),
    [K.KUBE_PROXY_KUBECONFIG]: testKubeconfig(api, 'system:kube-proxy'),
    [K.BRIDGE_CONF]: bridgeConf(c.workers.find((w) => w.host === name)!),
    [K.LOOPBACK_CONF]: loopbackConf(),
  });
  return { server, 'node-0': worker('node-0'), 'node-1': worker('node-1') };
}

export const seedFacts = (): Promise<ClusterFacts> => factsFromFiles(seedFiles());
export const kthwFacts = (opts: { deviations?: boolean } = {}): Promise<ClusterFacts> => factsFromFiles(kthwFiles(opts));

/** The files with some replaced or added (a changed unit, a missing config). */
export function withFiles(files: HostFiles, host: string, change: (f: Record<string, string>) => Record<string, string>): HostFiles {
  return { ...files, [host]: change({ ...files[host] }) };
}

export interface ExecCall {
  host: string;
  cmd: string;
}

/**
 * A live target over these files: readFile answers from them, exec from `answer` (exit 0 and no
 * output when it gives nothing back); every command is kept in `calls`.
 */
export function liveTarget(
  cluster: Cluster,
  files: HostFiles,
  answer: (host: string, cmd: string) => Partial<ExecResult> | undefined,
  extra: Partial<Target> = {},
): Target & { calls: ExecCall[] } {
  const calls: ExecCall[] = [];
  const host = (name: string): HostAccess => ({
    host: name,
    readFile: async (p) => files[name]?.[p],
    listFiles: async () => [],
    exec: async (cmd) => {
      calls.push({ host: name, cmd });
      return { code: 0, stdout: '', stderr: '', ...answer(name, cmd) };
    },
  });
  const close = async () => undefined;
  return { name: 'test', cluster, modelGiven: true, live: true, ownedByHardway: false, host, close, calls, ...extra };
}
