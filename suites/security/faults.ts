// Faults that prove the security suite: what an operator leaves open on a hand-built cluster.
// etcd-without-client-cert-auth exists only where etcd has client certificates to drop (the seed's
// layout; KTHW's etcd serves http on 127.0.0.1, which security.etcd-client-cert warns about).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fault } from '../../harness/faults/fault.ts';
import { healthy, kubectl, restart } from '../../harness/faults/ops.ts';
import { KUBELET_CONFIG as KTHW_KUBELET_CONFIG } from '../../harness/layouts/kthw/paths.ts';
import { type Cluster, layoutOf } from '../../harness/model/cluster.ts';
import { K8S_DIR } from '../../harness/pki/plan.ts';
import { PKI_DIR } from '../../harness/render/render.ts';
import { ADMIN_KUBECONFIG_CANDIDATES } from '../../harness/verify/kube.ts';

const ETCD_DROP_IN = '/etc/systemd/system/etcd.service.d/hardway-fault.conf';
/** Where the layout puts the kubelet's --config (the seed's folder, KTHW's /var/lib/kubelet). */
const kubeletConfig = (c: Cluster) => (layoutOf(c) === 'kthw' ? KTHW_KUBELET_CONFIG : `${K8S_DIR}/kubelet/kubelet-config.yaml`);
const KUBELET_BACKUP = '/root/kubelet-config.hardway-fault';
const ADMIN_ON_WORKER = '/root/.kube/config';

export const securityFaults: Fault[] = [
  {
    id: 'static-token-enabled',
    title: "the seed's static debugging token accepted by the apiserver (the lab keeps it on purpose)",
    on: 'lab',
    sharesHost: true, // nothing changes
    layoutsWhy: 'KTHW has no static token',
    expect: () => [],
    warn: (r) => [{ check: 'security.static-token', host: r.master, codes: ['static-token'] }],
    async inject() {},
    async repair() {},
  },
  {
    id: 'anonymous-can-list-namespaces',
    title: 'a binding that lets system:anonymous list namespaces',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'security.anonymous-auth', host: r.master, codes: ['anonymous-read'] }],
    async inject(env) {
      await kubectl(env, 'create clusterrole hardway-fault-anonymous --verb=list --resource=namespaces');
      await kubectl(env, 'create clusterrolebinding hardway-fault-anonymous --clusterrole=hardway-fault-anonymous --user=system:anonymous');
    },
    async repair(env) {
      await kubectl(env, 'delete clusterrolebinding hardway-fault-anonymous --ignore-not-found');
      await kubectl(env, 'delete clusterrole hardway-fault-anonymous --ignore-not-found');
    },
  },
  {
    id: 'etcd-without-client-cert-auth',
    title: 'etcd answering clients without a certificate',
    on: 'lab',
    alone: 'it restarts etcd, under the apiserver every check asks',
    layoutsWhy: "KTHW's etcd has no client certificates to drop (plain http on 127.0.0.1, which security.etcd-client-cert warns about)",
    expect: (r) => [{ check: 'security.etcd-client-cert', host: r.master, codes: ['etcd-no-client-cert'] }],
    async inject(env) {
      // A drop-in with etcd's command line minus --client-cert-auth and --trusted-ca-file (which
      // alone already makes etcd ask for client certificates).
      await env
        .host(env.master)
        .run(
          `mkdir -p ${ETCD_DROP_IN.replace(/\/[^/]+$/, '')} && { printf '[Service]\\nExecStart=\\n'; sed -n '/^ExecStart=/,/[^\\\\]$/p' /etc/systemd/system/etcd.service | grep -v -e '--client-cert-auth \\\\$' -e '--trusted-ca-file='; } > ${ETCD_DROP_IN}`,
        );
      await restart(env, env.master, 'etcd');
      await healthy(env, env.master, 'kube-apiserver', 120_000);
    },
    async repair(env) {
      await env.host(env.master).run(`rm -f ${ETCD_DROP_IN}`);
      await restart(env, env.master, 'etcd');
      await healthy(env, env.master, 'kube-apiserver', 120_000);
    },
  },
  {
    id: 'kubelet-anonymous-always-allow',
    title: "the first worker's kubelet taking anonymous requests with AlwaysAllow",
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'security.kubelet-auth', host: r.workers[0], codes: ['kubelet-anonymous-access'] }],
    async inject(env) {
      const w = env.workers[0]!;
      const KUBELET_CONFIG = kubeletConfig(env.cluster);
      await env
        .host(w)
        .run(
          `cp -p ${KUBELET_CONFIG} ${KUBELET_BACKUP} && sed -i '/^  anonymous:/,/^  [a-z]/ s/enabled: false/enabled: true/; s/^  mode: Webhook/  mode: AlwaysAllow/' ${KUBELET_CONFIG} && grep -A1 '^  anonymous:' ${KUBELET_CONFIG} | grep -q 'enabled: true' && grep -q 'mode: AlwaysAllow' ${KUBELET_CONFIG}`,
        );
      await restart(env, w, 'kubelet');
    },
    async repair(env) {
      const w = env.workers[0]!;
      await env.host(w).run(`if [ -f ${KUBELET_BACKUP} ]; then mv -f ${KUBELET_BACKUP} ${kubeletConfig(env.cluster)}; fi`);
      await restart(env, w, 'kubelet');
    },
  },
  {
    id: 'certificates-in-the-warning-window',
    title: 'every certificate inside a warning window longer than its life',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [r.master, ...r.workers].map((h) => ({ check: 'security.cert-expiry', host: h, codes: ['expires-soon'] })),
    options: () => ({ expiryWarningDays: 100_000 }),
    async inject() {},
    async repair() {},
  },
  {
    id: 'admin-kubeconfig-on-worker',
    title: "the master's admin kubeconfig copied to the first worker (root there is cluster-admin)",
    on: 'lab',
    sharesHost: true, // a file copied
    // It reads the kubeconfig on the master.
    touches: (r) => [r.master],
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'security.masters-credential-on-workers', host: r.workers[0], codes: ['masters-credential-on-worker'] }],
    async inject(env) {
      // Whichever admin kubeconfig the layout keeps on the master (the seed's ~/.kube/config, KTHW's
      // ~/admin.kubeconfig), where an operator would drop it on a worker.
      const found = ADMIN_KUBECONFIG_CANDIDATES.map((p) => `[ -f ${p} ] && cat ${p} && exit 0`).join('; ');
      const text = await env.host(env.master).run(`${found}; exit 1`);
      await env.host(env.workers[0]!).run('mkdir -p /root/.kube');
      await env.host(env.workers[0]!).ssh.writeFile(ADMIN_ON_WORKER, text, 0o600);
    },
    async repair(env) {
      await env.host(env.workers[0]!).run(`rm -f ${ADMIN_ON_WORKER}; rmdir /root/.kube 2>/dev/null || true`);
    },
  },
  {
    id: 'admin-cert-and-key-on-worker',
    title: "the admin's certificate and key left in the last worker's kubelet folder",
    on: 'tree',
    expect: (r) => [{ check: 'security.masters-credential-on-workers', host: r.workers.at(-1), codes: ['masters-credential-on-worker'] }],
    async inject(env) {
      const dir = join(env.renderedDir, env.workers.at(-1)!, K8S_DIR, 'kubelet');
      await copyFile(join(env.renderedDir, PKI_DIR, 'admin.pem'), join(dir, 'admin.pem'));
      await copyFile(join(env.renderedDir, PKI_DIR, 'admin-key.pem'), join(dir, 'admin-key.pem'));
    },
  },
];
