import { describe, expect, it } from 'vitest';
import { parseCaddyfile, parseCorefile, parseServerKey } from './corefile.ts';
import { recorded } from './testing.ts';

describe('Corefile', () => {
  it("reads the lab's Corefile", () => {
    const r = parseCorefile(recorded('corefile/Corefile.node-1'), '/etc/coredns/Corefile');
    expect(r.problems).toEqual([]);
    const [s] = r.value.servers;
    expect(r.value.servers).toHaveLength(1);
    expect(s).toMatchObject({
      zones: ['.'],
      ports: [53],
      addresses: [{ transport: 'dns', zone: '.', port: 53 }],
      health: '127.0.0.1:8081',
      ready: '127.0.0.1:8181',
    });
    expect(s!.kubernetes).toEqual({
      zones: ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.'],
      kubeconfig: '/var/lib/kubernetes/coredns/coredns.kubeconfig',
      context: 'default',
      fallthrough: ['in-addr.arpa.', 'ip6.arpa.'],
      line: 6,
    });
    expect(s!.forward).toEqual([{ from: '.', to: ['10.240.0.2'], line: 11, options: [] }]);
    expect(s!.plugins.map((p) => p.name)).toEqual(['errors', 'log', 'health', 'ready', 'kubernetes', 'forward', 'cache', 'loop', 'reload']);
  });

  it('several server blocks, comma keys, comments, quotes, nested blocks, snippets and imports', () => {
    const text = `# cluster DNS
(common) {
    errors
    cache 30 # seconds
}
cluster.local:5353, 10.32.0.0/16 {
    import common
    kubernetes {
        endpoint https://10.0.0.1:6443 https://10.0.0.2:6443
        tls /etc/coredns/cert.pem /etc/coredns/key.pem /etc/coredns/ca.pem
    }
}
. {
    import common
    import /etc/coredns/extra/*.conf
    hosts /etc/coredns/hosts example.org {
        10.0.0.9 gateway.example.org
        fallthrough
    }
    forward . 1.1.1.1 "dns://8.8.8.8" {
        max_concurrent 1000
        policy sequential
    }
    health
}
`;
    const r = parseCorefile(text, 'Corefile');
    expect(r.value.imports).toEqual([{ pattern: '/etc/coredns/extra/*.conf', line: 15 }]);
    expect(r.problems).toEqual([expect.objectContaining({ line: 9, message: expect.stringContaining('several endpoints') })]);
    const [a, b] = r.value.servers;
    expect(a).toMatchObject({
      keys: ['cluster.local:5353', '10.32.0.0/16'],
      zones: ['cluster.local.', '32.10.in-addr.arpa.'],
      ports: [5353, 53],
    });
    expect(a!.plugins.map((p) => p.name)).toEqual(['errors', 'cache', 'kubernetes']);
    expect(a!.kubernetes).toMatchObject({
      zones: ['cluster.local.', '32.10.in-addr.arpa.'],
      endpoint: 'https://10.0.0.1:6443',
      tls: { cert: '/etc/coredns/cert.pem', key: '/etc/coredns/key.pem', ca: '/etc/coredns/ca.pem' },
    });
    expect(b).toMatchObject({ zones: ['.'], ports: [53], health: ':8080' });
    expect(b!.hosts).toEqual({
      file: '/etc/coredns/hosts',
      zones: ['example.org.'],
      entries: [{ address: '10.0.0.9', names: ['gateway.example.org'] }],
      fallthrough: [],
      line: 16,
    });
    expect(b!.forward[0]).toMatchObject({ from: '.', to: ['1.1.1.1', 'dns://8.8.8.8'] });
    expect(b!.forward[0]!.options.map((o) => [o.name, ...o.args])).toEqual([
      ['max_concurrent', '1000'],
      ['policy', 'sequential'],
    ]);
  });

  it("knows forward's 15-upstream limit and broken blocks, never throws", () => {
    const many = Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(' ');
    expect(parseCorefile(`.:53 {\n forward . ${many}\n}\n`, 'C').problems.map((p) => p.message)).toEqual([
      'forward has 16 upstreams: CoreDNS refuses more than 15',
    ]);
    expect(parseCorefile('.:53 {\n  errors\n', 'C').problems).toEqual([{ file: 'C', line: 1, message: '"{" is never closed' }]);
    expect(parseCorefile('.:53 {\n  health localhost\n}\n}\n', 'C').problems.map((p) => p.message)).toEqual([
      expect.stringContaining('unexpected "}"'),
      'health address localhost is not host:port',
    ]);
  });

  it('lexes like caddy: # anywhere starts a comment, quotes keep spaces and \\"', () => {
    const c = parseCaddyfile('. {\n  log "a \\"b\\" c"#x\n  rewrite name foo#bar baz\n}\n', 'C');
    expect(c.value.blocks[0]!.directives.map((d) => [d.name, ...d.args])).toEqual([
      ['log', 'a "b" c'],
      ['rewrite', 'name', 'foo'],
    ]);
  });

  it('server keys', () => {
    expect(parseServerKey('tls://.:853')).toEqual({ transport: 'tls', zone: '.', port: 853 });
    expect(parseServerKey('example.org')).toEqual({ transport: 'dns', zone: 'example.org.', port: 53 });
    expect(parseServerKey('.', 1053)).toEqual({ transport: 'dns', zone: '.', port: 1053 });
  });
});
