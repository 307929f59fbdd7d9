// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) and what kube-proxy runs with. With
// --config the file is everything: kube-proxy ignores its other flags except --hostname-override
// and the logging flags (cmd/kube-proxy/app/options.go Complete() at v1.34.4); without it the
// flags are read. Defaults (pkg/proxy/apis/config/v1alpha1/defaults.go): healthz 0.0.0.0:10256,
// metrics 127.0.0.1:10249, an address without a port gets the default port, mode "" = iptables.
import type { FlagSet } from './flags.ts';
import type { Parsed, ParseProblem } from './problem.ts';
import { YamlDoc } from './yaml-doc.ts';

export interface KubeProxyConfig {
  kind?: string;
  apiVersion?: string;
  kubeconfig?: string;
  mode?: string;
  clusterCIDR?: string;
  hostnameOverride?: string;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  bindAddress?: string;
  raw: Record<string, unknown>;
}

export function parseKubeProxyConfig(text: string, file: string): Parsed<KubeProxyConfig> {
  const d = new YamlDoc(text, file);
  const c: KubeProxyConfig = { ...d.expectKind('KubeProxyConfiguration', ['kubeproxy.config.k8s.io/v1alpha1']), raw: d.data };
  const set = <K extends keyof KubeProxyConfig>(k: K, v: KubeProxyConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('kubeconfig', d.str(['clientConnection', 'kubeconfig']));
  set('mode', d.str(['mode']));
  set('clusterCIDR', d.str(['clusterCIDR']));
  set('hostnameOverride', d.str(['hostnameOverride']));
  set('healthzBindAddress', d.str(['healthzBindAddress']));
  set('metricsBindAddress', d.str(['metricsBindAddress']));
  set('bindAddress', d.str(['bindAddress']));
  return { value: c, problems: d.list() };
}

export interface KubeProxyEffective {
  configFile?: string;
  kubeconfig?: string;
  /** "iptables", "ipvs", "nftables". */
  mode: string;
  clusterCIDR?: string;
  hostnameOverride?: string;
  healthzBindAddress: string;
  /** "" disables the metrics server. */
  metricsBindAddress: string;
  /** Flags on the command line that kube-proxy ignores because of --config. */
  ignoredFlags: string[];
}

/** proxyutil.AppendPortIfNeeded: "1.2.3.4" -> "1.2.3.4:port", "::1" -> "[::1]:port". */
export function withDefaultPort(addr: string, port: number): string {
  if (/^\[.*\]:\d+$/.test(addr) || /^[^:]+:\d+$/.test(addr)) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

const LOGGING = new Set([
  'v',
  'vmodule',
  'logging-format',
  'log-flush-frequency',
  'log-text-split-stream',
  'log-text-info-buffer-size',
  'log-json-split-stream',
  'log-json-info-buffer-size',
]);

export function kubeProxyEffective(flags: FlagSet, config: KubeProxyConfig | undefined, source = 'kube-proxy'): Parsed<KubeProxyEffective> {
  const problems: ParseProblem[] = [];
  const configFile = flags.get('config');
  const hostnameOverride = flags.get('hostname-override')?.trim().toLowerCase();
  if (configFile) {
    if (!config) problems.push({ file: source, message: `--config=${configFile} could not be read: kube-proxy refuses to start` });
    const c = config ?? { raw: {} };
    const ignored = [...new Set(flags.occurrences.map((o) => o.name))].filter(
      (n) => n !== 'config' && n !== 'hostname-override' && !LOGGING.has(n),
    );
    return {
      value: {
        configFile,
        ...(c.kubeconfig ? { kubeconfig: c.kubeconfig } : {}),
        mode: c.mode || 'iptables',
        ...(c.clusterCIDR ? { clusterCIDR: c.clusterCIDR } : {}),
        ...(hostnameOverride || c.hostnameOverride ? { hostnameOverride: hostnameOverride || c.hostnameOverride!.toLowerCase() } : {}),
        healthzBindAddress: c.healthzBindAddress ? withDefaultPort(c.healthzBindAddress, 10256) : '0.0.0.0:10256',
        metricsBindAddress:
          c.metricsBindAddress === undefined
            ? '127.0.0.1:10249'
            : c.metricsBindAddress === ''
              ? ''
              : withDefaultPort(c.metricsBindAddress, 10249),
        ignoredFlags: ignored,
      },
      problems,
    };
  }
  const healthzPort = flags.get('healthz-port');
  const metricsPort = flags.get('metrics-port');
  const kubeconfig = flags.get('kubeconfig');
  const clusterCIDR = flags.get('cluster-cidr');
  return {
    value: {
      ...(kubeconfig ? { kubeconfig } : {}),
      mode: flags.get('proxy-mode') || 'iptables',
      ...(clusterCIDR ? { clusterCIDR } : {}),
      ...(hostnameOverride ? { hostnameOverride } : {}),
      healthzBindAddress: withDefaultPort(flags.get('healthz-bind-address') ?? '0.0.0.0', Number(healthzPort ?? 10256)),
      metricsBindAddress: withDefaultPort(flags.get('metrics-bind-address') ?? '127.0.0.1', Number(metricsPort ?? 10249)),
      ignoredFlags: [],
    },
    problems,
  };
}
