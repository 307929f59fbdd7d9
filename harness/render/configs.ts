// Component configuration files, one function per file, following the seed (and Kubernetes The
// Hard Way where the seed defers to it), updated for the pinned Kubernetes release.
import { stringify } from 'yaml';
import { type Cluster, type Host, clusterDnsAddresses } from '../model/cluster.ts';
import { HEALTH } from '../model/components.ts';
import { PAUSE_IMAGE } from '../images/pod-images.ts';
import { CA_CERT, COREDNS_KUBECONFIG, K8S_DIR, KUBE_PROXY_KUBECONFIG, SCHEDULER_KUBECONFIG, kubeletCert, kubeletKey } from '../pki/plan.ts';

/** kubelet and containerd must agree on the cgroup driver, and only systemd hosts have systemd. */
export function cgroupDriverOf(h: Host): 'systemd' | 'cgroupfs' {
  return h.init === 'openrc' ? 'cgroupfs' : 'systemd';
}

export function kubeletConfig(c: Cluster, w: Host): string {
  return stringify({
    kind: 'KubeletConfiguration',
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: CA_CERT },
    },
    authorization: { mode: 'Webhook' },
    // The systemd cgroup driver needs systemd as PID 1: an OpenRC host (the seed's node-2) uses cgroupfs.
    cgroupDriver: cgroupDriverOf(w),
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    clusterDomain: c.clusterDomain,
    // CoreDNS runs as a host service on every worker: pods get all of them as name servers.
    clusterDNS: clusterDnsAddresses(c),
    healthzBindAddress: '127.0.0.1',
    healthzPort: HEALTH.kubeletHealthzPort,
    resolvConf: '/etc/resolv.conf',
    runtimeRequestTimeout: '15m',
    tlsCertFile: kubeletCert(w),
    tlsPrivateKeyFile: kubeletKey(w),
    failSwapOn: false,
    // Kubernetes 1.34 still runs on cgroup v1 hosts (many VPS kernels); say so explicitly.
    failCgroupV1: false,
    ...(c.kubelet.systemReserved ? { systemReserved: c.kubelet.systemReserved } : {}),
  });
}

export function kubeProxyConfig(c: Cluster, w: Host): string {
  return stringify({
    kind: 'KubeProxyConfiguration',
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    clientConnection: { kubeconfig: KUBE_PROXY_KUBECONFIG },
    mode: 'iptables',
    clusterCIDR: c.podCIDR,
    hostnameOverride: w.nodeName,
    healthzBindAddress: `0.0.0.0:${HEALTH.kubeProxyHealthzPort}`,
    metricsBindAddress: '127.0.0.1:10249',
    ...(c.kubeProxy.conntrackMaxPerCore !== undefined ? { conntrack: { maxPerCore: c.kubeProxy.conntrackMaxPerCore } } : {}),
  });
}

export function schedulerConfig(): string {
  return stringify({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: SCHEDULER_KUBECONFIG },
    leaderElection: { leaderElect: true },
  });
}

export function corefile(c: Cluster): string {
  const upstreams = c.dns.upstreams.join(' ');
  return `.:53 {
    errors
    log
    health 127.0.0.1:${HEALTH.corednsHealthPort}
    ready 127.0.0.1:${HEALTH.corednsReadyPort}
    kubernetes ${c.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${COREDNS_KUBECONFIG} default
        pods verified
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . ${upstreams}
    cache 30
    loop
    reload
}
`;
}

/** flannel's network config, stored in etcd under <prefix>/config. */
export function flannelNetworkConfig(c: Cluster): string {
  const backend = c.flannel.backend === 'vxlan' ? { Type: 'vxlan', VNI: c.flannel.vni, Port: c.flannel.port } : { Type: 'host-gw' };
  return JSON.stringify({ Network: c.podCIDR, SubnetLen: c.podSubnetLength, Backend: backend });
}

export function containerdConfig(c: Cluster, w?: Host): string {
  return `version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # The seed: leave TLS streaming off, or kubectl exec fails on an unknown certificate authority.
  enable_tls_streaming = false
  restrict_oom_score_adj = ${c.containerd.restrictOomScoreAdj}

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = ${w ? cgroupDriverOf(w) === 'systemd' : true}

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${c.cniBinDir}"
    conf_dir = "/etc/cni/net.d"
`;
}

export function flannelConflist(): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.3.1',
      name: 'cbr0',
      plugins: [
        { type: 'flannel', name: 'kubenet', delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: 'portmap', capabilities: { portMappings: true }, externalSetMarkChain: 'KUBE-MARK-MASQ' },
      ],
    },
    null,
    2,
  )}\n`;
}

export function loopbackConf(): string {
  return `${JSON.stringify({ cniVersion: '0.3.1', name: 'lo', type: 'loopback' }, null, 2)}\n`;
}

export function crictlConfig(): string {
  return 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 10\n';
}

/** Kernel settings a worker needs: forwarding for pod traffic, bridged traffic through iptables. */
export function workerSysctl(): string {
  return 'net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n';
}

/** The seed's static debugging token for curl against the apiserver (token,user,uid,"groups"). */
export function tokenCsv(token: string): string {
  return `${token},admin,admin,"system:masters"\n`;
}

/**
 * RBAC the seed applies by hand: the apiserver (user "kubernetes") may reach kubelets, and CoreDNS
 * (which, as in the seed, authenticates with the kubernetes certificate) may read what it serves.
 */
export function clusterRbac(): string {
  const docs = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'system:kube-apiserver-to-kubelet',
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
        labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      },
      rules: [{ apiGroups: [''], resources: ['nodes/proxy', 'nodes/stats', 'nodes/log', 'nodes/spec', 'nodes/metrics'], verbs: ['*'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:kube-apiserver' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kube-apiserver-to-kubelet' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kubernetes' }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'hardway:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'hardway:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'hardway:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kubernetes' }],
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}

export const RBAC_FILE = `${K8S_DIR}/rbac/cluster-rbac.yaml`;
