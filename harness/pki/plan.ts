// The certificate plan: which certificates a seed-style cluster has, what identity and names each
// must carry, and on which host at which path it lives (as a file pair or inside a kubeconfig).
// The renderer issues certificates from it and the certs suite checks a cluster against it, so
// both always agree on what "right" means.
import type { Cluster, Host } from '../model/cluster.ts';
import { kthwCertPlan } from '../layouts/kthw/plan.ts';

export type Usage = 'server' | 'client';
export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';

/**
 * Exactly how a certificate is made, when a layout prescribes it (KTHW's ca.conf): subject
 * attributes in order, key size and format, signature hash, lifetime, and the extensions in the
 * order openssl writes them (basicConstraints, extendedKeyUsage, keyUsage, nsCertType, nsComment,
 * subjectAltName, subjectKeyIdentifier, authorityKeyIdentifier). Without one, hardway's own
 * defaults apply (issue.ts).
 */
export interface CertProfile {
  subject: [string, string][];
  keyBits: number;
  hash: 'SHA-256' | 'SHA-512';
  days: number;
  /** PKCS#8 ("PRIVATE KEY", what openssl genrsa writes) or PKCS#1 ("RSA PRIVATE KEY", cfssl's). */
  keyFormat: 'pkcs8' | 'pkcs1';
  basicConstraints: { ca: boolean };
  keyUsage?: { critical: boolean; usages: readonly KeyUsageName[] };
  extendedKeyUsage?: Usage[];
  /** Netscape certificate type and comment (openssl's nsCertType, nsComment). */
  nsCertType?: ('client' | 'server')[];
  nsComment?: string;
  /** Subject alternative names in their order. */
  altNames?: { type: 'dns' | 'ip'; value: string }[];
  subjectKeyIdentifier: boolean;
  authorityKeyIdentifier: boolean;
}

export interface CertSpec {
  /** Stable identifier ("kubernetes", "kubelet-node-1"), also the file stem in the PKI folder. */
  id: string;
  title: string;
  cn: string;
  o?: string;
  usages: Usage[];
  /** Names and addresses the certificate must cover (servers only). */
  dnsNames: string[];
  ipAddresses: string[];
  /** How to issue it exactly (layouts that prescribe one); absent: hardway's defaults. */
  profile?: CertProfile;
}

/** A serving certificate's spec named by its CN, for the names given (tests, small chains). */
export const serverSpec = (cn: string, dnsNames: string[] = []): CertSpec => ({
  id: cn,
  title: cn,
  cn,
  usages: ['server'],
  dnsNames,
  ipAddresses: [],
});

/** Where a certificate (and its key) sits on a host as PEM files. */
export interface CertFile {
  host: string;
  cert: string;
  key?: string;
  spec: CertSpec;
}

/** A kubeconfig on a host and the client certificate embedded in it. */
export interface KubeconfigFile {
  host: string;
  path: string;
  /** Spec of the embedded client certificate. */
  spec: CertSpec;
  /** Which user the file is for: a human-readable component name. */
  component: string;
}

export const K8S_DIR = '/var/lib/kubernetes';
export const CA_CERT = `${K8S_DIR}/ca.pem`;
export const CA_KEY = `${K8S_DIR}/ca-key.pem`;
export const SA_CERT = `${K8S_DIR}/service-account.pem`;
export const SA_KEY = `${K8S_DIR}/service-account-key.pem`;
export const TOKEN_FILE = `${K8S_DIR}/token.csv`;

export const kubeletCert = (h: Host) => `${K8S_DIR}/kubelet/${h.host}.pem`;
export const kubeletKey = (h: Host) => `${K8S_DIR}/kubelet/${h.host}-key.pem`;
export const kubeletKubeconfig = (h: Host) => `${K8S_DIR}/kubelet/${h.host}.kubeconfig`;
export const KUBE_PROXY_KUBECONFIG = `${K8S_DIR}/kube-proxy/kube-proxy.kubeconfig`;
export const COREDNS_KUBECONFIG = `${K8S_DIR}/coredns/coredns.kubeconfig`;
export const FLANNELD_KUBECONFIG = `${K8S_DIR}/flanneld/flanneld.kubeconfig`;
export const KCM_KUBECONFIG = `${K8S_DIR}/kube-controller-manager.kubeconfig`;
export const SCHEDULER_KUBECONFIG = `${K8S_DIR}/kube-scheduler/kube-scheduler.kubeconfig`;
export const ADMIN_KUBECONFIG = '/root/.kube/config';

export interface CertPlan {
  ca: CertSpec;
  certs: CertSpec[];
  files: CertFile[];
  kubeconfigs: KubeconfigFile[];
  /** Hosts allowed to hold the CA private key (masters, as the seed says). */
  caKeyHosts: string[];
}

function hostNames(h: Host): { dns: string[]; ips: string[] } {
  const dns = [...new Set([h.nodeName, h.host])];
  const ips = [...new Set([h.address, h.internalAddress])];
  return { dns, ips };
}

/** The certificate plan of the cluster's layout (the seed's below, KTHW's in layouts/kthw). */
export function certPlan(c: Cluster): CertPlan {
  return c.layout === 'kthw' ? kthwCertPlan(c) : seedCertPlan(c);
}

export function seedCertPlan(c: Cluster): CertPlan {
  const ca: CertSpec = { id: 'ca', title: 'cluster CA', cn: 'Kubernetes', o: 'Kubernetes', usages: [], dnsNames: [], ipAddresses: [] };
  const client = (id: string, title: string, cn: string, o?: string): CertSpec => ({
    id,
    title,
    cn,
    ...(o ? { o } : {}),
    usages: ['client'],
    dnsNames: [],
    ipAddresses: [],
  });
  const admin = client('admin', 'admin client', 'admin', 'system:masters');
  const kcm = client(
    'kube-controller-manager',
    'kube-controller-manager client',
    'system:kube-controller-manager',
    'system:kube-controller-manager',
  );
  const scheduler = client('kube-scheduler', 'kube-scheduler client', 'system:kube-scheduler', 'system:kube-scheduler');
  const proxy = client('kube-proxy', 'kube-proxy client', 'system:kube-proxy', 'system:node-proxier');
  const masterNames = c.masters.flatMap((m) => [m.host, m.nodeName]);
  const kubernetes: CertSpec = {
    id: 'kubernetes',
    title: 'kube-apiserver and etcd serving certificate',
    cn: 'kubernetes',
    o: 'Kubernetes',
    // Serves the apiserver and etcd, and is the client cert the apiserver, flannel and CoreDNS
    // present to etcd and to kubelets: both usages.
    usages: ['server', 'client'],
    dnsNames: [
      ...new Set([
        ...masterNames,
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        `kubernetes.default.svc.${c.clusterDomain}`,
      ]),
    ],
    ipAddresses: [...new Set([c.kubernetesServiceIP, ...c.masters.flatMap((m) => [m.address, m.internalAddress]), '127.0.0.1'])],
  };
  const kubelets = c.workers.map((w): CertSpec => {
    const n = hostNames(w);
    return {
      id: `kubelet-${w.host}`,
      title: `kubelet of ${w.host}`,
      cn: `system:node:${w.nodeName}`,
      o: 'system:nodes',
      usages: ['server', 'client'],
      dnsNames: n.dns,
      ipAddresses: n.ips,
    };
  });
  const sa: CertSpec = client('service-account', 'service-account signing key', 'service-accounts', 'Kubernetes');
  sa.usages = [];

  const files: CertFile[] = [];
  const kubeconfigs: KubeconfigFile[] = [];
  for (const m of c.masters) {
    files.push({ host: m.host, cert: CA_CERT, key: CA_KEY, spec: ca });
    files.push({ host: m.host, cert: `${K8S_DIR}/kubernetes.pem`, key: `${K8S_DIR}/kubernetes-key.pem`, spec: kubernetes });
    files.push({ host: m.host, cert: SA_CERT, key: SA_KEY, spec: sa });
    files.push({
      host: m.host,
      cert: `${K8S_DIR}/kube-controller-manager.pem`,
      key: `${K8S_DIR}/kube-controller-manager-key.pem`,
      spec: kcm,
    });
    kubeconfigs.push({ host: m.host, path: KCM_KUBECONFIG, spec: kcm, component: 'kube-controller-manager' });
    kubeconfigs.push({ host: m.host, path: SCHEDULER_KUBECONFIG, spec: scheduler, component: 'kube-scheduler' });
    kubeconfigs.push({ host: m.host, path: ADMIN_KUBECONFIG, spec: admin, component: 'admin (kubectl)' });
  }
  c.workers.forEach((w, i) => {
    files.push({ host: w.host, cert: CA_CERT, spec: ca });
    // The seed puts the kubernetes pair on workers too: flannel and CoreDNS use it to reach etcd.
    files.push({ host: w.host, cert: `${K8S_DIR}/kubernetes.pem`, key: `${K8S_DIR}/kubernetes-key.pem`, spec: kubernetes });
    files.push({ host: w.host, cert: kubeletCert(w), key: kubeletKey(w), spec: kubelets[i]! });
    kubeconfigs.push({ host: w.host, path: kubeletKubeconfig(w), spec: kubelets[i]!, component: 'kubelet' });
    kubeconfigs.push({ host: w.host, path: KUBE_PROXY_KUBECONFIG, spec: proxy, component: 'kube-proxy' });
    kubeconfigs.push({ host: w.host, path: COREDNS_KUBECONFIG, spec: kubernetes, component: 'coredns' });
    kubeconfigs.push({ host: w.host, path: FLANNELD_KUBECONFIG, spec: kubernetes, component: 'flanneld' });
  });
  return {
    ca,
    certs: [admin, kcm, scheduler, proxy, kubernetes, ...kubelets, sa],
    files,
    kubeconfigs,
    caKeyHosts: c.masters.map((m) => m.host),
  };
}
