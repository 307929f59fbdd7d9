// KubeletConfiguration (kubelet.config.k8s.io/v1beta1), the fields checks read, and the kubelet's
// rule for what is in effect: a flag given on the command line overrides the file; without
// --config the kubelet runs on its legacy flag defaults (anonymous auth on, AlwaysAllow, read-only
// port 10255), which differ from the file's defaults (anonymous off, Webhook, no read-only port).
// Sources: pkg/kubelet/apis/config/v1beta1/defaults.go and cmd/kubelet/app/options/options.go
// (applyLegacyDefaults, AddKubeletConfigFlags) at v1.34.4.
import type { FlagSet } from './flags.ts';
import type { Parsed, ParseProblem } from './problem.ts';
import { YamlDoc } from './yaml-doc.ts';

export interface KubeletConfig {
  kind?: string;
  apiVersion?: string;
  clusterDomain?: string;
  clusterDNS?: string[];
  address?: string;
  port?: number;
  readOnlyPort?: number;
  healthzBindAddress?: string;
  healthzPort?: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
  anonymousAuth?: boolean;
  webhookAuthn?: boolean;
  authorizationMode?: string;
  cgroupDriver?: string;
  containerRuntimeEndpoint?: string;
  resolvConf?: string;
  staticPodPath?: string;
  podCIDR?: string;
  serverTLSBootstrap?: boolean;
  rotateCertificates?: boolean;
  failSwapOn?: boolean;
  /** The whole document, for fields not modelled here. */
  raw: Record<string, unknown>;
}

export function parseKubeletConfig(text: string, file: string): Parsed<KubeletConfig> {
  const d = new YamlDoc(text, file);
  const kv = d.expectKind('KubeletConfiguration', ['kubelet.config.k8s.io/v1beta1', 'kubelet.config.k8s.io/v1']);
  const c: KubeletConfig = { ...kv, raw: d.data };
  const set = <K extends keyof KubeletConfig>(k: K, v: KubeletConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('clusterDomain', d.str(['clusterDomain']));
  set('clusterDNS', d.strList(['clusterDNS']));
  set('address', d.str(['address']));
  set('port', d.num(['port']));
  set('readOnlyPort', d.num(['readOnlyPort']));
  set('healthzBindAddress', d.str(['healthzBindAddress']));
  set('healthzPort', d.num(['healthzPort']));
  set('tlsCertFile', d.str(['tlsCertFile']));
  set('tlsPrivateKeyFile', d.str(['tlsPrivateKeyFile']));
  set('clientCAFile', d.str(['authentication', 'x509', 'clientCAFile']));
  set('anonymousAuth', d.bool(['authentication', 'anonymous', 'enabled']));
  set('webhookAuthn', d.bool(['authentication', 'webhook', 'enabled']));
  set('authorizationMode', d.str(['authorization', 'mode']));
  set('cgroupDriver', d.str(['cgroupDriver']));
  set('containerRuntimeEndpoint', d.str(['containerRuntimeEndpoint']));
  set('resolvConf', d.str(['resolvConf']));
  set('staticPodPath', d.str(['staticPodPath']));
  set('podCIDR', d.str(['podCIDR']));
  set('serverTLSBootstrap', d.bool(['serverTLSBootstrap']));
  set('rotateCertificates', d.bool(['rotateCertificates']));
  set('failSwapOn', d.bool(['failSwapOn']));
  return { value: c, problems: d.list() };
}

/** What the kubelet runs with, and where each value came from. */
export interface KubeletEffective {
  clusterDomain: string;
  clusterDNS: string[];
  address: string;
  port: number;
  readOnlyPort: number;
  healthzBindAddress: string;
  healthzPort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
  anonymousAuth: boolean;
  webhookAuthn: boolean;
  authorizationMode: string;
  cgroupDriver: string;
  containerRuntimeEndpoint: string;
  resolvConf: string;
  staticPodPath?: string;
  podCIDR?: string;
  serverTLSBootstrap: boolean;
  rotateCertificates: boolean;
  /** --config, when the kubelet reads a file. */
  configFile?: string;
  /** --kubeconfig. */
  kubeconfig?: string;
  hostnameOverride?: string;
  nodeIP?: string;
  /** field -> "flag --x", "file <path>" or "default". */
  source: Record<string, string>;
}

type Field = Exclude<keyof KubeletEffective, 'source' | 'configFile' | 'kubeconfig' | 'hostnameOverride' | 'nodeIP'>;

/** Flags that set a KubeletConfiguration field (the deprecated config flags still work in 1.34). */
const FLAG_FIELD: Record<string, Field> = {
  'cluster-domain': 'clusterDomain',
  'cluster-dns': 'clusterDNS',
  address: 'address',
  port: 'port',
  'read-only-port': 'readOnlyPort',
  'healthz-bind-address': 'healthzBindAddress',
  'healthz-port': 'healthzPort',
  'tls-cert-file': 'tlsCertFile',
  'tls-private-key-file': 'tlsPrivateKeyFile',
  'client-ca-file': 'clientCAFile',
  'anonymous-auth': 'anonymousAuth',
  'authentication-token-webhook': 'webhookAuthn',
  'authorization-mode': 'authorizationMode',
  'cgroup-driver': 'cgroupDriver',
  'container-runtime-endpoint': 'containerRuntimeEndpoint',
  'resolv-conf': 'resolvConf',
  'pod-manifest-path': 'staticPodPath',
  'pod-cidr': 'podCIDR',
  'rotate-server-certificates': 'serverTLSBootstrap',
  'rotate-certificates': 'rotateCertificates',
};

const BOOL_FIELDS = new Set<Field>(['anonymousAuth', 'webhookAuthn', 'serverTLSBootstrap', 'rotateCertificates']);
const NUM_FIELDS = new Set<Field>(['port', 'readOnlyPort', 'healthzPort']);

/**
 * Merges defaults, the config file (when --config names one and the caller read it) and the
 * command line. `config` undefined with --config set: the file was not readable (a problem).
 */
export function kubeletEffective(flags: FlagSet, config: KubeletConfig | undefined, source = 'kubelet'): Parsed<KubeletEffective> {
  const problems: ParseProblem[] = [];
  const configFile = flags.get('config');
  const fromFile = configFile !== undefined;
  const e: KubeletEffective = {
    clusterDomain: '',
    clusterDNS: [],
    address: '0.0.0.0',
    port: 10250,
    readOnlyPort: fromFile ? 0 : 10255,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    anonymousAuth: !fromFile,
    webhookAuthn: fromFile,
    authorizationMode: fromFile ? 'Webhook' : 'AlwaysAllow',
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    resolvConf: '/etc/resolv.conf',
    serverTLSBootstrap: false,
    rotateCertificates: false,
    source: {},
    ...(configFile ? { configFile } : {}),
  };
  for (const k of Object.keys(e) as (keyof KubeletEffective)[]) if (k !== 'source' && k !== 'configFile') e.source[k] = 'default';
  const put = (k: Field, v: unknown, from: string) => {
    (e as unknown as Record<string, unknown>)[k] = v;
    e.source[k] = from;
  };
  if (configFile && !config)
    problems.push({ file: source, message: `--config=${configFile} could not be read: the kubelet refuses to start` });
  if (config) {
    for (const k of Object.values(FLAG_FIELD)) {
      const v = config[k as keyof KubeletConfig];
      if (v !== undefined) put(k, v, `file ${configFile ?? 'config'}`);
    }
  }
  for (const [flag, k] of Object.entries(FLAG_FIELD)) {
    if (!flags.has(flag)) continue;
    let v: unknown = flags.get(flag);
    if (k === 'clusterDNS') v = flags.list(flag);
    else if (BOOL_FIELDS.has(k)) v = flags.bool(flag);
    else if (NUM_FIELDS.has(k)) v = /^\d+$/.test(String(v)) ? Number(v) : undefined;
    if (v === undefined) {
      problems.push({ file: source, message: `--${flag}=${flags.get(flag)} is not a valid value: the kubelet refuses to start` });
      continue;
    }
    put(k, v, `flag --${flag}`);
  }
  const kc = flags.get('kubeconfig');
  if (kc) e.kubeconfig = kc;
  const ho = flags.get('hostname-override');
  if (ho) e.hostnameOverride = ho;
  const ip = flags.get('node-ip');
  if (ip) e.nodeIP = ip;
  return { value: e, problems };
}
