// `ss -Hltnu` / `ss -Hltnup` / `ss -Hlpn`: listening sockets. Columns: [Netid] State Recv-Q Send-Q
// Local Peer [Process]; Netid only appears when several socket kinds are listed. Local addresses:
// 0.0.0.0:53, *:10250 (any family), [::]:6443, [::1]:2379, 127.0.0.53%lo:53 (bound to a device),
// [fe80::1%eth0]:546. Process: users:(("name",pid=1,fd=3),...).
import type { Parsed, ParseProblem } from '../discovery/parse/problem.ts';

export interface SocketAddress {
  /** "0.0.0.0", "::", "*", "127.0.0.1", "fe80::1" (without brackets or scope). */
  address: string;
  port: number;
  /** The "%iface" scope: the socket is bound to that device. */
  iface?: string;
  /** 4, 6, or "any" for "*" (a dual-stack wildcard). */
  family: 4 | 6 | 'any';
  /** Listens on every address of its family. */
  wildcard: boolean;
}

export interface ListeningSocket {
  /** "tcp", "udp", ... when the output has a Netid column. */
  netid?: string;
  state: string;
  recvQ: number;
  sendQ: number;
  /** An inet socket's address; absent for unix, netlink and packet sockets. */
  local?: SocketAddress;
  /** A unix socket's path ("" for an abstract or unnamed one). */
  path?: string;
  /** The local column as printed (netlink "0:589", packet sockets). */
  localRaw: string;
  peer: string;
  processes: { name: string; pid: number; fd?: number }[];
}

export function parseSocketAddress(s: string): SocketAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|(.*?)):(\d+|\*)$/.exec(s);
  if (!m || m[3] === '*') return undefined;
  let addr = m[1] ?? m[2]!;
  let iface: string | undefined;
  const pct = addr.indexOf('%');
  if (pct >= 0) {
    iface = addr.slice(pct + 1);
    addr = addr.slice(0, pct);
  }
  const family = addr === '*' ? 'any' : addr.includes(':') ? 6 : 4;
  return {
    address: addr,
    port: Number(m[3]),
    ...(iface ? { iface } : {}),
    family,
    wildcard: addr === '*' || addr === '0.0.0.0' || addr === '::',
  };
}

const NETIDS = new Set(['tcp', 'udp', 'raw', 'u_str', 'u_dgr', 'u_seq', 'nl', 'p_raw', 'p_dgr', 'sctp', 'mptcp', 'tipc', 'vsock', 'xdp']);

export function parseSs(output: string, source = 'ss'): Parsed<ListeningSocket[]> {
  const problems: ParseProblem[] = [];
  const out: ListeningSocket[] = [];
  output.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    if (/^(Netid|State)\s+/.test(line)) return; // a header, when -H was not given
    const procAt = line.indexOf('users:(');
    const head = (procAt >= 0 ? line.slice(0, procAt) : line).trim().split(/\s+/);
    const netid = NETIDS.has(head[0]!) ? head.shift() : undefined;
    const unix = netid?.startsWith('u_') ?? false;
    // unix: "<path> <inode> * <peer inode>"; others: "<local> <peer>".
    const [state, rq, sq, local] = head;
    const peer = unix ? head.slice(5).join(' ') : head[4];
    const inet = !netid || netid === 'tcp' || netid === 'udp' || netid === 'sctp' || netid === 'mptcp';
    const addr = inet && local ? parseSocketAddress(local) : undefined;
    if (!state || local === undefined || !peer || !/^\d+$/.test(rq ?? '') || !/^\d+$/.test(sq ?? '') || (inet && !addr)) {
      problems.push({ file: source, line: i + 1, message: `not an ss socket line: ${line.slice(0, 100)}` });
      return;
    }
    const processes =
      procAt < 0
        ? []
        : [...line.slice(procAt).matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+)(?:,fd=(\d+))?\)/g)].map((m) => ({
            name: m[1]!,
            pid: Number(m[2]),
            ...(m[3] ? { fd: Number(m[3]) } : {}),
          }));
    out.push({
      ...(netid ? { netid } : {}),
      state,
      recvQ: Number(rq),
      sendQ: Number(sq),
      ...(addr ? { local: addr } : {}),
      ...(unix ? { path: local === '*' ? '' : local } : {}),
      localRaw: local,
      peer,
      processes,
    });
  });
  return { value: out, problems };
}

/** Sockets listening on a port (TCP LISTEN, or UDP UNCONN), optionally of one netid. */
export function listeningOn(sockets: readonly ListeningSocket[], port: number, netid?: string): ListeningSocket[] {
  return sockets.filter(
    (s) => s.local?.port === port && (!netid || !s.netid || s.netid === netid) && (s.state === 'LISTEN' || s.state === 'UNCONN'),
  );
}

/** Does a listening socket accept connections to `address` (exact or through a wildcard)? */
export function accepts(s: ListeningSocket, address: string): boolean {
  const a = s.local;
  if (!a) return false;
  if (a.address === address) return true;
  if (!a.wildcard) return false;
  const v6 = address.includes(':');
  // "*" is dual-stack; "[::]" normally takes IPv4 too (net.ipv6.bindv6only=0), "0.0.0.0" only IPv4.
  return a.family === 'any' || (a.family === 6 ? true : !v6);
}
