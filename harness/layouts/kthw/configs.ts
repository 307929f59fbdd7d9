// KTHW's configuration files (its configs/ folder and the files chapters 05, 06 and 09 write) as
// data, one function per file. Where the lab must deviate, the caller says so (deviations.ts).
import { stringify } from 'yaml';
import type { Cluster, Host } from '../../model/cluster.ts';
import * as P from './paths.ts';

/** YAML as kubectl writes it: sequences not indented under their key. */
const yaml = (doc: unknown) => stringify(doc, { indentSeq: false, lineWidth: 0 });

/** configs/kubelet-config.yaml (no clusterDNS, no clusterDomain: KTHW runs no cluster DNS). */
export function kubeletConfig(): string {
  return yaml({
    kind: 'KubeletConfiguration',
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    address: '0.0.0.0',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: P.KUBELET_CA } },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'systemd',
    containerRuntimeEndpoint: 'unix:///var/run/containerd/containerd.sock',
    enableServer: true,
    failSwapOn: false,
    maxPods: 16,
    memorySwap: { swapBehavior: 'NoSwap' },
    port: 10250,
    resolvConf: '/etc/resolv.conf',
    registerNode: true,
    runtimeRequestTimeout: '15m',
    tlsCertFile: P.KUBELET_CRT,
    tlsPrivateKeyFile: P.KUBELET_KEY,
  });
}

/** configs/kube-proxy-config.yaml; `conntrackMaxPerCore` is the lab's deviation for containers. */
export function kubeProxyConfig(c: Cluster, conntrackMaxPerCore?: number): string {
  return yaml({
    kind: 'KubeProxyConfiguration',
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    clientConnection: { kubeconfig: P.KUBE_PROXY_KUBECONFIG },
    mode: 'iptables',
    clusterCIDR: c.podCIDR,
    ...(conntrackMaxPerCore !== undefined ? { conntrack: { maxPerCore: conntrackMaxPerCore } } : {}),
  });
}

/** configs/kube-scheduler.yaml */
export function schedulerConfig(): string {
  return yaml({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: { kubeconfig: P.SCHEDULER_KUBECONFIG },
    leaderElection: { leaderElect: true },
  });
}

/** configs/10-bridge.conf with the node's SUBNET (chapter 09's sed). */
export function bridgeConf(w: Host): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'bridge',
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: w.podSubnet! }]], routes: [{ dst: '0.0.0.0/0' }] },
    },
    null,
    2,
  )}\n`;
}

/** configs/99-loopback.conf */
export function loopbackConf(): string {
  return `${JSON.stringify({ cniVersion: '1.1.0', name: 'lo', type: 'loopback' }, null, 2)}\n`;
}

/** configs/containerd-config.toml; `restrictOomScoreAdj` is the lab's deviation (no CAP_SYS_RESOURCE). */
export function containerdConfig(c: Cluster, restrictOomScoreAdj: boolean): string {
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    '',
    `${cri}]`,
    ...(restrictOomScoreAdj ? ['  restrict_oom_score_adj = true'] : []),
    `  ${cri}.containerd]`,
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    `  ${cri}.containerd.runtimes.runc]`,
    '    runtime_type = "io.containerd.runc.v2"',
    `  ${cri}.containerd.runtimes.runc.options]`,
    '    SystemdCgroup = true',
    `${cri}.cni]`,
    `  bin_dir = "${c.cniBinDir}"`,
    '  conf_dir = "/etc/cni/net.d"',
    '',
  ].join('\n');
}

/** configs/encryption-config.yaml with chapter 06's key (envsubst of ${ENCRYPTION_KEY}). */
export function encryptionConfig(key: string): string {
  return yaml({
    kind: 'EncryptionConfiguration',
    apiVersion: 'apiserver.config.k8s.io/v1',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: key }] } }, { identity: {} }] }],
  });
}

/** configs/kube-apiserver-to-kubelet.yaml (chapter 08): the apiserver, user "kubernetes", may use the kubelet API. */
export function apiserverToKubeletRbac(): string {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
        labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
        name: 'system:kube-apiserver-to-kubelet',
      },
      rules: [{ apiGroups: [''], resources: ['nodes/proxy', 'nodes/stats', 'nodes/log', 'nodes/spec', 'nodes/metrics'], verbs: ['*'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:kube-apiserver', namespace: '' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kube-apiserver-to-kubelet' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kubernetes' }],
    },
  ]
    .map(yaml)
    .join('---\n');
}

/** Chapter 09: bridged traffic through iptables. */
export function bridgeSysctl(): string {
  return 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n';
}

/** Chapter 09: br-netfilter loaded at boot. */
export function modulesLoad(): string {
  return 'br-netfilter\n';
}

/** Chapter 03's hosts block, appended to every machine's /etc/hosts. */
export function hostsBlock(c: Cluster, fqdn: (h: Host) => string): string {
  return ['', '# Kubernetes The Hard Way', ...[...c.masters, ...c.workers].map((h) => `${h.address} ${fqdn(h)} ${h.host}`), ''].join('\n');
}

/** A kubeconfig as chapter 05's `kubectl config set-cluster/set-credentials/set-context --embed-certs` write it. */
export function kubectlKubeconfig(k: {
  cluster: string;
  server: string;
  caPem: string;
  user: string;
  certPem: string;
  keyPem: string;
}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return yaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(k.caPem), server: k.server }, name: k.cluster }],
    contexts: [{ context: { cluster: k.cluster, user: k.user }, name: 'default' }],
    'current-context': 'default',
    kind: 'Config',
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
  });
}
