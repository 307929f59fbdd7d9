import { describe, expect, it } from 'vitest';
import { recorded } from '../discovery/parse/testing.ts';
import { natBackends, parseConntrack } from './conntrack.ts';
import { flannelLeases, parseEndpointHealth, parseEndpointStatus, parseGet, parseMemberList } from './etcdctl.ts';
import { parseIpAddrs, parseIpLinks, parseIpRoutes, routeTo } from './ip.ts';
import { parseIptablesS, rulesOf } from './iptables.ts';
import { parseMemoryStat, parseProcStatus } from './memory.ts';
import { accepts, listeningOn, parseSocketAddress, parseSs } from './ss.ts';

describe('ss (recorded)', () => {
  it('master: every control-plane port, with process names (comm is cut to 15 characters)', () => {
    const r = parseSs(recorded('ss/ltnup.master.txt'));
    expect(r.problems).toEqual([]);
    const on = (port: number) => listeningOn(r.value, port, 'tcp').map((s) => `${s.local!.address}:${s.processes[0]?.name}`);
    expect(on(6443)).toEqual(['*:kube-apiserver']);
    expect(on(10257)).toEqual(['*:kube-controller']);
    expect(on(2379)).toEqual(['127.0.0.1:etcd', '10.240.0.10:etcd']);
    expect(on(22)).toEqual(['0.0.0.0:sshd', ':::sshd']);
    expect(listeningOn(r.value, 22).map((s) => s.local!.family)).toEqual([4, 6]);
  });

  it('node-1 without -p: udp and tcp, no processes', () => {
    const r = parseSs(recorded('ss/ltnu.node-1.txt'));
    expect(r.problems).toEqual([]);
    expect(listeningOn(r.value, 53, 'udp')).toHaveLength(1);
    expect(listeningOn(r.value, 8472, 'udp')[0]!.local).toEqual({ address: '0.0.0.0', port: 8472, family: 4, wildcard: true });
    expect(r.value.every((s) => s.processes.length === 0)).toBe(true);
  });

  it('-lpn: unix, netlink and packet sockets parse too', () => {
    const r = parseSs(recorded('ss/lpn.node-1.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value).toHaveLength(recorded('ss/lpn.node-1.txt').trim().split('\n').length);
    expect(r.value.find((s) => s.path === '/run/systemd/private')?.processes[0]).toEqual({ name: 'systemd', pid: 1, fd: 22 });
    expect(r.value.filter((s) => s.netid === 'nl').every((s) => s.local === undefined)).toBe(true);
  });

  it('IPv6, wildcards and %iface scopes (synthetic)', () => {
    const out =
      'tcp LISTEN 0 4096 [::1]:2379 [::]:*\ntcp LISTEN 0 4096 [fe80::1%eth0]:10250 [::]:*\nudp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:* users:(("systemd-resolve",pid=400,fd=13))\ntcp LISTEN 0 128 *:10250 *:*\n';
    const r = parseSs(out);
    expect(r.problems).toEqual([]);
    expect(r.value.map((s) => s.local)).toEqual([
      { address: '::1', port: 2379, family: 6, wildcard: false },
      { address: 'fe80::1', port: 10250, iface: 'eth0', family: 6, wildcard: false },
      { address: '127.0.0.53', port: 53, iface: 'lo', family: 4, wildcard: false },
      { address: '*', port: 10250, family: 'any', wildcard: true },
    ]);
    expect(r.value[2]!.processes).toEqual([{ name: 'systemd-resolve', pid: 400, fd: 13 }]);
    expect(accepts(r.value[3]!, '10.0.0.5')).toBe(true);
    expect(accepts(r.value[0]!, '127.0.0.1')).toBe(false);
    expect(parseSocketAddress('0.0.0.0:*')).toBeUndefined();
    expect(parseSs('garbage line\n').problems).toHaveLength(1);
  });
});

describe('ip -j (recorded)', () => {
  it('the flannel vxlan device with VNI, local address, port and MTU', () => {
    const r = parseIpLinks(recorded('ip/link-d.node-1.json'));
    expect(r.problems).toEqual([]);
    const f = r.value.find((l) => l.ifname === 'flannel.1')!;
    expect(f).toMatchObject({ kind: 'vxlan', up: true, mtu: 1450, vxlan: { id: 1, local: '10.240.0.21', port: 8472 } });
    expect(r.value.map((l) => l.ifname)).toEqual(['lo', 'flannel.1', 'eth0']);
  });

  it('routes and addresses', () => {
    const routes = parseIpRoutes(recorded('ip/route.node-1.json')).value;
    expect(routeTo(routes, '10.200.95.0/24')).toMatchObject({ gateway: '10.200.95.0', dev: 'flannel.1', flags: ['onlink'] });
    expect(routeTo(routes, 'default')).toMatchObject({ gateway: '10.240.0.1', dev: 'eth0' });
    const addrs = parseIpAddrs(recorded('ip/addr.node-1.json')).value;
    expect(addrs.find((i) => i.ifname === 'eth0')!.addresses).toEqual([
      { family: 'inet', local: '10.240.0.21', prefixlen: 24, scope: 'global', label: 'eth0' },
    ]);
    expect(parseIpLinks('Device "flannel.9" does not exist.').problems[0]!.message).toContain('not JSON');
    expect(parseIpLinks('').value).toEqual([]);
  });
});

describe('conntrack -L (recorded)', () => {
  it('reads every entry with both tuples', () => {
    const text = recorded('conntrack/L.node-1.txt');
    const r = parseConntrack(text);
    expect(r.problems).toEqual([]);
    expect(r.value).toHaveLength(text.trim().split('\n').length);
    const e = r.value.find((x) => x.orig.dst === '10.32.0.1')!;
    expect(e).toMatchObject({
      proto: 'tcp',
      protoNum: 6,
      state: 'ESTABLISHED',
      flags: ['ASSURED'],
      orig: { dport: 443 },
      reply: { src: '10.240.0.10', sport: 6443 },
    });
    expect(natBackends(r.value, '10.32.0.1')).toEqual(['10.240.0.10']);
    expect(parseConntrack('').value).toEqual([]);
  });

  it('udp [UNREPLIED] and icmp tuples (synthetic), the stderr summary skipped', () => {
    const r = parseConntrack(
      'udp      17 29 src=10.200.1.5 dst=10.32.0.10 sport=40000 dport=53 [UNREPLIED] src=10.200.2.7 dst=10.200.1.5 sport=53 dport=40000 mark=0 use=1\nicmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1\nconntrack v1.4.8 (conntrack-tools): 2 flow entries have been shown.\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.value[0]).toMatchObject({ proto: 'udp', flags: ['UNREPLIED'], reply: { src: '10.200.2.7', sport: 53 } });
    expect(r.value[1]!.orig).toEqual({ src: '10.0.0.1', dst: '10.0.0.2', type: 8, code: 0, id: 7 });
  });
});

describe('etcdctl -w json (recorded)', () => {
  it('endpoint health, one member down', () => {
    expect(parseEndpointHealth(recorded('etcdctl/endpoint-health.master.json')).value).toEqual([
      { endpoint: 'https://127.0.0.1:2379', health: true, took: expect.stringMatching(/ms$/) },
    ]);
    const down = parseEndpointHealth(recorded('etcdctl/endpoint-health-one-down.master.json')).value;
    expect(down.map((h) => [h.endpoint, h.health, h.error])).toEqual([
      ['https://127.0.0.1:2379', true, undefined],
      ['https://127.0.0.1:2999', false, 'context deadline exceeded'],
    ]);
    expect(parseEndpointHealth(recorded('etcdctl/endpoint-health-one-down.master.stderr.txt')).problems[0]!.message).toContain('no JSON');
  });

  it('member list keeps uint64 IDs exact', () => {
    const m = parseMemberList(recorded('etcdctl/member-list.master.json'));
    expect(m.problems).toEqual([]);
    expect(m.value).toEqual([
      {
        id: '17982242243123226016',
        idHex: 'f98dc20bce6225a0',
        name: 'master',
        peerURLs: ['https://10.240.0.10:2380'],
        clientURLs: ['https://10.240.0.10:2379'],
        isLearner: false,
        started: true,
      },
    ]);
  });

  it('endpoint status names the leader', () => {
    const s = parseEndpointStatus(recorded('etcdctl/endpoint-status.master.json')).value;
    expect(s).toEqual([
      expect.objectContaining({
        endpoint: 'https://127.0.0.1:2379',
        memberId: '17982242243123226016',
        isLeader: true,
        version: '3.5.16',
        errors: [],
      }),
    ]);
  });

  it("get --prefix: base64 keys and values, flannel's config and leases", () => {
    const kvs = parseGet(recorded('etcdctl/get-prefix-flannel.master.json')).value;
    expect(kvs[0]).toMatchObject({
      key: '/coreos.com/network/config',
      value: '{"Network":"10.200.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}',
    });
    const leases = flannelLeases(kvs, '/coreos.com/network');
    expect(leases.problems).toEqual([]);
    expect(leases.value.map((l) => [l.subnet, l.publicIP, l.backendType]).sort()).toEqual([
      ['10.200.85.0/24', '10.240.0.21', 'vxlan'],
      ['10.200.95.0/24', '10.240.0.22', 'vxlan'],
    ]);
  });
});

describe('memory (recorded)', () => {
  it('cgroup v1 memory.stat: total_rss is the anonymous memory', () => {
    const r = parseMemoryStat(recorded('memory/memory.stat.v1.kubelet.node-1.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value).toMatchObject({ anonKey: 'total_rss', cgroupVersion: 1, anonBytes: 27684864 });
  });

  it('cgroup v2 memory.stat: anon (synthetic)', () => {
    expect(parseMemoryStat('anon 104857600\nfile 5242880\nkernel 1000\n').value).toMatchObject({
      anonKey: 'anon',
      cgroupVersion: 2,
      anonBytes: 104857600,
    });
    expect(parseMemoryStat('').problems[0]!.message).toBe('empty memory.stat');
  });

  it('/proc/<pid>/status VmRSS', () => {
    const r = parseProcStatus(recorded('memory/proc-status.kubelet.node-1.txt'));
    expect(r.value).toMatchObject({ name: 'kubelet', pid: 660, vmRssBytes: 86108 * 1024 });
    expect(parseProcStatus(recorded('memory/proc-status.kube-apiserver.master.txt')).value.name).toBe('kube-apiserver');
    expect(parseProcStatus('Name:\tkthreadd\nState:\tS (sleeping)\n').value.vmRssBytes).toBeUndefined();
  });
});

describe('iptables -S (recorded)', () => {
  it('the nat table: chains, policies, KUBE-SERVICES rules with comments', () => {
    const r = parseIptablesS(recorded('iptables/S.nat.node-1.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value.policies.PREROUTING).toBe('ACCEPT');
    expect(r.value.chains).toContain('KUBE-SERVICES');
    const k = rulesOf(r.value, 'KUBE-SERVICES').find((x) => x.options['-d'] === '10.32.0.1/32')!;
    expect(k).toMatchObject({
      comment: 'default/kubernetes:https cluster IP',
      options: { '-p': 'tcp', '--dport': '443' },
      target: 'KUBE-SVC-NPX46M4PTMTKRN6Y',
    });
    const one = parseIptablesS(recorded('iptables/S.nat.KUBE-SERVICES.node-1.txt')).value;
    expect(one.rules.at(-1)).toMatchObject({
      target: 'KUBE-NODEPORTS',
      comment: 'kubernetes service nodeports; NOTE: this must be the last rule in this chain',
    });
    expect(parseIptablesS(recorded('iptables/S.filter.node-1.txt')).problems).toEqual([]);
  });

  it('a missing chain is a problem, negations and quotes (synthetic)', () => {
    expect(parseIptablesS(recorded('iptables/S.nat.no-chain.node-1.txt')).problems[0]!.message).toBe(
      'iptables: No chain/target/match by that name.',
    );
    const r = parseIptablesS(
      '# Warning: iptables-legacy tables present, use iptables-legacy to see them\n-A POSTROUTING ! -d 10.200.0.0/16 -m comment --comment "say \\"hi\\"" -j MASQUERADE --random-fully\n',
    );
    expect(r.value.warnings).toEqual(['Warning: iptables-legacy tables present, use iptables-legacy to see them']);
    expect(r.value.rules[0]).toMatchObject({
      chain: 'POSTROUTING',
      options: { '!-d': '10.200.0.0/16' },
      comment: 'say "hi"',
      target: 'MASQUERADE',
    });
  });
});
