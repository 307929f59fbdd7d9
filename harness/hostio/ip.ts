// iproute2's JSON output: `ip -j -d link show`, `ip -j route show`, `ip -j addr show`. Only the
// fields checks read are typed; each entry keeps its raw object.
import type { Parsed } from '../discovery/parse/problem.ts';
import { errorMessage } from '../discovery/parse/problem.ts';

export interface Link {
  ifindex: number;
  ifname: string;
  flags: string[];
  up: boolean;
  mtu?: number;
  operstate?: string;
  linkType?: string;
  address?: string;
  /** Bridge or bond this link is enslaved to. */
  master?: string;
  /** -d: "vxlan", "bridge", "veth", ... */
  kind?: string;
  /** vxlan (-d): VNI, local address, UDP port, underlying device. */
  vxlan?: { id?: number; local?: string; port?: number; dev?: string; learning?: boolean };
  raw: Record<string, unknown>;
}

export interface Route {
  /** "default" or a CIDR; a host route is a bare address. */
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  type?: string;
  flags: string[];
  raw: Record<string, unknown>;
}

export interface AddrInfo {
  family: 'inet' | 'inet6' | string;
  local: string;
  prefixlen: number;
  scope?: string;
  label?: string;
}

export interface Interface {
  ifindex: number;
  ifname: string;
  flags: string[];
  up: boolean;
  mtu?: number;
  operstate?: string;
  addresses: AddrInfo[];
  raw: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function jsonArray(text: string, source: string): Parsed<Obj[]> {
  if (!text.trim()) return { value: [], problems: [] };
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return { value: [], problems: [{ file: source, message: 'not a JSON array' }] };
    return { value: v.filter((x): x is Obj => !!x && typeof x === 'object'), problems: [] };
  } catch (e) {
    return { value: [], problems: [{ file: source, message: `not JSON: ${errorMessage(e)}` }] };
  }
}

const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
const n = (v: unknown) => (typeof v === 'number' ? v : undefined);
const flagsOf = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as { [P in K]: V }));

export function parseIpLinks(text: string, source = 'ip -j -d link show'): Parsed<Link[]> {
  const r = jsonArray(text, source);
  return {
    value: r.value.map((o) => {
      const flags = flagsOf(o.flags);
      const li = (o.linkinfo ?? {}) as Obj;
      const kind = s(li.info_kind);
      const d = (li.info_data ?? {}) as Obj;
      return {
        ifindex: n(o.ifindex) ?? 0,
        ifname: s(o.ifname) ?? '',
        flags,
        up: flags.includes('UP'),
        ...opt('mtu', n(o.mtu)),
        ...opt('operstate', s(o.operstate)),
        ...opt('linkType', s(o.link_type)),
        ...opt('address', s(o.address)),
        ...opt('master', s(o.master)),
        ...opt('kind', kind),
        ...(kind === 'vxlan'
          ? {
              vxlan: {
                ...opt('id', n(d.id)),
                ...opt('local', s(d.local) ?? s(d.local6)),
                ...opt('port', n(d.port)),
                ...opt('dev', s(d.link)),
                ...opt('learning', typeof d.learning === 'boolean' ? d.learning : undefined),
              },
            }
          : {}),
        raw: o,
      };
    }),
    problems: r.problems,
  };
}

export function parseIpRoutes(text: string, source = 'ip -j route show'): Parsed<Route[]> {
  const r = jsonArray(text, source);
  return {
    value: r.value.map((o) => ({
      dst: s(o.dst) ?? '',
      ...opt('gateway', s(o.gateway)),
      ...opt('dev', s(o.dev)),
      ...opt('protocol', s(o.protocol)),
      ...opt('scope', s(o.scope)),
      ...opt('prefsrc', s(o.prefsrc)),
      ...opt('type', s(o.type)),
      flags: flagsOf(o.flags),
      raw: o,
    })),
    problems: r.problems,
  };
}

export function parseIpAddrs(text: string, source = 'ip -j addr show'): Parsed<Interface[]> {
  const r = jsonArray(text, source);
  return {
    value: r.value.map((o) => {
      const flags = flagsOf(o.flags);
      const ai = Array.isArray(o.addr_info) ? (o.addr_info as Obj[]) : [];
      return {
        ifindex: n(o.ifindex) ?? 0,
        ifname: s(o.ifname) ?? '',
        flags,
        up: flags.includes('UP'),
        ...opt('mtu', n(o.mtu)),
        ...opt('operstate', s(o.operstate)),
        addresses: ai
          .filter((a) => s(a.local))
          .map((a) => ({
            family: s(a.family) ?? '',
            local: s(a.local)!,
            prefixlen: n(a.prefixlen) ?? 0,
            ...opt('scope', s(a.scope)),
            ...opt('label', s(a.label)),
          })),
        raw: o,
      };
    }),
    problems: r.problems,
  };
}

/** The route the kernel's table has for exactly `dst` (a CIDR such as "10.200.1.0/24"). */
export function routeTo(routes: readonly Route[], dst: string): Route | undefined {
  return routes.find((r) => r.dst === dst);
}
