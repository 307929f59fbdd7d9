// containerd's config.toml (and `containerd config dump`, the same format with every default
// filled in), the CRI settings checks read, for the three schema versions:
//   version 1 (containerd 1.x, no "version"): [plugins.cri] ...
//   version 2 (containerd 1.x): [plugins."io.containerd.grpc.v1.cri"] sandbox_image, enable_tls_streaming,
//     restrict_oom_score_adj, .containerd.snapshotter/default_runtime_name/runtimes.<r>.options, .cni
//   version 3 (containerd 2.x): images in [plugins.'io.containerd.cri.v1.images'] (snapshotter,
//     pinned_images.sandbox), runtime in [plugins.'io.containerd.cri.v1.runtime'] (restrict_oom_score_adj,
//     containerd.runtimes, cni bin_dir/bin_dirs/conf_dir), streaming stays in io.containerd.grpc.v1.cri.
// Defaults where the file is silent: containerd 1.7 (pkg/cri/config/config_unix.go) for v1/v2,
// 2.1 (internal/cri/config) for v3. `imports` are listed for the caller, not followed.
import { TomlError, parse } from 'smol-toml';
import { type Parsed, Problems } from './problem.ts';

export interface ContainerdConfig {
  /** Schema version: 1 when the file has none. */
  version: number;
  /** Where the CRI API listens ([grpc] address). */
  grpcAddress: string;
  sandboxImage: string;
  snapshotter: string;
  defaultRuntime: string;
  /** SystemdCgroup of the default runtime's options (runc). */
  systemdCgroup: boolean;
  cniBinDirs: string[];
  cniConfDir: string;
  enableTlsStreaming: boolean;
  restrictOomScoreAdj: boolean;
  /** Other files this config imports (globs allowed). */
  imports: string[];
  /** field -> "file" or "default". */
  source: Record<string, 'file' | 'default'>;
  raw: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function at(o: unknown, ...path: string[]): unknown {
  let v = o;
  for (const k of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Obj)[k];
  }
  return v;
}

export function parseContainerdConfig(text: string, file: string): Parsed<ContainerdConfig | undefined> {
  const p = new Problems(file);
  let doc: Obj;
  try {
    doc = parse(text) as Obj;
  } catch (e) {
    if (e instanceof TomlError) p.add(`not valid TOML: ${e.message.split('\n')[0]}`, e.line);
    else p.add(`not valid TOML: ${String(e)}`);
    return { value: undefined, problems: p.list };
  }
  const version = typeof doc.version === 'number' ? doc.version : 1;
  if (![1, 2, 3].includes(version)) p.add(`version = ${String(doc.version)}: containerd knows versions 1, 2 and 3`);
  const source: ContainerdConfig['source'] = {};
  const pick = <T>(name: string, want: 'string' | 'boolean', def: T, ...paths: string[][]): T => {
    for (const path of paths) {
      const v = at(doc, ...path);
      if (v === undefined) continue;
      if (typeof v !== want) {
        p.add(`${path.join('.')} should be a ${want}, is ${JSON.stringify(v)}`);
        continue;
      }
      source[name] = 'file';
      return v as T;
    }
    source[name] = 'default';
    return def;
  };
  const cri = version === 1 ? ['plugins', 'cri'] : ['plugins', 'io.containerd.grpc.v1.cri'];
  const images = ['plugins', 'io.containerd.cri.v1.images'];
  const runtime = ['plugins', 'io.containerd.cri.v1.runtime'];
  const v3 = version === 3;
  const rt = v3 ? runtime : cri;
  const defaultRuntime = pick('defaultRuntime', 'string', 'runc', [...rt, 'containerd', 'default_runtime_name']);
  const sandboxImage = pick(
    'sandboxImage',
    'string',
    v3 ? 'registry.k8s.io/pause:3.10' : 'registry.k8s.io/pause:3.8',
    ...(v3 ? [[...images, 'pinned_images', 'sandbox']] : [[...cri, 'sandbox_image']]),
  );
  const snapshotter = pick('snapshotter', 'string', 'overlayfs', v3 ? [...images, 'snapshotter'] : [...cri, 'containerd', 'snapshotter']);
  const systemdCgroup = pick('systemdCgroup', 'boolean', false, [
    ...rt,
    'containerd',
    'runtimes',
    defaultRuntime,
    'options',
    'SystemdCgroup',
  ]);
  const binDirsV = at(doc, ...rt, 'cni', 'bin_dirs');
  let cniBinDirs: string[];
  if (Array.isArray(binDirsV) && binDirsV.every((x) => typeof x === 'string') && binDirsV.length) {
    cniBinDirs = binDirsV as string[];
    source.cniBinDirs = 'file';
  } else cniBinDirs = [pick('cniBinDirs', 'string', '/opt/cni/bin', [...rt, 'cni', 'bin_dir'])];
  const cniConfDir = pick('cniConfDir', 'string', '/etc/cni/net.d', [...rt, 'cni', 'conf_dir']);
  const enableTlsStreaming = pick('enableTlsStreaming', 'boolean', false, [...cri, 'enable_tls_streaming']);
  const restrictOomScoreAdj = pick('restrictOomScoreAdj', 'boolean', false, [...rt, 'restrict_oom_score_adj']);
  const grpcAddress = pick('grpcAddress', 'string', '/run/containerd/containerd.sock', ['grpc', 'address']);
  if (version !== 3 && at(doc, ...runtime) !== undefined)
    p.add(
      `[plugins."io.containerd.cri.v1.runtime"] is version 3 syntax in a version ${version} file: containerd ${version === 2 ? '1.x' : ''} ignores it`,
    );
  if (version === 3 && at(doc, ...cri, 'containerd') !== undefined)
    p.add(
      '[plugins."io.containerd.grpc.v1.cri".containerd] is version 2 syntax in a version 3 file: containerd 2.x ignores it (runtimes moved to io.containerd.cri.v1.runtime)',
    );
  if (version === 3 && at(doc, ...cri, 'sandbox_image') !== undefined)
    p.add(
      "sandbox_image under io.containerd.grpc.v1.cri is version 2 syntax: version 3 reads plugins.'io.containerd.cri.v1.images'.pinned_images.sandbox",
    );
  const imports = Array.isArray(doc.imports) ? doc.imports.filter((x): x is string => typeof x === 'string') : [];
  return {
    value: {
      version,
      grpcAddress,
      sandboxImage,
      snapshotter,
      defaultRuntime,
      systemdCgroup,
      cniBinDirs,
      cniConfDir,
      enableTlsStreaming,
      restrictOomScoreAdj,
      imports,
      source,
      raw: doc,
    },
    problems: p.list,
  };
}
