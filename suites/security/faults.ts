// Faults that prove the security suite: what an operator leaves open on a hand-built cluster.
import type { Fault } from '../../harness/faults/fault.ts';
import { healthy, kubectl, restart } from '../../harness/faults/ops.ts';
import { K8S_DIR } from '../../harness/pki/plan.ts';

const ETCD_DROP_IN = '/etc/systemd/system/etcd.service.d/hardway-fault.conf';
const KUBELET_CONFIG = `${K8S_DIR}/kubelet/kubelet-config.yaml`;
const KUBELET_BACKUP = '/root/kubelet-config.hardway-fault';

export const securityFaults: Fault[] = [
  {
    id: 'static-token-enabled', title: "the seed's static debugging token accepted by the apiserver (the lab keeps it on purpose)", on: 'lab',
    expect: () => [],
    warn: (r) => [{ check: 'security.static-token', host: r.master, codes: ['static-token'] }],
    async inject() {},
    async repair() {},
  },
  {
    id: 'anonymous-can-list-namespaces', title: 'a binding that lets system:anonymous list namespaces', on: 'lab',
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
    id: 'etcd-without-client-cert-auth', title: 'etcd answering clients without a certificate', on: 'lab',
    expect: (r) => [{ check: 'security.etcd-client-cert', host: r.master, codes: ['etcd-no-client-cert'] }],
    async inject(env) {
      // A drop-in with etcd's command line minus --client-cert-auth and --trusted-ca-file (which
      // alone already makes etcd ask for client certificates).
      await env.host(env.master).run(`mkdir -p ${ETCD_DROP_IN.replace(/\/[^/]+$/, '')} && { printf '[Service]\\nExecStart=\\n'; sed -n '/^ExecStart=/,/[^\\\\]$/p' /etc/systemd/system/etcd.service | grep -v -e '--client-cert-auth \\\\$' -e '--trusted-ca-file='; } > ${ETCD_DROP_IN}`);
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
    id: 'kubelet-anonymous-always-allow', title: "the first worker's kubelet taking anonymous requests with AlwaysAllow", on: 'lab',
    expect: (r) => [{ check: 'security.kubelet-auth', host: r.workers[0], codes: ['kubelet-anonymous-access'] }],
    async inject(env) {
      const w = env.workers[0]!;
      await env.host(w).run(`cp -p ${KUBELET_CONFIG} ${KUBELET_BACKUP} && sed -i '/^  anonymous:/,/^  [a-z]/ s/enabled: false/enabled: true/; s/^  mode: Webhook/  mode: AlwaysAllow/' ${KUBELET_CONFIG} && grep -A1 '^  anonymous:' ${KUBELET_CONFIG} | grep -q 'enabled: true' && grep -q 'mode: AlwaysAllow' ${KUBELET_CONFIG}`);
      await restart(env, w, 'kubelet');
    },
    async repair(env) {
      const w = env.workers[0]!;
      await env.host(w).run(`if [ -f ${KUBELET_BACKUP} ]; then mv -f ${KUBELET_BACKUP} ${KUBELET_CONFIG}; fi`);
      await restart(env, w, 'kubelet');
    },
  },
  {
    id: 'certificates-in-the-warning-window', title: 'every certificate inside a warning window longer than its life', on: 'lab',
    expect: (r) => [r.master, ...r.workers].map((h) => ({ check: 'security.cert-expiry', host: h, codes: ['expires-soon'] })),
    options: () => ({ expiryWarningDays: 100_000 }),
    async inject() {},
    async repair() {},
  },
];
