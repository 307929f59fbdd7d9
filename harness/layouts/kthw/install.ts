// How the installer lays KTHW out and starts it, following its chapters: 03 (the /etc/hosts
// block), 07 (etcd), 08 (the control plane started together, then the RBAC), 09 (each node's
// containerd, kubelet and kube-proxy started together), 11 (static routes to each node's pod
// subnet). Where a chapter's command cannot run on a lab node, deviations.ts says why.
import type { Cluster, Host } from '../../model/cluster.ts';
import type { HealthSignal } from '../../installer/health.ts';
import { shq } from '../../installer/remote.ts';
import type { BinaryPlacement, HostCommand, InstallStep } from '../layout.ts';
import { hostsBlock } from './configs.ts';
import { fqdn } from './profiles.ts';
import * as P from './paths.ts';

export const KUBECTL = `kubectl --kubeconfig ${P.ADMIN_KUBECONFIG}`;

export function kthwBinaries(_c: Cluster, h: Host): BinaryPlacement[] {
  // Chapter 08: the controller binaries and kubectl; chapter 09: kubelet and kube-proxy.
  const names =
    h.role === 'master' ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] : ['kubelet', 'kube-proxy'];
  return names.map((b) => ({ binary: b, path: `/usr/local/bin/${b}` }));
}

/** Chapter 03 on one machine: its 127.0.1.1 line names it by FQDN, and the hosts block is appended (once). */
function etcHosts(c: Cluster, h: Host): string {
  // /etc/hosts is Docker's bind mount in the lab: written in place, never replaced (sed -i would).
  const line = `127.0.1.1\\t${fqdn(h)} ${h.host}`;
  return (
    `hosts=$(sed 's/^127.0.1.1.*/${line}/' /etc/hosts) && printf '%s\\n' "$hosts" > /etc/hosts && ` +
    `{ grep -qx '# Kubernetes The Hard Way' /etc/hosts || printf %s ${shq(hostsBlock(c, fqdn))} >> /etc/hosts; }`
  );
}

export function kthwPrepare(c: Cluster, h: Host): string {
  if (h.role === 'master') {
    return [
      etcHosts(c, h),
      // Chapter 07's etcd and etcdctl in /usr/local/bin: Debian's etcd 3.5 (deviations: binary-links).
      'ln -sf /usr/bin/etcd /usr/local/bin/etcd && ln -sf /usr/bin/etcdctl /usr/local/bin/etcdctl',
      'mkdir -p /etc/etcd /var/lib/etcd && chmod 700 /var/lib/etcd',
      'mkdir -p /etc/kubernetes/config /var/lib/kubernetes',
      'systemctl daemon-reload',
    ].join(' && ');
  }
  return [
    etcHosts(c, h),
    'mkdir -p /etc/cni/net.d /opt/cni/bin /var/lib/kubelet /var/lib/kube-proxy /var/lib/kubernetes /var/run/kubernetes',
    // Debian's runc where chapter 09 puts it; /bin/containerd is Debian's already (merged /usr).
    'ln -sf /usr/bin/runc /usr/local/bin/runc && test -x /bin/containerd',
    // br_netfilter is built into the lab's kernel: modprobe has no /lib/modules to look in.
    '{ modprobe br-netfilter 2>/dev/null || test -e /proc/sys/net/bridge/bridge-nf-call-iptables; }',
    `sysctl -q -p ${P.SYSCTL_CONF}`,
    'systemctl daemon-reload',
  ].join(' && ');
}

export function kthwSteps(_c: Cluster, h: Host): InstallStep[] {
  if (h.role === 'master') {
    return [
      { say: 'starting etcd (chapter 07)', start: ['etcd'], wait: ['etcd'] },
      {
        say: 'starting kube-apiserver, kube-controller-manager and kube-scheduler (chapter 08)',
        start: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
        wait: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
        waitTimeoutMs: 120_000,
      },
      { say: 'RBAC for kubelet authorization (chapter 08)', run: `cd ${P.ROOT_HOME} && ${KUBECTL} apply -f ${P.RBAC_FILE} >/dev/null` },
    ];
  }
  return [
    {
      say: 'starting containerd, kubelet and kube-proxy (chapter 09)',
      start: ['containerd', 'kubelet', 'kube-proxy'],
      wait: ['containerd', 'kubelet', 'kube-proxy'],
    },
  ];
}

/** Chapter 11: the server routes every node's pod subnet to it, each node every other node's. */
export function kthwRoutes(c: Cluster): HostCommand[] {
  const routes = (others: Host[]) => others.map((w) => `ip route replace ${w.podSubnet} via ${w.address}`).join(' && ');
  return [
    { host: c.masters[0]!.host, say: 'pod network routes to every node (chapter 11)', run: routes(c.workers) },
    ...c.workers
      .map((w) => ({
        host: w.host,
        say: 'pod network routes to the other nodes (chapter 11)',
        run: routes(c.workers.filter((x) => x !== w)),
      }))
      .filter((x) => x.run),
  ];
}

export function kthwHealth(c: Cluster, component: string): HealthSignal {
  switch (component) {
    case 'etcd':
      return {
        signal: 'etcdctl endpoint health (http://127.0.0.1:2379)',
        command: 'etcdctl --endpoints=http://127.0.0.1:2379 endpoint health',
      };
    case 'kube-apiserver':
      return {
        signal: `https://127.0.0.1:${c.apiserver.port}/readyz`,
        command: `curl -sf --cacert ${P.CA_CRT} https://127.0.0.1:${c.apiserver.port}/readyz`,
      };
    case 'kube-controller-manager':
      return { signal: 'https://127.0.0.1:10257/healthz', command: 'curl -sfk https://127.0.0.1:10257/healthz' };
    case 'kube-scheduler':
      return { signal: 'https://127.0.0.1:10259/healthz', command: 'curl -sfk https://127.0.0.1:10259/healthz' };
    case 'containerd':
      return { signal: 'ctr version', command: 'ctr version' };
    case 'kubelet':
      return { signal: 'http://127.0.0.1:10248/healthz', command: 'curl -sf http://127.0.0.1:10248/healthz' };
    case 'kube-proxy':
      return { signal: 'http://127.0.0.1:10256/healthz', command: 'curl -sf http://127.0.0.1:10256/healthz' };
    default:
      throw new Error(`the kthw layout has no component ${component}`);
  }
}
