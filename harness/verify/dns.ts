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

/** Shell for a host: send the query to server:port and print the raw reply, base64. */
export function hostRelay(server: string, transport: Transport, bytes: Buffer, port = 53): string {
  return `bash -c 'exec 3<>/dev/${transport}/${server}/${port} || exit 3; printf %s ${bytes.toString('base64')} | base64 -d >&3; timeout 3 dd bs=65535 count=1 <&3 2>/dev/null | base64 -w0'`;
}

/** argv for a pod (the toolbox image): the same through netrelay (busybox's nc has no UDP). */
export function podRelay(server: string, transport: Transport, bytes: Buffer, port = 53): string[] {
  const to = server.includes(':') ? `[${server}]:${port}` : `${server}:${port}`;
  return ['sh', '-c', `printf %s ${bytes.toString('base64')} | base64 -d | netrelay ${transport} ${to} 3 | base64`];
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

export function fromBase64(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'base64');
}
