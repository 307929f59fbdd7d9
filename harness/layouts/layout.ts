// A layout is how a hand-built cluster is laid out on its hosts: which certificates go where, every
// file each host gets (units, configs, kubeconfigs), where binaries go, and the order the
// installer starts things in. The renderer (harness/render/render.ts) and the installer
// (harness/installer/install.ts) are shared and drive whichever layout the model names:
// seed (the seed article's, the default) or kthw (Kubernetes The Hard Way's chapters).
import type { Cluster, Host, LayoutName } from '../model/cluster.ts';
import type { CertPlan } from '../pki/plan.ts';
import type { Pki } from '../pki/issue.ts';
import type { TreeFile } from '../render/render.ts';
import type { HealthSignal } from '../installer/health.ts';

/** Secrets besides the PKI, kept in OUT/_pki and reused by the next render. */
export interface LayoutSecrets {
  /** The seed's static debugging token (token.csv). */
  token?: string;
  /** KTHW's data encryption key (chapter 06, encryption-config.yaml). */
  encryptionKey?: string;
}

export interface RenderOptions {
  /** kthw: the files exactly as KTHW has them, without the lab's documented deviations. */
  verbatim?: boolean;
}

export interface HostFilesInput {
  cluster: Cluster;
  host: Host;
  plan: CertPlan;
  pki: Pki;
  secrets: LayoutSecrets;
  options: RenderOptions;
}

/** A binary of the binary set (harness/binaries) and where it goes on the host. */
export interface BinaryPlacement {
  binary: string;
  path: string;
}

/** One step of a host's installation, in order. */
export interface InstallStep {
  say: string;
  /** A shell command that must succeed. */
  run?: string;
  /** Services enabled and started, in this order. */
  start?: string[];
  /** Components whose own health signal is awaited (together) after `start`. */
  wait?: string[];
  waitTimeoutMs?: number;
  /** Imports the pod images the installer was given into containerd. */
  importPodImages?: boolean;
  /** A worker's step that needs nothing of the control plane (containerd, images): it may run while
   * the masters are being installed. A worker's steps up to its first one without it do. */
  beforeMasters?: boolean;
}

export interface HostCommand {
  host: string;
  say: string;
  run: string;
}

export interface Layout {
  readonly name: LayoutName;
  /** Which certificates the cluster has and where each one lives. */
  certPlan(c: Cluster): CertPlan;
  /** Generates what `previous` (an earlier rendering's) lacks. */
  secrets(c: Cluster, previous: LayoutSecrets): LayoutSecrets;
  /** Every file of one host, in the order the installer writes them. */
  hostFiles(input: HostFilesInput): TreeFile[];
  /** Binary components (harness/binaries/manifest.ts names) the cluster's hosts need. */
  readonly components: readonly string[];
  binaries(c: Cluster, h: Host): BinaryPlacement[];
  /** Shell run on a host once its files and binaries are in place. */
  prepare(c: Cluster, h: Host): string;
  /** The host's installation, in order (masters one after another, then workers in parallel). */
  steps(c: Cluster, h: Host): InstallStep[];
  /** Commands after every worker is installed (KTHW's chapter 11 routes). */
  finish(c: Cluster): HostCommand[];
  /** kubectl with the admin's credentials on the first master. */
  readonly kubectl: string;
  /** A component's own health signal on its host (the installer and fault repairs wait on it). */
  health(c: Cluster, component: string): HealthSignal;
  /** What a lab host must provide for this layout. */
  readonly lab: {
    /** Import hardway's pod images into every worker's containerd. */
    podImages: boolean;
    /** The hosts resolve names through the lab's edge (the outside world's DNS) rather than Docker's. */
    edgeResolver: boolean;
    /** /etc/hosts starts as on a Debian machine (127.0.1.1 <host>), which KTHW's chapter 03 edits. */
    debianHosts: boolean;
  };
}
