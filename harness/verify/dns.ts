// DNS queries built and read with dns-packet, carried to a server from where the question must be
// asked: from a host (bash's /dev/udp and /dev/tcp) or from inside a pod (busybox nc). The bytes
// travel base64-encoded through SSH or the pod exec stream; nothing but the relay runs there.
import dnsPacket from 'dns-packet';
import { randomInt } from 'node:crypto';

export type Transport = 'udp' | 'tcp';

export interface DnsAnswer {
  rcode: string;
  addresses: string[];
}

export function query(name: string, transport: Transport): { id: number; bytes: Buffer } {
  const id = randomInt(1, 65535);
  const packet = { type: 'query' as const, id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A' as const, name }] };
  return { id, bytes: transport === 'tcp' ? dnsPacket.streamEncode(packet) : dnsPacket.encode(packet) };
}

/** Decodes a reply (length-prefixed for TCP); throws when it is not the reply to `id`. */
export function decode(bytes: Buffer, id: number, transport: Transport): DnsAnswer {
  if (bytes.length === 0) throw new Error('no answer');
  const p = transport === 'tcp' ? dnsPacket.streamDecode(bytes) : dnsPacket.decode(bytes);
  if (p.id !== id) throw new Error(`answer for another query (id ${p.id})`);
  const rcode = (p as { rcode?: string }).rcode ?? 'NOERROR';
  const addresses = (p.answers ?? []).flatMap((a) => (a.type === 'A' ? [String(a.data)] : []));
  return { rcode, addresses };
}

/** One question to send: its bytes (query()), to server:port over the transport. */
export interface Question {
  server: string;
  port?: number;
  transport: Transport;
  bytes: Buffer;
}

/** The relay's answer to one question: the reply's bytes, or why the connection failed. */
export type Relayed = { reply: Buffer } | { refused: string };

const b64 = /^[A-Za-z0-9+/=]*$/;

/** Shell for a host: sends every question at once (bash's /dev/udp and /dev/tcp, in parallel),
 * and prints one line per question: "<index> <exit> <reply, base64>", or for a connection that
 * failed "<index> 3 <bash's error, lines joined by |>". One process tree instead of one command
 * per question. */
export function hostRelayBatch(questions: Question[]): string {
  const ask = (q: Question, i: number) => `q ${i} ${q.transport} ${q.server} ${q.port ?? 53} ${q.bytes.toString('base64')} &`;
  const fn =
    'q() { r=$( { exec 3<>/dev/$2/$3/$4 || exit 3; printf %s $5 | base64 -d >&3; timeout 3 dd bs=65535 count=1 <&3 2>/dev/null | base64 -w0; } 2>&1 ); c=$?; echo "$1 $c $(printf %s "$r" | tr "\\n" "|")"; }';
  return `bash -c '${fn}; ${questions.map(ask).join(' ')} wait'`;
}

/** argv for a pod (the toolbox image): the same through netrelay (busybox's nc has no UDP), in
 * the same lines ("<index> 0 <reply, base64>", an empty reply when none came). */
export function podRelayBatch(questions: Question[]): string[] {
  const to = (q: Question) => (q.server.includes(':') ? `[${q.server}]:${q.port ?? 53}` : `${q.server}:${q.port ?? 53}`);
  const ask = (q: Question, i: number) => `q ${i} ${q.transport} ${to(q)} ${q.bytes.toString('base64')} &`;
  const fn = `q() { r=$(printf %s $4 | base64 -d | netrelay $2 $3 3 | base64 | tr -d '\n'); echo "$1 0 $r"; }`;
  return ['sh', '-c', `${fn}; ${questions.map(ask).join(' ')} wait`];
}

/** Reads a batch's output (host or pod): each question's reply, in order; a question without a
 * line got no answer (an empty reply), as does one whose relay failed otherwise than by a refused
 * connection. The questions' lines share one pipe: each is one write of a few hundred bytes (an
 * A record's reply), below PIPE_BUF, so lines do not interleave. */
export function parseRelayBatch(stdout: string, n: number): Relayed[] {
  const out: Relayed[] = Array.from({ length: n }, () => ({ reply: Buffer.alloc(0) }));
  for (const line of stdout.split('\n')) {
    const m = /^(\d+) (\d+) ?(.*)$/.exec(line.trimEnd());
    if (!m) continue;
    const i = Number(m[1]);
    if (i >= n) continue;
    const rest = m[3] ?? '';
    if (m[2] === '3') out[i] = { refused: rest.split('|').filter(Boolean).pop() ?? '' };
    else if (b64.test(rest)) out[i] = { reply: Buffer.from(rest, 'base64') };
  }
  return out;
}

/** The answer in a relayed reply (decode()); throws when the connection was refused, no answer
 * came, or the reply is not the one to `id`. */
export function decodeRelayed(r: Relayed, id: number, transport: Transport): DnsAnswer {
  if ('refused' in r) throw new Error(`connection refused (${r.refused.slice(0, 80)})`);
  return decode(r.reply, id, transport);
}

/** The nameservers, search domains and options of a resolv.conf. */
export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; options: string[] } {
  const out = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const [k, ...v] = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (k === 'nameserver' && v[0]) out.nameservers.push(v[0]);
    else if (k === 'search' || k === 'domain') out.search = v;
    else if (k === 'options') out.options.push(...v);
  }
  return out;
}
