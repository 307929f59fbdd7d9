// Per-binary flag tables for flags.ts: which flags take no value (so "--name next" does not eat
// "next"), shorthands, and where the whole flag set is known, every flag name. Read from the
// binaries' own definitions at the versions hardway pins (harness/binaries/manifest.ts):
//   Kubernetes v1.34.4: the pflag flags that have a NoOptDefVal (bool flags, --version), taken
//     from each binary's --help (recorded in fixtures/recorded/help/, held to this table by
//     flag-tables.test.ts). Hidden (deprecated) flags do not show there, so Kubernetes tables
//     list no "known" set and an unknown flag is not reported.
//   etcd v3.5.16: server/etcdmain/config.go newConfig() (flag.FlagSet; the "ignored" legacy
//     flags are IgnoredFlag values with IsBoolFlag, so they take no value either).
//   flannel v0.28.10: main.go init() (flag.FlagSet, plus klog's v, vmodule, log_backtrace_at).
//   CoreDNS v1.14.7: coremain/run.go init() (the global flag set).
//   containerd v1.7.24 / v2.1: cmd/containerd/command/main.go (urfave/cli over Go's flag).
import type { Component } from './flags.ts';

export interface FlagTable {
  dialect: 'pflag' | 'goflag';
  /** Flags that take no separate value: bare "--name" means "true" (or noValueDefault). */
  noValue: ReadonlySet<string>;
  /** pflag NoOptDefVal other than "true". */
  noValueDefault?: Readonly<Record<string, string>>;
  /** Short or alias name -> canonical name. */
  shorthands?: Readonly<Record<string, string>>;
  /** Every flag the binary defines, where known for certain. */
  known?: ReadonlySet<string>;
}

const words = (s: string) => new Set(s.trim().split(/\s+/));

const ETCD_BOOL = words(`auto-tls client-cert-auth enable-grpc-gateway enable-log-rotation enable-pprof enable-v2
  experimental-compact-hash-check-enabled experimental-enable-distributed-tracing experimental-enable-lease-checkpoint
  experimental-enable-lease-checkpoint-persist experimental-initial-corrupt-check experimental-memory-mlock
  experimental-peer-skip-client-san-verification experimental-stop-grpc-service-on-defrag
  experimental-txn-mode-write-with-shared-buffer force-new-cluster initial-election-tick-advance peer-auto-tls
  peer-client-cert-auth pre-vote socket-reuse-address socket-reuse-port strict-reconfig-check unsafe-no-fsync version`);
const ETCD_IGNORED = words(`cluster-active-size cluster-remove-delay cluster-sync-interval config force max-result-buffer
  max-retry-attempts peer-heartbeat-interval peer-election-timeout retry-interval snapshot v vv test.coverprofile test.outputdir`);
const ETCD_VALUE = words(`advertise-client-urls auth-token auth-token-ttl auto-compaction-mode auto-compaction-retention
  backend-batch-interval backend-batch-limit backend-bbolt-freelist-type bcrypt-cost cert-file cipher-suites
  client-cert-allowed-hostname client-cert-file client-crl-file client-key-file config-file cors data-dir discovery
  discovery-fallback discovery-proxy discovery-srv discovery-srv-name election-timeout
  experimental-bootstrap-defrag-threshold-megabytes experimental-compact-hash-check-time experimental-compaction-batch-limit
  experimental-compaction-sleep-interval experimental-corrupt-check-time experimental-distributed-tracing-address
  experimental-distributed-tracing-instance-id experimental-distributed-tracing-sampling-rate
  experimental-distributed-tracing-service-name experimental-downgrade-check-time experimental-enable-v2v3
  experimental-snapshot-catchup-entries experimental-warning-apply-duration experimental-watch-progress-notify-interval
  grpc-keepalive-interval grpc-keepalive-min-time grpc-keepalive-timeout heartbeat-interval host-whitelist
  initial-advertise-peer-urls initial-cluster initial-cluster-state initial-cluster-token key-file listen-client-http-urls
  listen-client-urls listen-metrics-urls listen-peer-urls log-level log-outputs log-rotation-config-json logger
  max-concurrent-streams max-request-bytes max-snapshots max-txn-ops max-wals metrics name peer-cert-allowed-cn
  peer-cert-allowed-hostname peer-cert-file peer-client-cert-file peer-client-key-file peer-crl-file peer-key-file
  peer-trusted-ca-file proxy proxy-dial-timeout proxy-failure-wait proxy-read-timeout proxy-refresh-interval
  proxy-write-timeout quota-backend-bytes raft-read-timeout raft-write-timeout self-signed-cert-validity snapshot-count
  tls-max-version tls-min-version trusted-ca-file v2-deprecation wal-dir`);

const FLANNEL_BOOL = words(`ip-masq ip-masq-fully-random-disable kube-subnet-mgr version iptables-forward-rules
  ip-blackhole-route set-node-network-unavailable`);
const FLANNEL_VALUE = words(`etcd-endpoints etcd-prefix etcd-keyfile etcd-certfile etcd-cafile etcd-username etcd-password
  iface iface-regex iface-can-reach subnet-file public-ip public-ipv6 subnet-lease-renew-margin kube-api-url
  kube-annotation-prefix kubeconfig-file healthz-ip healthz-port iptables-resync net-config-path
  v vmodule log_backtrace_at`);

const COREDNS_BOOL = words('plugins version quiet');
const COREDNS_VALUE = words('conf pidfile dns.port p');

const CONTAINERD_BOOL = words('help version');
const CONTAINERD_VALUE = words('config log-level address root state');

const union = (...sets: ReadonlySet<string>[]) => new Set(sets.flatMap((s) => [...s]));

// Kubernetes v1.34.4, from the recorded --help (see the header).
const APISERVER_NO_VALUE = words(`aggregator-reject-forwarding-redirect allow-privileged anonymous-auth
  audit-log-batch-throttle-enable audit-log-compress audit-log-truncate-enabled
  audit-webhook-batch-throttle-enable audit-webhook-truncate-enabled contention-profiling
  disable-http2-serving emulation-forward-compatible enable-aggregator-routing
  enable-bootstrap-token-auth enable-garbage-collector enable-logs-handler
  enable-priority-and-fairness encryption-provider-config-automatic-reload help log-json-split-stream
  log-text-split-stream permit-address-sharing permit-port-sharing profiling
  runtime-config-emulation-forward-compatible service-account-extend-token-expiration
  service-account-lookup shutdown-send-retry-after version watch-cache`);
const CONTROLLER_MANAGER_NO_VALUE = words(`allocate-node-cidrs authentication-skip-lookup authentication-tolerate-lookup-failure
  configure-cloud-routes contention-profiling disable-attach-detach-reconcile-sync
  disable-force-detach-on-timeout disable-http2-serving enable-dynamic-provisioning
  enable-garbage-collector enable-hostpath-provisioner enable-leader-migration help leader-elect
  log-json-split-stream log-text-split-stream permit-address-sharing permit-port-sharing profiling
  use-service-account-credentials version`);
const SCHEDULER_NO_VALUE = words(`authentication-skip-lookup authentication-tolerate-lookup-failure contention-profiling
  disable-http2-serving help leader-elect log-json-split-stream log-text-split-stream
  permit-address-sharing permit-port-sharing profiling version`);
const KUBELET_NO_VALUE = words(`anonymous-auth authentication-token-webhook cgroups-per-qos contention-profiling cpu-cfs-quota
  enable-controller-attach-detach enable-debugging-handlers enable-load-reader enable-server
  exit-on-lock-contention experimental-allocatable-ignore-eviction fail-cgroupv1 fail-swap-on help
  kernel-memcg-notification local-storage-capacity-isolation log-cadvisor-usage log-json-split-stream
  log-text-split-stream make-iptables-util-chains protect-kernel-defaults register-node
  rotate-certificates rotate-server-certificates runonce serialize-image-pulls storage-driver-secure
  version`);
const PROXY_NO_VALUE = words(`bind-address-hard-fail cleanup conntrack-tcp-be-liberal help init-only iptables-localhost-nodeports
  ipvs-strict-arp log-json-split-stream log-text-split-stream masquerade-all profiling version`);

const K8S_SHORTHANDS = { v: 'v', h: 'help' };
const k8s = (noValue: ReadonlySet<string>): FlagTable => ({ dialect: 'pflag', noValue, shorthands: K8S_SHORTHANDS });

export const FLAG_TABLES: Readonly<Record<Component, FlagTable>> = {
  'kube-apiserver': k8s(APISERVER_NO_VALUE),
  'kube-controller-manager': k8s(CONTROLLER_MANAGER_NO_VALUE),
  'kube-scheduler': k8s(SCHEDULER_NO_VALUE),
  kubelet: k8s(KUBELET_NO_VALUE),
  'kube-proxy': k8s(PROXY_NO_VALUE),
  etcd: { dialect: 'goflag', noValue: union(ETCD_BOOL, ETCD_IGNORED), known: union(ETCD_BOOL, ETCD_IGNORED, ETCD_VALUE) },
  flanneld: { dialect: 'goflag', noValue: FLANNEL_BOOL, known: union(FLANNEL_BOOL, FLANNEL_VALUE) },
  coredns: { dialect: 'goflag', noValue: COREDNS_BOOL, known: union(COREDNS_BOOL, COREDNS_VALUE) },
  containerd: {
    dialect: 'goflag',
    noValue: CONTAINERD_BOOL,
    shorthands: { c: 'config', l: 'log-level', a: 'address', h: 'help', v: 'version' },
    known: union(CONTAINERD_BOOL, CONTAINERD_VALUE),
  },
};
