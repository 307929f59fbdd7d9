// `etcdctl ... -w json` answers: endpoint health (an array, "error" on a sick member), endpoint
// status, member list and get --prefix. etcd's IDs, revisions and raft terms are uint64: JSON.parse
// would round them, so they are quoted before parsing and kept as decimal strings. Keys and values
// of `get` are base64 in JSON output.
import type { Parsed } from '../discovery/parse/problem.ts';
import { errorMessage } from '../discovery/parse/problem.ts';

export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  took?: string;
  error?: string;
}

export interface Member {
  /** Decimal uint64, as etcd prints it. */
  id: string;
  /** Hex, as `member list -w table` and etcd's logs show it. */
  idHex: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
  /** A member added but not started yet has no name. */
  started: boolean;
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision?: string;
  modRevision?: string;
  version?: string;
  lease?: string;
}

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  leader: string;
  isLeader: boolean;
  version?: string;
  dbSize?: number;
  raftTerm?: string;
  errors: string[];
}

const BIG =
  /"(ID|id|cluster_id|member_id|leader|revision|raft_term|raftIndex|raft_index|raftAppliedIndex|raft_applied_index|create_revision|mod_revision|version|lease|memberId|leaderId)":\s*(\d{16,})/g;

function parseJson(text: string, source: string): { v?: unknown; problem?: string } {
  // etcdctl prints errors (and {"level":"warn",...} log lines) before or instead of the JSON.
  const t = text
    .split('\n')
    .filter((l) => !/^\{"level":/.test(l))
    .join('\n')
    .trim();
  const start = t.search(/^[[{]/m);
  if (start < 0) return { problem: `no JSON in the answer: ${t.slice(0, 160) || '(empty)'}` };
  const body = t.slice(start);
  try {
    return { v: JSON.parse(body.replace(BIG, '"$1":"$2"')) };
  } catch (e) {
    return { problem: `${source}: not JSON: ${errorMessage(e)}` };
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const b64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');

export function parseEndpointHealth(text: string, source = 'etcdctl endpoint health'): Parsed<EndpointHealth[]> {
  const r = parseJson(text, source);
  if (r.problem) return { value: [], problems: [{ file: source, message: r.problem }] };
  const arr = Array.isArray(r.v) ? r.v : [r.v];
  return {
    value: (arr as Record<string, unknown>[])
      .filter((x) => x && typeof x === 'object')
      .map((x) => ({
        endpoint: str(x.endpoint) ?? '',
        health: x.health === true || x.health === 'true',
        ...(str(x.took) ? { took: str(x.took)! } : {}),
        ...(str(x.error) ? { error: str(x.error)! } : {}),
      })),
    problems: [],
  };
}

export function parseMemberList(text: string, source = 'etcdctl member list'): Parsed<Member[]> {
  const r = parseJson(text, source);
  if (r.problem) return { value: [], problems: [{ file: source, message: r.problem }] };
  const members = ((r.v as { members?: unknown[] } | undefined)?.members ?? []) as Record<string, unknown>[];
  return {
    value: members.map((m) => {
      const id = str(m.ID) ?? '0';
      const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      return {
        id,
        idHex: BigInt(id).toString(16),
        name: str(m.name) ?? '',
        peerURLs: list(m.peerURLs),
        clientURLs: list(m.clientURLs),
        isLearner: m.isLearner === true,
        started: !!str(m.name),
      };
    }),
    problems: [],
  };
}

export function parseGet(text: string, source = 'etcdctl get'): Parsed<KeyValue[]> {
  const r = parseJson(text, source);
  if (r.problem) return { value: [], problems: [{ file: source, message: r.problem }] };
  const kvs = ((r.v as { kvs?: unknown[] } | undefined)?.kvs ?? []) as Record<string, unknown>[];
  return {
    value: kvs.map((kv) => ({
      key: b64(kv.key),
      value: b64(kv.value),
      ...(str(kv.create_revision) ? { createRevision: str(kv.create_revision)! } : {}),
      ...(str(kv.mod_revision) ? { modRevision: str(kv.mod_revision)! } : {}),
      ...(str(kv.version) ? { version: str(kv.version)! } : {}),
      ...(str(kv.lease) ? { lease: str(kv.lease)! } : {}),
    })),
    problems: [],
  };
}

export function parseEndpointStatus(text: string, source = 'etcdctl endpoint status'): Parsed<EndpointStatus[]> {
  const r = parseJson(text, source);
  if (r.problem) return { value: [], problems: [{ file: source, message: r.problem }] };
  const arr = (Array.isArray(r.v) ? r.v : [r.v]) as Record<string, unknown>[];
  return {
    value: arr.map((x) => {
      const st = (x.Status ?? {}) as Record<string, unknown>;
      const header = (st.header ?? {}) as Record<string, unknown>;
      const memberId = str(header.member_id) ?? '';
      const leader = str(st.leader) ?? '';
      return {
        endpoint: str(x.Endpoint) ?? '',
        memberId,
        leader,
        isLeader: memberId !== '' && memberId === leader,
        ...(str(st.version) ? { version: str(st.version)! } : {}),
        ...(typeof st.dbSize === 'number' ? { dbSize: st.dbSize } : {}),
        ...(str(st.raftTerm ?? st.raft_term) ? { raftTerm: str(st.raftTerm ?? st.raft_term)! } : {}),
        errors: Array.isArray(st.errors) ? st.errors.map(String) : [],
      };
    }),
    problems: [],
  };
}

/** flannel's subnet leases under <prefix>/subnets/: "10.200.1.0-24" -> 10.200.1.0/24 and its JSON. */
export interface FlannelLease {
  subnet: string;
  publicIP?: string;
  backendType?: string;
  vtepMAC?: string;
}

export function flannelLeases(kvs: readonly KeyValue[], prefix: string): Parsed<FlannelLease[]> {
  const out: FlannelLease[] = [];
  const problems: { file: string; message: string }[] = [];
  const base = `${prefix.replace(/\/$/, '')}/subnets/`;
  for (const kv of kvs) {
    if (!kv.key.startsWith(base)) continue;
    const subnet = kv.key.slice(base.length).replace(/-(\d+)$/, '/$1');
    try {
      const v = JSON.parse(kv.value) as { PublicIP?: string; BackendType?: string; BackendData?: { VtepMAC?: string } };
      out.push({
        subnet,
        ...(v.PublicIP ? { publicIP: v.PublicIP } : {}),
        ...(v.BackendType ? { backendType: v.BackendType } : {}),
        ...(v.BackendData?.VtepMAC ? { vtepMAC: v.BackendData.VtepMAC } : {}),
      });
    } catch (e) {
      problems.push({ file: kv.key, message: `lease value is not JSON: ${errorMessage(e)}` });
    }
  }
  return { value: out, problems };
}
