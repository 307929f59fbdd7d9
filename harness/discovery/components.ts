// From a service's command line to what the component runs with: its flags (one parser), the
// config files and kubeconfig those name, and every file it uses with its role and source. Files
// are read in batches: first what the flags name, then what those files name.
import { posix } from 'node:path';
import type { HostAccess } from '../targets/target.ts';
import { parseContainerdConfig } from './parse/containerd-config.ts';
import { parseCorefile } from './parse/corefile.ts';
import { type FlagSet, parseFlags, withEnvironmentFlags } from './parse/flags.ts';
import { flannelOptions } from './parse/flannel.ts';
import { kubeProxyEffective, parseKubeProxyConfig } from './parse/kube-proxy-config.ts';
import { kubeSchedulerEffective, parseKubeSchedulerConfig } from './parse/kube-scheduler-config.ts';
import { parseKubeconfig } from './parse/kubeconfig.ts';
import { kubeletEffective, parseKubeletConfig } from './parse/kubelet-config.ts';
import type { ParseProblem } from './parse/problem.ts';
import type { ComponentFacts, FileRole, FileUse, KubeconfigFacts } from './facts.ts';
import { type RawService, readFiles } from './read-host.ts';

/** Flags naming files, per component, with the role the file plays. */
const FILE_FLAGS: Partial<Record<string, [string, FileRole][]>> = {
  'kube-apiserver': [
    ['tls-cert-file', 'serving-cert'],
    ['tls-private-key-file', 'serving-key'],
    ['client-ca-file', 'client-ca'],
    ['etcd-cafile', 'etcd-ca'],
    ['etcd-certfile', 'etcd-client-cert'],
    ['etcd-keyfile', 'etcd-client-key'],
    ['kubelet-certificate-authority', 'kubelet-ca'],
    ['kubelet-client-certificate', 'kubelet-client-cert'],
    ['kubelet-client-key', 'kubelet-client-key'],
    ['service-account-key-file', 'sa-verify-key'],
    ['service-account-signing-key-file', 'sa-signing-key'],
    ['token-auth-file', 'token-file'],
    ['encryption-provider-config', 'encryption-config'],
  ],
  'kube-controller-manager': [
    ['kubeconfig', 'kubeconfig'],
    ['cluster-signing-cert-file', 'cluster-signing-cert'],
    ['cluster-signing-key-file', 'cluster-signing-key'],
    ['root-ca-file', 'root-ca'],
    ['service-account-private-key-file', 'sa-signing-key'],
    ['tls-cert-file', 'serving-cert'],
    ['tls-private-key-file', 'serving-key'],
  ],
  'kube-scheduler': [
    ['config', 'config'],
    ['kubeconfig', 'kubeconfig'],
    ['tls-cert-file', 'serving-cert'],
    ['tls-private-key-file', 'serving-key'],
  ],
  kubelet: [
    ['config', 'config'],
    ['kubeconfig', 'kubeconfig'],
  ],
  'kube-proxy': [
    ['config', 'config'],
    ['kubeconfig', 'kubeconfig'],
  ],
  etcd: [
    ['cert-file', 'serving-cert'],
    ['key-file', 'serving-key'],
    ['trusted-ca-file', 'client-ca'],
    ['peer-cert-file', 'peer-cert'],
    ['peer-key-file', 'peer-key'],
    ['peer-trusted-ca-file', 'peer-ca'],
  ],
  flanneld: [
    ['etcd-cafile', 'etcd-ca'],
    ['etcd-certfile', 'etcd-client-cert'],
    ['etcd-keyfile', 'etcd-client-key'],
    ['kubeconfig-file', 'kubeconfig'],
  ],
  coredns: [['conf', 'config']],
  containerd: [['config', 'config']],
};

/** Where a component reads its config when no flag names one. */
const DEFAULT_CONFIG: Partial<Record<string, string>> = { containerd: '/etc/containerd/config.toml' };

function abs(path: string, relativeTo: string): string {
  return path.startsWith('/') ? path : posix.join(posix.dirname(relativeTo), path);
}

/** A kubeconfig reduced to what it names (files resolved against its folder, as client-go does). */
function kubeconfigFacts(path: string, text: string | undefined, problems: ParseProblem[], context?: string): KubeconfigFacts {
  if (text === undefined)
    return { path, missing: true, insecureSkipTLSVerify: false, clientCertEmbedded: false, clientKeyEmbedded: false, tokenEmbedded: false };
  const v = parseKubeconfig(text, path, context ? { context } : {});
  problems.push(...v.problems);
  const r = (p?: string) => (p ? abs(p, path) : undefined);
  const caFile = r(v.value.caFile);
  const clientCertFile = r(v.value.clientCertFile);
  const clientKeyFile = r(v.value.clientKeyFile);
  const tokenFile = r(v.value.tokenFile);
  return {
    ...v.value,
    path,
    ...(caFile ? { caFile } : {}),
    ...(clientCertFile ? { clientCertFile } : {}),
    ...(clientKeyFile ? { clientKeyFile } : {}),
    ...(tokenFile ? { tokenFile } : {}),
  };
}

function kubeconfigFileUses(k: KubeconfigFacts, source: string): FileUse[] {
  const via = k.path;
  return [
    ...(k.caFile ? [{ path: k.caFile, role: 'kubeconfig-ca' as const, source, via }] : []),
    ...(k.clientCertFile ? [{ path: k.clientCertFile, role: 'kubeconfig-client-cert' as const, source, via }] : []),
    ...(k.clientKeyFile ? [{ path: k.clientKeyFile, role: 'kubeconfig-client-key' as const, source, via }] : []),
  ];
}

/** Builds the facts of every component service found on a host. */
export async function componentFacts(
  host: string,
  h: HostAccess,
  services: RawService[],
  problems: ParseProblem[],
): Promise<ComponentFacts[]> {
  const parsed = services.map((s) => {
    const src = `${host}:${s.commandFile}`;
    const f = parseFlags(s.argv, { component: s.kind, source: src });
    problems.push(...f.problems);
    let flags: FlagSet = f.value;
    if (s.kind === 'etcd' || s.kind === 'flanneld') {
      const e = withEnvironmentFlags(flags, s.env, `${src} (environment)`);
      problems.push(...e.problems);
      flags = e.value;
    }
    return { s, src, flags };
  });
  // Round 1: files the flags name (configs, kubeconfigs), and the containerd config.
  const first = parsed.flatMap(({ s, flags }) => [
    ...(FILE_FLAGS[s.kind] ?? []).filter(([, role]) => role === 'config' || role === 'kubeconfig').flatMap(([flag]) => flags.all(flag)),
    ...(DEFAULT_CONFIG[s.kind] && !flags.has('config') ? [DEFAULT_CONFIG[s.kind]!] : []),
  ]);
  const texts = await readFiles(h, first);
  const out: ComponentFacts[] = [];
  const later: { c: ComponentFacts; kubeconfig: string; context?: string; source: string }[] = [];
  for (const { s, src, flags } of parsed) {
    const source = (flag: string) => `${src} --${flag}`;
    const files: FileUse[] = [];
    for (const [flag, role] of FILE_FLAGS[s.kind] ?? [])
      for (const path of flags.all(flag)) files.push({ path, role, source: source(flag) });
    const c: ComponentFacts = {
      kind: s.kind,
      host,
      unit: s.unit,
      definedIn: s.definedIn,
      argv: s.argv,
      flags,
      source,
      ...(s.state ? { state: s.state } : {}),
      files,
    };
    const cfgPath = flags.get(s.kind === 'coredns' ? 'conf' : 'config') ?? DEFAULT_CONFIG[s.kind];
    const cfgText = cfgPath ? texts.get(cfgPath) : undefined;
    if (cfgPath && cfgText === undefined && (flags.has('config') || flags.has('conf')))
      problems.push({ file: source(s.kind === 'coredns' ? 'conf' : 'config'), message: `${cfgPath} is not there or not readable` });
    switch (s.kind) {
      case 'kubelet': {
        const cfg = cfgText !== undefined && cfgPath ? parseKubeletConfig(cfgText, `${host}:${cfgPath}`) : undefined;
        if (cfg) problems.push(...cfg.problems);
        const eff = kubeletEffective(flags, cfg?.value, src);
        problems.push(...eff.problems);
        c.kubelet = eff.value;
        if (cfg) c.configRaw = cfg.value.raw;
        const k = eff.value;
        if (k.tlsCertFile)
          files.push({
            path: k.tlsCertFile,
            role: 'serving-cert',
            source: provenance(host, src, cfgPath, k.source.tlsCertFile, 'tlsCertFile'),
          });
        if (k.tlsPrivateKeyFile)
          files.push({
            path: k.tlsPrivateKeyFile,
            role: 'serving-key',
            source: provenance(host, src, cfgPath, k.source.tlsPrivateKeyFile, 'tlsPrivateKeyFile'),
          });
        if (k.clientCAFile)
          files.push({
            path: k.clientCAFile,
            role: 'client-ca',
            source: provenance(host, src, cfgPath, k.source.clientCAFile, 'authentication.x509.clientCAFile'),
          });
        if (flags.get('kubeconfig')) later.push({ c, kubeconfig: flags.get('kubeconfig')!, source: source('kubeconfig') });
        break;
      }
      case 'kube-proxy': {
        const cfg = cfgText !== undefined && cfgPath ? parseKubeProxyConfig(cfgText, `${host}:${cfgPath}`) : undefined;
        if (cfg) problems.push(...cfg.problems);
        const eff = kubeProxyEffective(flags, cfg?.value, src);
        problems.push(...eff.problems);
        c.kubeProxy = eff.value;
        if (cfg) c.configRaw = cfg.value.raw;
        if (eff.value.kubeconfig)
          later.push({
            c,
            kubeconfig: eff.value.kubeconfig,
            source: cfgPath && flags.has('config') ? `${host}:${cfgPath} clientConnection.kubeconfig` : source('kubeconfig'),
          });
        break;
      }
      case 'kube-scheduler': {
        const cfg = cfgText !== undefined && cfgPath ? parseKubeSchedulerConfig(cfgText, `${host}:${cfgPath}`) : undefined;
        if (cfg) problems.push(...cfg.problems);
        const eff = kubeSchedulerEffective(flags, cfg?.value, src);
        problems.push(...eff.problems);
        c.scheduler = eff.value;
        if (eff.value.kubeconfig)
          later.push({
            c,
            kubeconfig: eff.value.kubeconfig,
            source: cfgPath && flags.has('config') ? `${host}:${cfgPath} clientConnection.kubeconfig` : source('kubeconfig'),
          });
        break;
      }
      case 'kube-controller-manager':
        if (flags.get('kubeconfig')) later.push({ c, kubeconfig: flags.get('kubeconfig')!, source: source('kubeconfig') });
        break;
      case 'flanneld': {
        c.flannel = flannelOptions(flags);
        if (c.flannel.kubeconfigFile) later.push({ c, kubeconfig: c.flannel.kubeconfigFile, source: source('kubeconfig-file') });
        break;
      }
      case 'coredns': {
        const path = cfgPath ?? 'Corefile';
        if (cfgText !== undefined) {
          const cf = parseCorefile(cfgText, `${host}:${path}`);
          problems.push(...cf.problems);
          c.corefile = { path, value: cf.value };
          for (const srv of cf.value.servers) {
            const kp = srv.kubernetes;
            if (kp?.kubeconfig)
              later.push({
                c,
                kubeconfig: abs(kp.kubeconfig, path),
                ...(kp.context ? { context: kp.context } : {}),
                source: `${host}:${path} kubernetes kubeconfig`,
              });
          }
        }
        break;
      }
      case 'containerd': {
        const path = cfgPath ?? '/etc/containerd/config.toml';
        if (cfgText !== undefined) {
          const cc = parseContainerdConfig(cfgText, `${host}:${path}`);
          problems.push(...cc.problems);
          if (cc.value) c.containerd = { path, value: cc.value };
        }
        break;
      }
      default:
        break;
    }
    out.push(c);
  }
  // Round 2: the kubeconfigs named by config files (or flags), and their referenced files.
  const ktexts = await readFiles(
    h,
    later.map((l) => l.kubeconfig).filter((p) => !texts.has(p)),
  );
  for (const l of later) {
    const text = texts.has(l.kubeconfig) ? texts.get(l.kubeconfig) : ktexts.get(l.kubeconfig);
    const k = kubeconfigFacts(l.kubeconfig, text, problems, l.context);
    if (k.missing) problems.push({ file: l.source, message: `kubeconfig ${l.kubeconfig} is not there or not readable` });
    l.c.kubeconfig = k;
    if (!l.c.files.some((f) => f.path === l.kubeconfig && f.role === 'kubeconfig'))
      l.c.files.push({ path: l.kubeconfig, role: 'kubeconfig', source: l.source });
    l.c.files.push(...kubeconfigFileUses(k, l.source));
  }
  return out;
}

/** "host:/etc/kubelet.yaml tlsCertFile" when the value came from the config file, else the flag. */
function provenance(host: string, src: string, cfgPath: string | undefined, from: string | undefined, field: string): string {
  if (from?.startsWith('flag')) return `${src} ${from.replace(/^flag /, '')}`;
  return cfgPath ? `${host}:${cfgPath} ${field}` : `${src} (default)`;
}
