// The seed layout's files per host (the seed article's paths under /var/lib/kubernetes): the PKI
// plan's certificates and kubeconfigs, the components' units or OpenRC scripts, their configs.
import { apiserverUrl } from '../../model/cluster.ts';
import { servicesFor } from '../../render/services.ts';
import { openrcScript, openrcScriptPath, systemdUnit, systemdUnitPath } from '../../render/init.ts';
import { kubeconfig } from '../../render/kubeconfig.ts';
import {
  RBAC_FILE,
  clusterRbac,
  containerdConfig,
  corefile,
  crictlConfig,
  flannelConflist,
  flannelNetworkConfig,
  kubeProxyConfig,
  kubeletConfig,
  loopbackConf,
  schedulerConfig,
  tokenCsv,
  workerSysctl,
} from '../../render/configs.ts';
import { K8S_DIR, TOKEN_FILE } from '../../pki/plan.ts';
import type { TreeFile } from '../../render/render.ts';
import type { HostFilesInput } from '../layout.ts';

export const FLANNEL_CONFIG_FILE = `${K8S_DIR}/flannel/net-conf.json`;

const SECRET = 0o600;
const PUBLIC = 0o644;

export function seedHostFiles({ cluster: c, host: h, plan, pki, secrets }: HostFilesInput): TreeFile[] {
  const files: TreeFile[] = [];
  const add = (path: string, content: string, mode = PUBLIC) => files.push({ path, content, mode });
  const server = apiserverUrl(c);

  for (const f of plan.files.filter((x) => x.host === h.host)) {
    const issued = f.spec.id === 'ca' ? pki.ca : pki.certs.get(f.spec.id)!;
    add(f.cert, issued.certPem);
    if (f.key) add(f.key, issued.key.pem, SECRET);
  }
  for (const k of plan.kubeconfigs.filter((x) => x.host === h.host)) {
    const issued = pki.certs.get(k.spec.id)!;
    add(
      k.path,
      kubeconfig({
        clusterName: c.name,
        server,
        caPem: pki.ca.certPem,
        user: k.spec.cn,
        certPem: issued.certPem,
        keyPem: issued.key.pem,
      }),
      SECRET,
    );
  }
  for (const s of servicesFor(c, h)) {
    if (h.init === 'openrc') add(openrcScriptPath(s.name), openrcScript(s), 0o755);
    else add(systemdUnitPath(s.name), systemdUnit(s));
  }
  if (h.role === 'master') {
    add(`${K8S_DIR}/kube-scheduler/kube-scheduler.yaml`, schedulerConfig());
    add(RBAC_FILE, clusterRbac());
    add(FLANNEL_CONFIG_FILE, `${flannelNetworkConfig(c)}\n`);
    if (secrets.token) add(TOKEN_FILE, tokenCsv(secrets.token), SECRET);
  } else {
    add(`${K8S_DIR}/kubelet/kubelet-config.yaml`, kubeletConfig(c, h));
    add(`${K8S_DIR}/kube-proxy/kube-proxy-config.yaml`, kubeProxyConfig(c, h));
    add('/etc/coredns/Corefile', corefile(c));
    add('/etc/containerd/config.toml', containerdConfig(c, h));
    add('/etc/crictl.yaml', crictlConfig());
    add('/etc/cni/net.d/10-flannel.conflist', flannelConflist());
    add('/etc/cni/net.d/99-loopback.conf', loopbackConf());
    add('/etc/sysctl.d/99-kubernetes.conf', workerSysctl());
  }
  return files;
}
