// Values that pass a type check but cannot work are refused at validation, with the field path:
// service CIDRs too small or with host bits set, DNS upstreams CoreDNS cannot use, YAML aliases
// read as what they stand for; IPv6 addresses are bracketed wherever a URL is built.
import { describe, expect, it } from 'vitest';
import { apiserverUrl, etcdEndpoints } from './cluster.ts';
import { ModelError, parseCluster } from './load.ts';
import { cidrWithHostBits, hostPort, upstreamProblem, urlHost } from './net.ts';
import { render } from '../render/render.ts';

const FILE = 'm.yaml';
const BASE = 'name: t\nmasters:\n  - host: master\n    address: 10.240.0.10\nworkers:\n  - host: node-1\n    address: 10.240.0.21\n';

function problems(text: string): string[] {
  try {
    parseCluster(text, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return (e as ModelError).problems;
  }
  return [];
}

describe('refused at validation, with the field path', () => {
  const fifteen = Array.from({ length: 15 }, (_, i) => `10.0.0.${i + 1}`);
  const table: [what: string, prefix: string, want: string | undefined][] = [
    [
      'a /32 service CIDR',
      'serviceCIDR: 10.32.0.0/32\n',
      `${FILE}:1:14: serviceCIDR: 10.32.0.0/32 is too small to hold the kubernetes service address (10.32.0.1) and any other service; fix: use at least a /30, e.g. the seed's 10.32.0.0/24`,
    ],
    [
      'a /31 service CIDR',
      'serviceCIDR: 10.32.0.0/31\n',
      `${FILE}:1:14: serviceCIDR: 10.32.0.0/31 is too small to hold the kubernetes service address (10.32.0.1) and any other service; fix: use at least a /30, e.g. the seed's 10.32.0.0/24`,
    ],
    ['a /30 service CIDR is enough', 'serviceCIDR: 10.32.0.0/30\n', undefined],
    [
      'an IPv6 /128 service CIDR',
      'serviceCIDR: fd00::/128\n',
      `${FILE}:1:14: serviceCIDR: fd00::/128 is too small to hold the kubernetes service address (fd00::1) and any other service; fix: use at least a /126, e.g. the seed's 10.32.0.0/24`,
    ],
    [
      'a service CIDR with host bits set',
      'serviceCIDR: 10.32.0.5/24\n',
      `${FILE}:1:14: serviceCIDR: 10.32.0.5/24 has host bits set (the address is not the network's first); fix: write 10.32.0.0/24`,
    ],
    [
      'a pod CIDR with host bits set',
      'podCIDR: 10.200.7.0/16\n',
      `${FILE}:1:10: podCIDR: 10.200.7.0/16 has host bits set (the address is not the network's first); fix: write 10.200.0.0/16`,
    ],
    [
      'an upstream octet over 255',
      'dns:\n  upstreams: [1.2.3.999]\n',
      `${FILE}:2:15: dns.upstreams[0]: expected a resolv.conf path or an address: 1.2.3.999 is not an IPv4 address (each octet is 0-255), got "1.2.3.999"`,
    ],
    [
      'an upstream port over 65535',
      'dns:\n  upstreams: ["1.2.3.4:99999"]\n',
      `${FILE}:2:15: dns.upstreams[0]: expected a resolv.conf path or an address: port 99999 is not a port number (1-65535), got "1.2.3.4:99999"`,
    ],
    [
      'an upstream port 0',
      'dns:\n  upstreams: ["1.2.3.4:0"]\n',
      `${FILE}:2:15: dns.upstreams[0]: expected a resolv.conf path or an address: port 0 is not a port number (1-65535), got "1.2.3.4:0"`,
    ],
    [
      'three octets',
      'dns:\n  upstreams: [10.0.0]\n',
      `${FILE}:2:15: dns.upstreams[0]: expected a resolv.conf path or an address: 10.0.0 is not an IPv4 address (four octets 0-255), got "10.0.0"`,
    ],
    [
      'a bracketed IPv6 upstream with a bad port',
      'dns:\n  upstreams: ["[2001:db8::53]:x"]\n',
      `${FILE}:2:15: dns.upstreams[0]: expected a resolv.conf path or an address: port x is not a port number (1-65535), got "[2001:db8::53]:x"`,
    ],
    [
      'IPv6 upstreams, bare and with a port',
      'dns:\n  upstreams: ["2001:db8::53", "[2001:db8::53]:5353", "1.1.1.1:53", /etc/resolv.conf]\n',
      undefined,
    ],
    ["15 upstreams (the forward plugin's limit)", `dns:\n  upstreams: [${fifteen.join(', ')}]\n`, undefined],
    [
      '16 upstreams',
      `dns:\n  upstreams: [${[...fifteen, '10.0.0.16'].join(', ')}]\n`,
      `${FILE}:2:14: dns.upstreams: 16 upstreams, but CoreDNS's forward plugin takes at most 15 (it would not start); fix: keep 15 or fewer`,
    ],
    [
      'a bracketed host address',
      'masters:\n  - host: master\n    address: "[2001:db8::10]"\nworkers:\n  - host: node-1\n    address: 10.240.0.21\n',
      `${FILE}:4:14: masters[0].address: expected an address without brackets, got "[2001:db8::10]"; fix: write 2001:db8::10 (hardway brackets IPv6 where URLs need it)`,
    ],
    [
      'a YAML merge key',
      'kubelet:\n  systemReserved:\n    <<: { cpu: 1 }\n',
      `${FILE}:3:5: kubelet.systemReserved.<<: YAML merge keys (<<: *anchor) are not read; fix: write the keys out (aliases of single values and lists are fine)`,
    ],
  ];
  for (const [what, prefix, want] of table) {
    it(what, () => {
      const text = prefix.startsWith('masters:') ? `name: t\n${prefix}` : prefix + BASE;
      expect(problems(text)).toEqual(want ? [want] : []);
    });
  }

  it('YAML aliases stand for their anchors (not "a list or mapping")', () => {
    const c = parseCluster(
      `apiserver:\n  port: &p 6443\nflannel:\n  port: *p\ningress:\n  hosts: &names [app.example.org]\n  plainHosts: *names\n  acmeServer: https://acme.example/dir\n${BASE.replace('address: 10.240.0.21\n', 'address: &a 10.240.0.21\n    internalAddress: *a\n')}`,
      FILE,
    );
    expect(c.flannel.port).toBe(6443);
    expect(c.ingress!.plainHosts).toEqual(['app.example.org']);
    expect(c.workers[0]!.internalAddress).toBe('10.240.0.21');
  });
});

describe('IPv6 in URLs', () => {
  it('the helpers bracket IPv6 only', () => {
    expect([urlHost('10.0.0.1'), urlHost('2001:db8::1'), urlHost('node-1')]).toEqual(['10.0.0.1', '[2001:db8::1]', 'node-1']);
    expect(hostPort('2001:db8::1', 6443)).toBe('[2001:db8::1]:6443');
    expect(cidrWithHostBits('10.32.0.0/24')).toBeUndefined();
    expect(cidrWithHostBits('fd00::5/120')).toBe('fd00::/120');
    expect(upstreamProblem('/etc/resolv.conf')).toBeUndefined();
  });

  it('a model with IPv6 hosts renders bracketed URLs into units and kubeconfigs', async () => {
    const c = parseCluster(
      'name: t\nserviceCIDR: fd00:32::/120\nmasters:\n  - host: master\n    address: 2001:db8::10\nworkers:\n  - host: node-1\n    address: 2001:db8::21\n',
      FILE,
    );
    expect(apiserverUrl(c)).toBe('https://[2001:db8::10]:6443');
    expect(etcdEndpoints(c)).toEqual(['https://[2001:db8::10]:2379']);
    const r = await render(c);
    const all = [...r.hosts.values()]
      .flat()
      .map((f) => f.content)
      .join('\n');
    // Every https:// URL names a bracketed IPv6 address, an IPv4 address or a name: never a bare IPv6.
    const urls = [...all.matchAll(/https:\/\/([^/\s,"']+)/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(5);
    for (const u of urls) expect(u, u).toMatch(/^(\[[0-9a-f:]+\]|[0-9.]+|[a-z0-9.-]+)(:\d+)?$/);
    expect(all).toContain('--etcd-servers=https://[2001:db8::10]:2379');
    expect(all).toContain('server: https://[2001:db8::10]:6443');
    expect(all).toContain('master=https://[2001:db8::10]:2380');
  }, 30_000);
});
