// Every place the KTHW lab departs from Kubernetes The Hard Way, and why. File deviations are
// applied when rendering for the lab and left out with `verbatim` (KTHW's files exactly);
// install deviations are what hardway's installer does differently from the chapters' commands.
// docs/lab.md explains each; compare-with-kthw.ts prints the file ones as the differences it finds.
import type { Cluster } from '../../model/cluster.ts';
import type { RenderOptions } from '../layout.ts';

export interface Deviation {
  id: string;
  /** The file (or chapter step) it changes, and how. */
  what: string;
  why: string;
}

export const FILE_DEVIATIONS = {
  serviceClusterIpRange: {
    id: 'apiserver-service-cluster-ip-range',
    what: 'kube-apiserver.service: adds --service-cluster-ip-range=<serviceCIDR> (10.32.0.0/24)',
    why:
      'fixes a KTHW defect that hardway reports as controller-manager.kubernetes-service: without the flag kube-apiserver 1.34 ' +
      'falls back to 10.0.0.0/24 (pkg/controlplane/apiserver/options.ServiceIPRange, kubeoptions.DefaultServiceIPCIDR), so the ' +
      'kubernetes Service gets 10.0.0.1, which kube-api-server.crt (IP 10.32.0.1) does not cover, and pods cannot reach the API over TLS',
  },
  containerdModprobe: {
    id: 'containerd-modprobe-overlay',
    what: "containerd.service.d/10-hardway-lab.conf (a drop-in, the unit is KTHW's): ExecStartPre=-/sbin/modprobe overlay",
    why: 'lab nodes are containers without /lib/modules, so modprobe fails although overlay is built into the kernel; the "-" lets containerd start',
  },
  restrictOomScoreAdj: {
    id: 'containerd-restrict-oom-score-adj',
    what: 'containerd-config.toml: restrict_oom_score_adj = true (model containerd.restrictOomScoreAdj)',
    why: 'lab nodes lack CAP_SYS_RESOURCE: nothing may lower its oom_score_adj, the kubelet asks -998 for every sandbox and runc would fail',
  },
  conntrackMaxPerCore: {
    id: 'kube-proxy-conntrack-max-per-core',
    what: 'kube-proxy-config.yaml: conntrack.maxPerCore: 0 (model kubeProxy.conntrackMaxPerCore)',
    why: 'a container may not write nf_conntrack_max (only the initial network namespace may), and kube-proxy exits when it cannot; 0 leaves it alone',
  },
} satisfies Record<string, Deviation>;

export const INSTALL_DEVIATIONS: Deviation[] = [
  {
    id: 'versions',
    what: 'Kubernetes v1.34.4 (KTHW: v1.32.3), containerd 1.7.24, etcd 3.5.16, runc 1.1.15, CNI plugins 1.1.1 (KTHW: containerd 2.1.0-beta.0, etcd 3.6.0-rc.3, runc 1.3.0-rc.1, CNI plugins 1.6.2); no crictl (KTHW: 1.32.0)',
    why: "the project pins Kubernetes v1.34.4 built from source (harness/binaries); the rest are Debian trixie's packages in the node image, since no release download is reachable; no KTHW step uses crictl",
  },
  {
    id: 'binary-links',
    what: "/usr/local/bin/etcd, /usr/local/bin/etcdctl and /usr/local/bin/runc link to Debian's /usr/bin ones; /bin/containerd is Debian's (merged /usr)",
    why: "KTHW's units name those paths",
  },
  {
    id: 'no-jumpbox',
    what: "chapters 02 and 10 are not done: hardway's machine is the jumpbox and writes neither its /etc/hosts nor ~/.kube/config; kubectl runs on the server with /root/admin.kubeconfig",
    why: 'the lab must not change the machine it runs on',
  },
  {
    id: 'hostnames',
    what: "chapter 03: the container's host name is set by Docker (no hostnamectl); /etc/hosts starts as Debian's (127.0.1.1 <host>) and is edited as chapter 03 does, in place",
    why: 'Docker owns /etc/hostname and /etc/hosts of a container (bind mounts: sed -i cannot replace them)',
  },
  {
    id: 'resolver',
    what: "the nodes' /etc/resolv.conf names the lab's edge host",
    why: "the edge plays the outside world's DNS; no query may leave for the internet",
  },
  {
    id: 'no-apt',
    what: "chapter 09's apt-get install socat conntrack ipset kmod is not run: conntrack and kmod are in the node image, socat and ipset are not",
    why: "no lab traffic may leave for a mirror; containerd 1.7 forwards ports itself and kube-proxy's iptables mode uses no ipset",
  },
  {
    id: 'br-netfilter',
    what: "chapter 09's modprobe br-netfilter may fail; bridge-nf-call-iptables must exist",
    why: "br_netfilter is built into the lab's kernel and the container has no /lib/modules",
  },
  {
    id: 'modes',
    what: "encryption-config.yaml is mode 0600 (chapter 06's envsubst > leaves 0644)",
    why: 'hardway writes no secret world-readable',
  },
  {
    id: 'no-sandbox-image',
    what: "no pod image is imported: containerd's sandbox image stays its default (registry.k8s.io/pause:3.8), which no node has",
    why: "a lab whose nodes never had hardway's images (issue 10): the verifier brings its own",
  },
];

export type ActiveFileDeviations = { [K in keyof typeof FILE_DEVIATIONS]: boolean };

export function activeDeviations(c: Cluster, o: RenderOptions): ActiveFileDeviations {
  const on = !o.verbatim;
  return {
    serviceClusterIpRange: on,
    containerdModprobe: on,
    restrictOomScoreAdj: on && c.containerd.restrictOomScoreAdj,
    conntrackMaxPerCore: on && c.kubeProxy.conntrackMaxPerCore !== undefined,
  };
}
