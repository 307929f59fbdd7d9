// KTHW's certificate plan: chapter 04's certificates (issued from its ca.conf profiles) and where
// chapters 04, 05, 07 and 08 put them and the kubeconfigs made from them.
import type { Cluster } from '../../model/cluster.ts';
import type { CertFile, CertPlan, CertProfile, CertSpec, KubeconfigFile } from '../../pki/plan.ts';
import { CA_PROFILE, kthwProfiles } from './profiles.ts';
import * as P from './paths.ts';

function spec(id: string, title: string, profile: CertProfile): CertSpec {
  const attr = (k: string) => profile.subject.find(([a]) => a === k)?.[1];
  const o = attr('O');
  return {
    id,
    title,
    cn: attr('CN')!,
    ...(o ? { o } : {}),
    usages: profile.extendedKeyUsage ?? [],
    dnsNames: (profile.altNames ?? []).filter((a) => a.type === 'dns').map((a) => a.value),
    ipAddresses: (profile.altNames ?? []).filter((a) => a.type === 'ip').map((a) => a.value),
    profile,
  };
}

export function kthwCertPlan(c: Cluster): CertPlan {
  const ca = spec('ca', 'cluster CA (ca.conf [req])', CA_PROFILE);
  const certs = new Map(kthwProfiles(c).map((p) => [p.section, spec(p.section, `${p.section} (ca.conf [${p.section}])`, p.profile)]));
  const get = (id: string) => certs.get(id)!;
  const server = c.masters[0]!;
  const files: CertFile[] = [
    // Chapter 08: ca, kube-api-server and service-accounts pairs into /var/lib/kubernetes.
    { host: server.host, cert: P.CA_CRT, key: P.CA_KEY, spec: ca },
    { host: server.host, cert: P.API_SERVER_CRT, key: P.API_SERVER_KEY, spec: get('kube-api-server') },
    { host: server.host, cert: P.SA_CRT, key: P.SA_KEY, spec: get('service-accounts') },
    // Chapter 07: etcd's copies (its unit serves plain http and does not read them).
    { host: server.host, cert: `${P.ETCD_DIR}/ca.crt`, spec: ca },
    {
      host: server.host,
      cert: `${P.ETCD_DIR}/kube-api-server.crt`,
      key: `${P.ETCD_DIR}/kube-api-server.key`,
      spec: get('kube-api-server'),
    },
  ];
  const kubeconfigs: KubeconfigFile[] = [
    { host: server.host, path: P.KCM_KUBECONFIG, spec: get('kube-controller-manager'), component: 'kube-controller-manager' },
    { host: server.host, path: P.SCHEDULER_KUBECONFIG, spec: get('kube-scheduler'), component: 'kube-scheduler' },
    { host: server.host, path: P.ADMIN_KUBECONFIG, spec: get('admin'), component: 'admin (kubectl)' },
  ];
  for (const w of c.workers) {
    // Chapter 04: ca.crt and the node's pair as kubelet.crt/kubelet.key; chapter 05: kubeconfigs.
    files.push({ host: w.host, cert: P.KUBELET_CA, spec: ca });
    files.push({ host: w.host, cert: P.KUBELET_CRT, key: P.KUBELET_KEY, spec: get(w.host) });
    kubeconfigs.push({ host: w.host, path: P.KUBELET_KUBECONFIG, spec: get(w.host), component: 'kubelet' });
    kubeconfigs.push({ host: w.host, path: P.KUBE_PROXY_KUBECONFIG, spec: get('kube-proxy'), component: 'kube-proxy' });
  }
  return { ca, certs: [...certs.values()], files, kubeconfigs, caKeyHosts: [server.host] };
}
