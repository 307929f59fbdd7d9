// CNI network configs (/etc/cni/net.d/*.conf, *.conflist, *.json) read as libcni v1.1 reads them
// (libcni/conf.go: a .conf or .json is one plugin and needs "type"; a .conflist needs "name" and a
// non-empty "plugins" list), and which one the runtime uses. containerd's go-cni (v1.1.9, used by
// containerd 1.7) sorts the files' paths and takes the first: if that file is invalid, containerd
// does not fall back to the next one, pod networking fails ("cni config load failed"). Runtimes
// built on ocicni skip invalid files instead; both answers are given.
import { type Parsed, type ParseProblem, Problems, errorMessage } from './problem.ts';

export interface CniIpam {
  type?: string;
  /** host-local: every subnet, from "subnet" and "ranges". */
  subnets: string[];
  ranges: { subnet: string; rangeStart?: string; rangeEnd?: string; gateway?: string }[][];
  routes: { dst: string; gw?: string }[];
}

export interface CniPlugin {
  type: string;
  /** bridge plugin: the bridge device (default "cni0"). */
  bridge?: string;
  isGateway?: boolean;
  ipMasq?: boolean;
  ipam?: CniIpam;
  /** flannel plugin: the delegate config (bridge settings it hands on). */
  delegate?: Record<string, unknown>;
  raw: Record<string, unknown>;
}

export interface CniNetwork {
  file: string;
  name: string;
  cniVersion?: string;
  /** Plugin types in order: ["flannel", "portmap"], ["bridge"]. */
  types: string[];
  plugins: CniPlugin[];
  isList: boolean;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

function plugin(o: Record<string, unknown>): CniPlugin {
  const ipamO = obj(o.ipam);
  let ipam: CniIpam | undefined;
  if (ipamO) {
    const ranges = Array.isArray(ipamO.ranges)
      ? (ipamO.ranges as unknown[]).map((set) =>
          (Array.isArray(set) ? set : []).flatMap((r) => {
            const ro = obj(r);
            const subnet = str(ro?.subnet);
            return ro && subnet
              ? [
                  {
                    subnet,
                    ...(str(ro.rangeStart) ? { rangeStart: str(ro.rangeStart)! } : {}),
                    ...(str(ro.rangeEnd) ? { rangeEnd: str(ro.rangeEnd)! } : {}),
                    ...(str(ro.gateway) ? { gateway: str(ro.gateway)! } : {}),
                  },
                ]
              : [];
          }),
        )
      : [];
    const single = str(ipamO.subnet);
    ipam = {
      ...(str(ipamO.type) ? { type: str(ipamO.type)! } : {}),
      subnets: [...(single ? [single] : []), ...ranges.flat().map((r) => r.subnet)],
      ranges,
      routes: Array.isArray(ipamO.routes)
        ? (ipamO.routes as unknown[]).flatMap((r) => {
            const ro = obj(r);
            const dst = str(ro?.dst);
            return dst ? [{ dst, ...(str(ro!.gw) ? { gw: str(ro!.gw)! } : {}) }] : [];
          })
        : [],
    };
  }
  const type = str(o.type) ?? '';
  return {
    type,
    ...(type === 'bridge' ? { bridge: str(o.bridge) ?? 'cni0' } : {}),
    ...(typeof o.isGateway === 'boolean' ? { isGateway: o.isGateway } : {}),
    ...(typeof o.ipMasq === 'boolean' ? { ipMasq: o.ipMasq } : {}),
    ...(ipam ? { ipam } : {}),
    ...(obj(o.delegate) ? { delegate: obj(o.delegate)! } : {}),
    raw: o,
  };
}

/** One file; undefined (with a problem) when libcni would refuse it. */
export function parseCniConfig(text: string, file: string): Parsed<CniNetwork | undefined> {
  const p = new Problems(file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    p.add(`not JSON: ${errorMessage(e)}`);
    return { value: undefined, problems: p.list };
  }
  const o = obj(doc);
  if (!o) {
    p.add('not a JSON object');
    return { value: undefined, problems: p.list };
  }
  const isList = file.endsWith('.conflist');
  if (!isList) {
    if (!str(o.type)) {
      p.add(
        `no "type"${Array.isArray(o.plugins) ? ' (a plugin list in a file not named *.conflist)' : ''}: libcni refuses it ("missing 'type'")`,
      );
      return { value: undefined, problems: p.list };
    }
    const pl = plugin(o);
    return {
      value: {
        file,
        name: str(o.name) ?? '',
        ...(str(o.cniVersion) ? { cniVersion: str(o.cniVersion)! } : {}),
        types: [pl.type],
        plugins: [pl],
        isList,
      },
      problems: p.list,
    };
  }
  const name = str(o.name);
  if (!name) p.add('no "name": libcni refuses the list');
  if (!Array.isArray(o.plugins) || o.plugins.length === 0) p.add('no "plugins" (or an empty list): libcni refuses the list');
  const raw = Array.isArray(o.plugins) ? (o.plugins as unknown[]) : [];
  raw.forEach((x, i) => {
    if (!str(obj(x)?.type)) p.add(`plugin ${i} has no "type": libcni refuses the list`);
  });
  if (p.list.length) return { value: undefined, problems: p.list };
  const plugins = raw.map((x) => plugin(obj(x)!));
  return {
    value: {
      file,
      name: name!,
      ...(str(o.cniVersion) ? { cniVersion: str(o.cniVersion)! } : {}),
      types: plugins.map((x) => x.type),
      plugins,
      isList,
    },
    problems: p.list,
  };
}

export interface CniSelection {
  /** Every candidate file parsed, in the runtime's order; undefined where invalid. */
  files: { path: string; network?: CniNetwork }[];
  /** What containerd (go-cni) uses: the first file, only if valid. */
  containerd?: CniNetwork;
  /** What a runtime that skips invalid files uses: the first valid one. */
  firstValid?: CniNetwork;
}

const CNI_EXT = /\.(conf|conflist|json)$/;

/** `files`: every file in the conf dir (path -> text); others than .conf/.conflist/.json are ignored. */
export function selectCniConfig(files: Readonly<Record<string, string>>, confDir = '/etc/cni/net.d'): Parsed<CniSelection> {
  const problems: ParseProblem[] = [];
  const paths = Object.keys(files)
    .filter((f) => CNI_EXT.test(f))
    .sort();
  const parsed = paths.map((path) => {
    const r = parseCniConfig(files[path]!, path);
    problems.push(...r.problems);
    return { path, ...(r.value ? { network: r.value } : {}) };
  });
  const sel: CniSelection = { files: parsed };
  const first = parsed[0];
  if (!first)
    problems.push({
      file: confDir,
      message: `no network config (*.conf, *.conflist, *.json) in ${confDir}: the runtime reports "cni plugin not initialized" and pods cannot start`,
    });
  else if (!first.network)
    problems.push({
      file: first.path,
      message: `containerd uses the first file in ${confDir}, ${first.path}, and it is invalid: containerd does not fall back to the next file, pod networking fails`,
    });
  else sel.containerd = first.network;
  const fv = parsed.find((x) => x.network)?.network;
  if (fv) sel.firstValid = fv;
  return { value: sel, problems };
}
