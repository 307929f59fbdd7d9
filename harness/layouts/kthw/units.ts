// KTHW's systemd units (its units/ folder) as data, rendered line by line in KTHW's own format:
// [Unit], [Service] with ExecStart continued over "  <flag>" lines, [Install]. Values the model
// decides (CIDRs, the server's name) come from the model; everything else is KTHW's.
import type { Cluster } from '../../model/cluster.ts';
import { fqdn } from './profiles.ts';
import * as P from './paths.ts';

export interface UnitSpec {
  name: string;
  unit: [string, string][];
  /** [Service] lines; ExecStart's value is the binary followed by one argument line each. */
  service: [string, string | string[]][];
  install: [string, string][];
}

export function renderUnit(u: UnitSpec): string {
  const line = ([k, v]: [string, string | string[]]) => (Array.isArray(v) ? `${k}=${v.join(' \\\n  ')}` : `${k}=${v}`);
  return ['[Unit]', ...u.unit.map(line), '', '[Service]', ...u.service.map(line), '', '[Install]', ...u.install.map(line), ''].join('\n');
}

const RESTART: [string, string][] = [
  ['Restart', 'on-failure'],
  ['RestartSec', '5'],
];
const INSTALL: [string, string][] = [['WantedBy', 'multi-user.target']];
const K8S_DOC: [string, string] = ['Documentation', 'https://github.com/kubernetes/kubernetes'];

export interface UnitOptions {
  /** Adds --service-cluster-ip-range to kube-apiserver (the lab's fix of a KTHW defect, see deviations.ts). */
  apiserverServiceRange: boolean;
}

export function etcdUnit(): UnitSpec {
  return {
    name: 'etcd',
    unit: [
      ['Description', 'etcd'],
      ['Documentation', 'https://github.com/etcd-io/etcd'],
    ],
    service: [
      ['Type', 'notify'],
      [
        'ExecStart',
        [
          '/usr/local/bin/etcd',
          '--name controller',
          '--initial-advertise-peer-urls http://127.0.0.1:2380',
          '--listen-peer-urls http://127.0.0.1:2380',
          '--listen-client-urls http://127.0.0.1:2379',
          '--advertise-client-urls http://127.0.0.1:2379',
          '--initial-cluster-token etcd-cluster-0',
          '--initial-cluster controller=http://127.0.0.1:2380',
          '--initial-cluster-state new',
          '--data-dir=/var/lib/etcd',
        ],
      ],
      ...RESTART,
    ],
    install: INSTALL,
  };
}

export function apiserverUnit(c: Cluster, o: UnitOptions): UnitSpec {
  const args = [
    '/usr/local/bin/kube-apiserver',
    '--allow-privileged=true',
    '--audit-log-maxage=30',
    '--audit-log-maxbackup=3',
    '--audit-log-maxsize=100',
    '--audit-log-path=/var/log/audit.log',
    '--authorization-mode=Node,RBAC',
    '--bind-address=0.0.0.0',
    `--client-ca-file=${P.CA_CRT}`,
    '--enable-admission-plugins=NamespaceLifecycle,NodeRestriction,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota',
    '--etcd-servers=http://127.0.0.1:2379',
    '--event-ttl=1h',
    `--encryption-provider-config=${P.ENCRYPTION_CONFIG}`,
    `--kubelet-certificate-authority=${P.CA_CRT}`,
    `--kubelet-client-certificate=${P.API_SERVER_CRT}`,
    `--kubelet-client-key=${P.API_SERVER_KEY}`,
    "--runtime-config='api/all=true'",
    `--service-account-key-file=${P.SA_CRT}`,
    `--service-account-signing-key-file=${P.SA_KEY}`,
    `--service-account-issuer=https://${fqdn(c.masters[0]!)}:${c.apiserver.port}`,
    ...(o.apiserverServiceRange ? [`--service-cluster-ip-range=${c.serviceCIDR}`] : []),
    '--service-node-port-range=30000-32767',
    `--tls-cert-file=${P.API_SERVER_CRT}`,
    `--tls-private-key-file=${P.API_SERVER_KEY}`,
    '--v=2',
  ];
  return {
    name: 'kube-apiserver',
    unit: [['Description', 'Kubernetes API Server'], K8S_DOC],
    service: [['ExecStart', args], ...RESTART],
    install: INSTALL,
  };
}

export function controllerManagerUnit(c: Cluster): UnitSpec {
  return {
    name: 'kube-controller-manager',
    unit: [['Description', 'Kubernetes Controller Manager'], K8S_DOC],
    service: [
      [
        'ExecStart',
        [
          '/usr/local/bin/kube-controller-manager',
          '--bind-address=0.0.0.0',
          `--cluster-cidr=${c.podCIDR}`,
          // KTHW's name, not the model's (the model's name is the lab's).
          '--cluster-name=kubernetes',
          `--cluster-signing-cert-file=${P.CA_CRT}`,
          `--cluster-signing-key-file=${P.CA_KEY}`,
          `--kubeconfig=${P.KCM_KUBECONFIG}`,
          `--root-ca-file=${P.CA_CRT}`,
          `--service-account-private-key-file=${P.SA_KEY}`,
          `--service-cluster-ip-range=${c.serviceCIDR}`,
          '--use-service-account-credentials=true',
          '--v=2',
        ],
      ],
      ...RESTART,
    ],
    install: INSTALL,
  };
}

export function schedulerUnit(): UnitSpec {
  return {
    name: 'kube-scheduler',
    unit: [['Description', 'Kubernetes Scheduler'], K8S_DOC],
    service: [['ExecStart', ['/usr/local/bin/kube-scheduler', `--config=${P.SCHEDULER_CONFIG}`, '--v=2']], ...RESTART],
    install: INSTALL,
  };
}

export function containerdUnit(): UnitSpec {
  return {
    name: 'containerd',
    unit: [
      ['Description', 'containerd container runtime'],
      ['Documentation', 'https://containerd.io'],
      ['After', 'network.target'],
    ],
    service: [
      ['ExecStartPre', '/sbin/modprobe overlay'],
      ['ExecStart', '/bin/containerd'],
      ['Restart', 'always'],
      ['RestartSec', '5'],
      ['Delegate', 'yes'],
      ['KillMode', 'process'],
      ['OOMScoreAdjust', '-999'],
      ['LimitNOFILE', '1048576'],
      ['LimitNPROC', 'infinity'],
      ['LimitCORE', 'infinity'],
    ],
    install: INSTALL,
  };
}

export function kubeletUnit(): UnitSpec {
  return {
    name: 'kubelet',
    unit: [['Description', 'Kubernetes Kubelet'], K8S_DOC, ['After', 'containerd.service'], ['Requires', 'containerd.service']],
    service: [
      ['ExecStart', ['/usr/local/bin/kubelet', `--config=${P.KUBELET_CONFIG}`, `--kubeconfig=${P.KUBELET_KUBECONFIG}`, '--v=2']],
      ...RESTART,
    ],
    install: INSTALL,
  };
}

export function kubeProxyUnit(): UnitSpec {
  return {
    name: 'kube-proxy',
    unit: [['Description', 'Kubernetes Kube Proxy'], K8S_DOC],
    service: [['ExecStart', ['/usr/local/bin/kube-proxy', `--config=${P.KUBE_PROXY_CONFIG}`]], ...RESTART],
    install: INSTALL,
  };
}
