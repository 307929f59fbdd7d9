// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) and what kube-scheduler runs with.
// With --config the file gives the kubeconfig; the deprecated --kubeconfig flag is then ignored,
// while the --leader-elect* flags still apply over the file (cmd/kube-scheduler/app/options
// ApplyTo at v1.34.4). Leader election defaults to on, lease kube-system/kube-scheduler.
import type { FlagSet } from './flags.ts';
import type { Parsed, ParseProblem } from './problem.ts';
import { YamlDoc } from './yaml-doc.ts';

export interface KubeSchedulerConfig {
  kind?: string;
  apiVersion?: string;
  kubeconfig?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  raw: Record<string, unknown>;
}

export function parseKubeSchedulerConfig(text: string, file: string): Parsed<KubeSchedulerConfig> {
  const d = new YamlDoc(text, file);
  const c: KubeSchedulerConfig = { ...d.expectKind('KubeSchedulerConfiguration', ['kubescheduler.config.k8s.io/v1']), raw: d.data };
  const set = <K extends keyof KubeSchedulerConfig>(k: K, v: KubeSchedulerConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('kubeconfig', d.str(['clientConnection', 'kubeconfig']));
  set('leaderElect', d.bool(['leaderElection', 'leaderElect']));
  set('leaseNamespace', d.str(['leaderElection', 'resourceNamespace']));
  set('leaseName', d.str(['leaderElection', 'resourceName']));
  return { value: c, problems: d.list() };
}

export interface KubeSchedulerEffective {
  configFile?: string;
  kubeconfig?: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  /** --secure-port (default 10259) and --bind-address (default 0.0.0.0) serve /healthz. */
  securePort: number;
  bindAddress: string;
  ignoredFlags: string[];
}

export function kubeSchedulerEffective(
  flags: FlagSet,
  config: KubeSchedulerConfig | undefined,
  source = 'kube-scheduler',
): Parsed<KubeSchedulerEffective> {
  const problems: ParseProblem[] = [];
  const configFile = flags.get('config');
  if (configFile && !config)
    problems.push({ file: source, message: `--config=${configFile} could not be read: kube-scheduler refuses to start` });
  const fromFile = configFile ? (config ?? { raw: {} }) : undefined;
  const kubeconfig = fromFile ? fromFile.kubeconfig : flags.get('kubeconfig');
  const le = flags.bool('leader-elect') ?? fromFile?.leaderElect ?? true;
  return {
    value: {
      ...(configFile ? { configFile } : {}),
      ...(kubeconfig ? { kubeconfig } : {}),
      leaderElect: le,
      leaseNamespace: flags.get('leader-elect-resource-namespace') ?? fromFile?.leaseNamespace ?? 'kube-system',
      leaseName: flags.get('leader-elect-resource-name') ?? fromFile?.leaseName ?? 'kube-scheduler',
      securePort: Number(flags.get('secure-port') ?? 10259),
      bindAddress: flags.get('bind-address') ?? '0.0.0.0',
      ignoredFlags: configFile && flags.has('kubeconfig') ? ['kubeconfig'] : [],
    },
    problems,
  };
}
