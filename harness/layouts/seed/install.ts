// How the installer lays the seed out: binaries into /usr/local/bin (flannel's CNI plugin next to
// the others), then the seed's start order with each component's own health signal:
//   master: etcd -> flannel's network config into etcd -> kube-apiserver -> controller-manager and scheduler -> RBAC
//   workers: containerd -> pod images (both while the master is installed) -> flanneld -> kubelet
//            -> kube-proxy -> coredns
import type { Cluster, Host } from '../../model/cluster.ts';
import { BIN_DIR } from '../../model/components.ts';
import { RBAC_FILE } from '../../render/configs.ts';
import { ETCDCTL } from '../../installer/health.ts';
import { shq } from '../../installer/remote.ts';
import type { BinaryPlacement, InstallStep } from '../layout.ts';
import { FLANNEL_CONFIG_FILE } from './files.ts';

const MASTER_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
const WORKER_BINARIES = ['kubelet', 'kube-proxy', 'coredns', 'flanneld'];

export function seedBinaries(c: Cluster, h: Host): BinaryPlacement[] {
  const bins = (h.role === 'master' ? MASTER_BINARIES : WORKER_BINARIES).map((b) => ({ binary: b, path: `${BIN_DIR}/${b}` }));
  return h.role === 'worker' ? [...bins, { binary: 'flannel', path: `${c.cniBinDir}/flannel` }] : bins;
}

export function seedPrepare(_c: Cluster, h: Host): string {
  return h.role === 'master'
    ? 'systemctl daemon-reload 2>/dev/null || true; mkdir -p /var/lib/etcd && chmod 700 /var/lib/etcd'
    : 'sysctl -q -p /etc/sysctl.d/99-kubernetes.conf && systemctl daemon-reload 2>/dev/null || true';
}

export function seedSteps(c: Cluster, h: Host): InstallStep[] {
  if (h.role === 'master') {
    return [
      { say: 'starting etcd', start: ['etcd'], wait: ['etcd'] },
      {
        say: `writing flannel's network config to etcd (${c.flannel.etcdPrefix}/config)`,
        run: `${ETCDCTL} put ${shq(`${c.flannel.etcdPrefix}/config`)} "$(cat ${FLANNEL_CONFIG_FILE})" >/dev/null`,
      },
      { say: 'starting kube-apiserver', start: ['kube-apiserver'], wait: ['kube-apiserver'], waitTimeoutMs: 120_000 },
      {
        say: 'starting kube-controller-manager and kube-scheduler',
        start: ['kube-controller-manager', 'kube-scheduler'],
        wait: ['kube-controller-manager', 'kube-scheduler'],
      },
      { say: 'applying kubelet and CoreDNS RBAC', run: `kubectl apply -f ${RBAC_FILE} >/dev/null` },
    ];
  }
  return [
    // containerd and the images need nothing of the master: they overlap its installation.
    { say: 'starting containerd', start: ['containerd'], wait: ['containerd'], beforeMasters: true },
    { say: 'importing pod images', importPodImages: true, beforeMasters: true },
    { say: 'starting flanneld', start: ['flanneld'], wait: ['flanneld'] },
    { say: 'starting kubelet', start: ['kubelet'], wait: ['kubelet'] },
    { say: 'starting kube-proxy', start: ['kube-proxy'], wait: ['kube-proxy'] },
    { say: 'starting coredns', start: ['coredns'], wait: ['coredns'] },
  ];
}
