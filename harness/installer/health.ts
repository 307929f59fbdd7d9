// Each component's own health signal in the seed layout, as a shell command run on its host (exit
// 0 = healthy). The installer waits on these after starting a component; fault repairs wait on
// them too. Other layouts have their own (harness/layouts/*).
import type { Cluster } from '../model/cluster.ts';
import { HEALTH } from '../model/components.ts';
import { CA_CERT, K8S_DIR } from '../pki/plan.ts';
import { kthwHealth } from '../layouts/kthw/install.ts';

export const ETCDCTL = `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${CA_CERT} --cert=${K8S_DIR}/kubernetes.pem --key=${K8S_DIR}/kubernetes-key.pem`;

export interface HealthSignal {
  /** What is awaited, for messages. */
  signal: string;
  command: string;
}

/** The component's health signal in the cluster's layout. */
export function healthSignal(c: Cluster, component: string): HealthSignal {
  return c.layout === 'kthw' ? kthwHealth(c, component) : seedHealthSignal(c, component);
}

export function seedHealthSignal(c: Cluster, component: string): HealthSignal {
  switch (component) {
    case 'etcd':
      return { signal: 'etcdctl endpoint health', command: `${ETCDCTL} endpoint health` };
    case 'kube-apiserver':
      return {
        signal: `https://127.0.0.1:${c.apiserver.port}/readyz`,
        command: `curl -sf --cacert ${CA_CERT} https://127.0.0.1:${c.apiserver.port}/readyz`,
      };
    case 'kube-controller-manager':
      return { signal: 'https://127.0.0.1:10257/healthz', command: 'curl -sfk https://127.0.0.1:10257/healthz' };
    case 'kube-scheduler':
      return { signal: 'https://127.0.0.1:10259/healthz', command: 'curl -sfk https://127.0.0.1:10259/healthz' };
    case 'containerd':
      return { signal: 'ctr version', command: 'ctr version' };
    case 'flanneld':
      return {
        signal: '/run/flannel/subnet.env and its healthz',
        command: `test -s /run/flannel/subnet.env && curl -sf http://127.0.0.1:${HEALTH.flanneldHealthzPort}/healthz`,
      };
    case 'kubelet':
      return {
        signal: `http://127.0.0.1:${HEALTH.kubeletHealthzPort}/healthz`,
        command: `curl -sf http://127.0.0.1:${HEALTH.kubeletHealthzPort}/healthz`,
      };
    case 'kube-proxy':
      return {
        signal: `http://127.0.0.1:${HEALTH.kubeProxyHealthzPort}/healthz`,
        command: `curl -sf http://127.0.0.1:${HEALTH.kubeProxyHealthzPort}/healthz`,
      };
    case 'coredns':
      return {
        signal: `http://127.0.0.1:${HEALTH.corednsReadyPort}/ready`,
        command: `curl -sf http://127.0.0.1:${HEALTH.corednsReadyPort}/ready`,
      };
    default:
      throw new Error(`no health signal known for ${component}`);
  }
}
