// The kthw layout's files per host, where KTHW's chapters put them: the server gets chapter 04's
// ca, kube-api-server and service-accounts pairs (/var/lib/kubernetes, and /etc/etcd as chapter
// 07 copies them), the controller-manager and scheduler kubeconfigs, admin.kubeconfig and the
// RBAC manifest in root's home, the encryption config, its units; each node its kubelet pair,
// kubeconfigs, CNI, containerd, kubelet and kube-proxy configs, its units.
import type { TreeFile } from '../../render/render.ts';
import type { HostFilesInput } from '../layout.ts';
import * as C from './configs.ts';
import { activeDeviations } from './deviations.ts';
import { fqdn } from './profiles.ts';
import * as P from './paths.ts';
import * as U from './units.ts';

const SECRET = 0o600;
const PUBLIC = 0o644;

/** The containerd drop-in of the lab (deviations.ts: containerd-modprobe-overlay). */
export const CONTAINERD_DROP_IN = '/etc/systemd/system/containerd.service.d/10-hardway-lab.conf';
export function containerdDropIn(): string {
  return '# hardway lab: lab nodes have no /lib/modules, so modprobe fails (overlay is built in).\n[Service]\nExecStartPre=\nExecStartPre=-/sbin/modprobe overlay\n';
}

export function kthwHostFiles({ cluster: c, host: h, plan, pki, secrets, options }: HostFilesInput): TreeFile[] {
  const dev = activeDeviations(c, options);
  const files: TreeFile[] = [];
  const add = (path: string, content: string, mode = PUBLIC) => files.push({ path, content, mode });
  const server = c.masters[0]!;
  // Chapter 05: every kubeconfig names https://server.kubernetes.local:6443 but admin's, which
  // chapter 08 uses on the server itself (https://127.0.0.1:6443).
  const apiserver = `https://${fqdn(server)}:${c.apiserver.port}`;

  for (const f of plan.files.filter((x) => x.host === h.host)) {
    const issued = f.spec.id === 'ca' ? pki.ca : pki.certs.get(f.spec.id)!;
    add(f.cert, issued.certPem);
    if (f.key) add(f.key, issued.key.pem, SECRET);
  }
  for (const k of plan.kubeconfigs.filter((x) => x.host === h.host)) {
    const issued = pki.certs.get(k.spec.id)!;
    add(
      k.path,
      C.kubectlKubeconfig({
        cluster: 'kubernetes-the-hard-way',
        server: k.path === P.ADMIN_KUBECONFIG ? `https://127.0.0.1:${c.apiserver.port}` : apiserver,
        caPem: pki.ca.certPem,
        user: k.spec.cn,
        certPem: issued.certPem,
        keyPem: issued.key.pem,
      }),
      SECRET,
    );
  }
  const unit = (u: U.UnitSpec) => add(P.unitPath(u.name), U.renderUnit(u));
  if (h.role === 'master') {
    add(P.ENCRYPTION_CONFIG, C.encryptionConfig(secrets.encryptionKey!), SECRET);
    unit(U.etcdUnit());
    unit(U.apiserverUnit(c, { apiserverServiceRange: dev.serviceClusterIpRange }));
    unit(U.controllerManagerUnit(c));
    unit(U.schedulerUnit());
    add(P.SCHEDULER_CONFIG, C.schedulerConfig());
    add(P.RBAC_FILE, C.apiserverToKubeletRbac());
  } else {
    add(P.BRIDGE_CONF, C.bridgeConf(h));
    add(P.LOOPBACK_CONF, C.loopbackConf());
    add(P.CONTAINERD_CONFIG, C.containerdConfig(c, dev.restrictOomScoreAdj));
    add(P.KUBELET_CONFIG, C.kubeletConfig());
    add(P.KUBE_PROXY_CONFIG, C.kubeProxyConfig(c, dev.conntrackMaxPerCore ? c.kubeProxy.conntrackMaxPerCore : undefined));
    unit(U.containerdUnit());
    if (dev.containerdModprobe) add(CONTAINERD_DROP_IN, containerdDropIn());
    unit(U.kubeletUnit());
    unit(U.kubeProxyUnit());
    add(P.SYSCTL_CONF, C.bridgeSysctl());
    add(P.MODULES_CONF, C.modulesLoad());
  }
  return files;
}
