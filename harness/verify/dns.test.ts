import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer } from 'node:net';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { type Relayed, decode, decodeRelayed, hostRelayBatch, parseRelayBatch, query } from './dns.ts';

const reply = (r: Relayed) => ('reply' in r ? r.reply : Buffer.alloc(0));

describe('DNS relay batches', () => {
  it("reads a node's batch as bash printed it (recorded on the lab's node-3)", () => {
    // hostRelayBatch of four questions to node-3's CoreDNS (10.240.0.23): kubernetes.default over
    // UDP (id 0x39d4) and TCP (id 0x062f), then TCP to port 1 (refused) and UDP to port 9 (silence).
    // Lines come as the questions end.
    const out = [
      '2 3 environment: connect: Connection refused|environment: line 1: /dev/tcp/10.240.0.23/1: Connection refused',
      '3 0 ',
      '1 0 AGoGL4UAAAEAAQAAAAAKa3ViZXJuZXRlcwdkZWZhdWx0A3N2YwdjbHVzdGVyBWxvY2FsAAABAAEKa3ViZXJuZXRlcwdkZWZhdWx0A3N2YwdjbHVzdGVyBWxvY2FsAAABAAEAAAAFAAQKIAAB',
      '0 0 OdSFAAABAAEAAAAACmt1YmVybmV0ZXMHZGVmYXVsdANzdmMHY2x1c3RlcgVsb2NhbAAAAQABCmt1YmVybmV0ZXMHZGVmYXVsdANzdmMHY2x1c3RlcgVsb2NhbAAAAQABAAAABQAECiAAAQ==',
      '',
    ].join('\n');
    const r = parseRelayBatch(out, 4);
    expect(decode(reply(r[0]!), 0x39d4, 'udp')).toEqual({ rcode: 'NOERROR', addresses: ['10.32.0.1'] });
    expect(decode(reply(r[1]!), 0x062f, 'tcp')).toEqual({ rcode: 'NOERROR', addresses: ['10.32.0.1'] });
    expect(r[2]).toEqual({ refused: 'environment: line 1: /dev/tcp/10.240.0.23/1: Connection refused' });
    expect(() => decodeRelayed(r[2]!, 0x0001, 'tcp')).toThrow(
      'connection refused (environment: line 1: /dev/tcp/10.240.0.23/1: Connection refused)',
    );
    expect(() => decode(reply(r[3]!), 1, 'udp')).toThrow(/no answer/);
  });

  it("reads a pod's batch as busybox sh printed it (recorded in a toolbox pod on node-3)", () => {
    // podRelayBatch of the same four questions (UDP id 0x29cc, TCP id 0x6553); netrelay's own
    // complaints go to stderr, so a refused or silent question is an empty line.
    const out = [
      '0 0 KcyFAAABAAEAAAAACmt1YmVybmV0ZXMHZGVmYXVsdANzdmMHY2x1c3RlcgVsb2NhbAAAAQABCmt1YmVybmV0ZXMHZGVmYXVsdANzdmMHY2x1c3RlcgVsb2NhbAAAAQABAAAABQAECiAAAQ==',
      '2 0 ',
      '3 0 ',
      '1 0 AGplU4UAAAEAAQAAAAAKa3ViZXJuZXRlcwdkZWZhdWx0A3N2YwdjbHVzdGVyBWxvY2FsAAABAAEKa3ViZXJuZXRlcwdkZWZhdWx0A3N2YwdjbHVzdGVyBWxvY2FsAAABAAEAAAAFAAQKIAAB',
    ].join('\n');
    const r = parseRelayBatch(out, 4);
    expect(decode(reply(r[0]!), 0x29cc, 'udp').addresses).toEqual(['10.32.0.1']);
    expect(decode(reply(r[1]!), 0x6553, 'tcp').addresses).toEqual(['10.32.0.1']);
    for (const i of [2, 3]) expect(() => decode(reply(r[i]!), 1, 'udp')).toThrow(/no answer/);
  });

  it('leaves a question without a line unanswered, and ignores lines that are not its own', () => {
    const r = parseRelayBatch('bash: warning\n7 0 AAAA\n0 0 not base64!\n', 2);
    expect(r).toEqual([{ reply: Buffer.alloc(0) }, { reply: Buffer.alloc(0) }]);
  });

  it("asks every question at once in real bash, against a loopback server's UDP and TCP", async () => {
    const answer = (q: Buffer) => {
      const p = dnsPacket.decode(q);
      return {
        type: 'response' as const,
        id: p.id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: p.questions,
        answers: [{ type: 'A' as const, name: p.questions![0]!.name, ttl: 5, data: '10.32.0.1' }],
      };
    };
    const udp = createSocket('udp4');
    udp.on('message', (m, from) => udp.send(dnsPacket.encode(answer(m)), from.port, from.address));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const tcp = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) s.end(dnsPacket.streamEncode(answer(buf.subarray(2))));
      });
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    // A port nothing listens on: a closed server's.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    try {
      const u = query('kubernetes.default.svc.cluster.local', 'udp');
      const t = query('kubernetes.default.svc.cluster.local', 'tcp');
      const x = query('kubernetes.default.svc.cluster.local', 'tcp');
      const script = hostRelayBatch([
        { server: '127.0.0.1', port: (udp.address() as AddressInfo).port, transport: 'udp', bytes: u.bytes },
        { server: '127.0.0.1', port: (tcp.address() as AddressInfo).port, transport: 'tcp', bytes: t.bytes },
        { server: '127.0.0.1', port: closedPort, transport: 'tcp', bytes: x.bytes },
      ]);
      const { stdout } = await promisify(execFile)('sh', ['-c', script], { encoding: 'utf8' });
      const r = parseRelayBatch(stdout, 3);
      expect(decode(reply(r[0]!), u.id, 'udp').addresses).toEqual(['10.32.0.1']);
      expect(decode(reply(r[1]!), t.id, 'tcp').addresses).toEqual(['10.32.0.1']);
      expect(r[2]).toMatchObject({ refused: expect.stringMatching(/Connection refused/) });
    } finally {
      udp.close();
      tcp.close();
    }
  });
});
