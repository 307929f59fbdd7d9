// Each component's command line for one host, as the seed's systemd units run it (modernised
// where a flag no longer exists). Init-system specific files are written from these by init.ts.
import { type Cluster, type Host, etcdEndpoints } from '../model/cluster.ts';
import { hostPort } from '../model/net.ts';
import { HEALTH, component } from '../model/components.ts';
import { CA_CERT, CA_KEY, K8S_DIR, KCM_KUBECONFIG, SA_CERT, SA_KEY, TOKEN_FILE, kubeletKubeconfig } from '../pki/plan.ts';

export interface ServiceDef {
  name: string;
  description: string;
  documentation: string;
  /** argv, one flag per element so units stay readable. */
  exec: string[];
  type: 'simple' | 'notify';
  after: string[];
  requires: string[];
  restart: 'on-failure' | 'always';
  /** Extra [Service] settings (systemd only). */
  extra: string[];
}

const KUBERNETES_PEM = `${K8S_DIR}/kubernetes.pem`;
const KUBERNETES_KEY = `${K8S_DIR}/kubernetes-key.pem`;

function def(name: string, description: string, documentation: string, exec: string[], more: Partial<ServiceDef> = {}): ServiceDef {
  return {
    name,
    description,
    documentation,
    exec: [component(name).binary, ...exec],
    type: 'simple',
    after: ['network-online.target'],
    requires: [],
    restart: component(name).restart,
    extra: [],
    ...more,
  };
}

export function masterServices(c: Cluster, m: Host): ServiceDef[] {
  const peers = c.masters.map((x) => `${x.host}=https://${hostPort(x.internalAddress, 2380)}`).join(',');
  const etcd = def(
    'etcd',
    'etcd key-value store',
    'https://etcd.io',
    [
      `--name=${m.host}`,
      `--cert-file=${KUBERNETES_PEM}`,
      `--key-file=${KUBERNETES_KEY}`,
      `--peer-cert-file=${KUBERNETES_PEM}`,
      `--peer-key-file=${KUBERNETES_KEY}`,
      `--trusted-ca-file=${CA_CERT}`,
      `--peer-trusted-ca-file=${CA_CERT}`,
      '--client-cert-auth',
      '--peer-client-cert-auth',
      `--initial-advertise-peer-urls=https://${hostPort(m.internalAddress, 2380)}`,
      `--listen-peer-urls=https://${hostPort(m.internalAddress, 2380)}`,
      `--listen-client-urls=https://${hostPort(m.internalAddress, 2379)},https://127.0.0.1:2379`,
      `--advertise-client-urls=https://${hostPort(m.internalAddress, 2379)}`,
      '--initial-cluster-token=etcd-cluster-0',
      `--initial-cluster=${peers}`,
      '--initial-cluster-state=new',
      '--data-dir=/var/lib/etcd',
    ],
    { type: 'notify' },
  );

  const apiserver = def(
    'kube-apiserver',
    'Kubernetes API Server',
    'https://github.com/kubernetes/kubernetes',
    [
      `--advertise-address=${m.internalAddress}`,
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      '--bind-address=0.0.0.0',
      `--secure-port=${c.apiserver.port}`,
      `--client-ca-file=${CA_CERT}`,
      '--enable-admission-plugins=NamespaceLifecycle,NodeRestriction,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota',
      `--etcd-cafile=${CA_CERT}`,
      `--etcd-certfile=${KUBERNETES_PEM}`,
      `--etcd-keyfile=${KUBERNETES_KEY}`,
      `--etcd-servers=${etcdEndpoints(c).join(',')}`,
      `--kubelet-certificate-authority=${CA_CERT}`,
      `--kubelet-client-certificate=${KUBERNETES_PEM}`,
      `--kubelet-client-key=${KUBERNETES_KEY}`,
      // Reach kubelets by address: their serving certs carry the addresses, and node names need not resolve.
      '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
      `--service-account-key-file=${SA_CERT}`,
      `--service-account-signing-key-file=${SA_KEY}`,
      `--service-account-issuer=https://${hostPort(m.address, c.apiserver.port)}`,
      `--service-cluster-ip-range=${c.serviceCIDR}`,
      '--service-node-port-range=30000-32767',
      `--tls-cert-file=${KUBERNETES_PEM}`,
      `--tls-private-key-file=${KUBERNETES_KEY}`,
      ...(c.apiserver.staticToken ? [`--token-auth-file=${TOKEN_FILE}`] : []),
      '--v=1',
    ],
    { after: ['network-online.target', 'etcd.service'] },
  );

  const kcm = def(
    'kube-controller-manager',
    'Kubernetes Controller Manager',
    'https://github.com/kubernetes/kubernetes',
    [
      '--bind-address=0.0.0.0',
      `--cluster-cidr=${c.podCIDR}`,
      `--cluster-name=${c.name}`,
      `--cluster-signing-cert-file=${CA_CERT}`,
      `--cluster-signing-key-file=${CA_KEY}`,
      `--kubeconfig=${KCM_KUBECONFIG}`,
      // flannel hands out pod subnets from etcd, so the controller manager must not allocate them.
      '--allocate-node-cidrs=false',
      '--leader-elect=true',
      `--root-ca-file=${CA_CERT}`,
      `--service-account-private-key-file=${SA_KEY}`,
      `--service-cluster-ip-range=${c.serviceCIDR}`,
      '--use-service-account-credentials=true',
      '--v=1',
    ],
    { after: ['kube-apiserver.service'] },
  );

  const scheduler = def(
    'kube-scheduler',
    'Kubernetes Scheduler',
    'https://github.com/kubernetes/kubernetes',
    [`--config=${K8S_DIR}/kube-scheduler/kube-scheduler.yaml`, '--v=1'],
    { after: ['kube-apiserver.service'] },
  );
  return [etcd, apiserver, kcm, scheduler];
}

export function workerServices(c: Cluster, w: Host): ServiceDef[] {
  const containerd = def('containerd', 'containerd container runtime', 'https://containerd.io', ['--config=/etc/containerd/config.toml'], {
    after: ['network.target'],
    extra: ['Delegate=yes', 'KillMode=process', 'OOMScoreAdjust=-999', 'LimitNOFILE=1048576', 'LimitNPROC=infinity', 'LimitCORE=infinity'],
  });
  const flanneld = def(
    'flanneld',
    'Flanneld overlay address etcd agent',
    'https://github.com/flannel-io/flannel',
    [
      `-etcd-endpoints=${etcdEndpoints(c).join(',')}`,
      `-etcd-prefix=${c.flannel.etcdPrefix}`,
      `-etcd-cafile=${CA_CERT}`,
      `-etcd-certfile=${KUBERNETES_PEM}`,
      `-etcd-keyfile=${KUBERNETES_KEY}`,
      '-healthz-ip=127.0.0.1',
      `-healthz-port=${HEALTH.flanneldHealthzPort}`,
      '-subnet-file=/run/flannel/subnet.env',
      // The address flannel advertises to other workers and sends vxlan traffic from.
      `-public-ip=${w.address}`,
      `-iface=${w.internalAddress}`,
      '-ip-masq',
    ],
    { type: 'notify' },
  );
  const kubelet = def(
    'kubelet',
    'Kubernetes Kubelet',
    'https://github.com/kubernetes/kubernetes',
    [
      `--config=${K8S_DIR}/kubelet/kubelet-config.yaml`,
      `--kubeconfig=${kubeletKubeconfig(w)}`,
      `--node-ip=${w.internalAddress}`,
      // The seed's NODE_NAME: must match the name in the kubelet's certificate.
      `--hostname-override=${w.nodeName}`,
      '--v=1',
    ],
    { after: ['containerd.service', 'flanneld.service'], requires: ['containerd.service'] },
  );
  const kubeProxy = def(
    'kube-proxy',
    'Kubernetes Proxy',
    'https://github.com/kubernetes/kubernetes',
    [`--config=${K8S_DIR}/kube-proxy/kube-proxy-config.yaml`],
    { after: ['network-online.target'] },
  );
  const coredns = def('coredns', 'CoreDNS', 'https://coredns.io', ['-conf', '/etc/coredns/Corefile'], { after: ['network-online.target'] });
  return [containerd, flanneld, kubelet, kubeProxy, coredns];
}

export function servicesFor(c: Cluster, h: Host): ServiceDef[] {
  return h.role === 'master' ? masterServices(c, h) : workerServices(c, h);
}
