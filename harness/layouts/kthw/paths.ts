// Where Kubernetes The Hard Way puts every file (chapters 04-10), in one place.
export const ROOT_HOME = '/root';
export const K8S_DIR = '/var/lib/kubernetes';
export const KUBELET_DIR = '/var/lib/kubelet';
export const KUBE_PROXY_DIR = '/var/lib/kube-proxy';
export const ETCD_DIR = '/etc/etcd';

export const CA_CRT = `${K8S_DIR}/ca.crt`;
export const CA_KEY = `${K8S_DIR}/ca.key`;
export const API_SERVER_CRT = `${K8S_DIR}/kube-api-server.crt`;
export const API_SERVER_KEY = `${K8S_DIR}/kube-api-server.key`;
export const SA_CRT = `${K8S_DIR}/service-accounts.crt`;
export const SA_KEY = `${K8S_DIR}/service-accounts.key`;
export const ENCRYPTION_CONFIG = `${K8S_DIR}/encryption-config.yaml`;
export const KCM_KUBECONFIG = `${K8S_DIR}/kube-controller-manager.kubeconfig`;
export const SCHEDULER_KUBECONFIG = `${K8S_DIR}/kube-scheduler.kubeconfig`;
export const SCHEDULER_CONFIG = '/etc/kubernetes/config/kube-scheduler.yaml';
/** Chapter 05 leaves admin.kubeconfig in root's home on the server; chapter 08 uses it from there. */
export const ADMIN_KUBECONFIG = `${ROOT_HOME}/admin.kubeconfig`;
export const RBAC_FILE = `${ROOT_HOME}/kube-apiserver-to-kubelet.yaml`;

export const KUBELET_CA = `${KUBELET_DIR}/ca.crt`;
export const KUBELET_CRT = `${KUBELET_DIR}/kubelet.crt`;
export const KUBELET_KEY = `${KUBELET_DIR}/kubelet.key`;
export const KUBELET_KUBECONFIG = `${KUBELET_DIR}/kubeconfig`;
export const KUBELET_CONFIG = `${KUBELET_DIR}/kubelet-config.yaml`;
export const KUBE_PROXY_KUBECONFIG = `${KUBE_PROXY_DIR}/kubeconfig`;
export const KUBE_PROXY_CONFIG = `${KUBE_PROXY_DIR}/kube-proxy-config.yaml`;

export const CNI_CONF_DIR = '/etc/cni/net.d';
export const BRIDGE_CONF = `${CNI_CONF_DIR}/10-bridge.conf`;
export const LOOPBACK_CONF = `${CNI_CONF_DIR}/99-loopback.conf`;
export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
export const SYSCTL_CONF = '/etc/sysctl.d/kubernetes.conf';
export const MODULES_CONF = '/etc/modules-load.d/modules.conf';

export const unitPath = (name: string) => `/etc/systemd/system/${name}.service`;
