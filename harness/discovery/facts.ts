// What a cluster really runs, read from its hosts: every Kubernetes component found by what its
// service executes (whatever the unit is called), its flags, the files those flags and its
// config files name, and each value's source ("node-1:/etc/systemd/system/kubelet.service
// --config"). Read once per run (discover.ts) and shared by every suite. Facts never hold
// secrets: kubeconfigs are reduced to what they name; keys and tokens are only paths.
import type { CniSelection } from './parse/cni.ts';
import type { ContainerdConfig } from './parse/containerd-config.ts';
import type { Corefile } from './parse/corefile.ts';
import type { Component, FlagSet } from './parse/flags.ts';
import type { FlannelOptions } from './parse/flannel.ts';
import type { KubeProxyEffective } from './parse/kube-proxy-config.ts';
import type { KubeSchedulerEffective } from './parse/kube-scheduler-config.ts';
import type { KubeconfigView } from './parse/kubeconfig.ts';
import type { KubeletEffective } from './parse/kubelet-config.ts';
import type { ParseProblem } from './parse/problem.ts';
import type { InitSystem as InitKind } from '../model/cluster.ts';

export type { Component };

/** How a component uses a file (what the file must be, and who verifies it). */
export type FileRole =
  | 'serving-cert'
  | 'serving-key'
  | 'client-ca'
  | 'peer-cert'
  | 'peer-key'
  | 'peer-ca'
  | 'etcd-ca'
  | 'etcd-client-cert'
  | 'etcd-client-key'
  | 'kubelet-ca'
  | 'kubelet-client-cert'
  | 'kubelet-client-key'
  | 'sa-verify-key'
  | 'sa-signing-key'
  | 'cluster-signing-cert'
  | 'cluster-signing-key'
  | 'root-ca'
  | 'kubeconfig'
  | 'config'
  | 'token-file'
  | 'encryption-config'
  | 'kubeconfig-ca'
  | 'kubeconfig-client-cert'
  | 'kubeconfig-client-key';

export interface FileUse {
  path: string;
  role: FileRole;
  /** Where the path was read: "master:/etc/systemd/system/kube-apiserver.service --tls-cert-file". */
  source: string;
  /** For files inside a kubeconfig's reference: the kubeconfig. */
  via?: string;
}

export interface ServiceState {
  active: string;
  enabled: string;
  restart: string;
}

/** A kubeconfig as its component reads it (current context), without secrets. */
export interface KubeconfigFacts extends KubeconfigView {
  path: string;
  /** The kubeconfig was not there or not readable. */
  missing?: boolean;
}

export interface ComponentFacts {
  kind: Component;
  host: string;
  /** The service's name as its init system knows it ("kubelet", "k8s-kubelet", "etcd"). */
  unit: string;
  /** The unit files (fragment, drop-ins) or the init script and conf.d it was read from. */
  definedIn: string[];
  argv: string[];
  flags: FlagSet;
  /** "<host>:<file> --<flag>": where a flag's value was read. */
  source(flag: string): string;
  state?: ServiceState;
  files: FileUse[];
  /** The component's kubeconfig (--kubeconfig, or the one its config file names). */
  kubeconfig?: KubeconfigFacts;
  kubelet?: KubeletEffective;
  /** The config files as written (fields the effective views do not carry). */
  configRaw?: Record<string, unknown>;
  kubeProxy?: KubeProxyEffective;
  scheduler?: KubeSchedulerEffective;
  flannel?: FlannelOptions;
  corefile?: { path: string; value: Corefile };
  containerd?: { path: string; value: ContainerdConfig };
}

export interface HostFacts {
  host: string;
  init: InitKind | 'unknown';
  /** `hostname` on live hosts; the folder name in a tree. */
  hostname?: string;
  components: ComponentFacts[];
  /** The CNI configuration the runtime uses (first valid file of its conf dir). */
  cni?: CniSelection & { confDir: string };
  /** Files discovery could not read or parse, and why. */
  problems: ParseProblem[];
}

export interface ClusterFacts {
  hosts: HostFacts[];
}

export function componentsOf(f: ClusterFacts, kind: Component): ComponentFacts[] {
  return f.hosts.flatMap((h) => h.components.filter((c) => c.kind === kind));
}

export function componentOn(f: ClusterFacts, host: string, kind: Component): ComponentFacts | undefined {
  return f.hosts.find((h) => h.host === host)?.components.find((c) => c.kind === kind);
}

export function hostFacts(f: ClusterFacts, host: string): HostFacts | undefined {
  return f.hosts.find((h) => h.host === host);
}

/** The pod network in use: flannel where flanneld runs; KTHW's bridge plugin with static routes;
 * another CNI, checked generically (pods reach pods). */
export type PodNetwork = 'flannel' | 'bridge' | 'other' | 'none';

export function podNetworkOf(f: ClusterFacts): PodNetwork {
  if (componentsOf(f, 'flanneld').length) return 'flannel';
  const nets = f.hosts.map((h) => h.cni?.containerd ?? h.cni?.firstValid).filter((n) => !!n);
  if (!nets.length) return 'none';
  if (nets.some((n) => n.types.includes('flannel'))) return 'flannel';
  if (nets.every((n) => n.types[0] === 'bridge')) return 'bridge';
  return 'other';
}
