// The hosts suite: the seed's "all services must be green" — every component of the host's role
// is running, starts at boot, restarts when it dies (the seed's scheduler "stopped by itself"
// until systemd restarted it), listens where it should, and the kernel forwards pod traffic.
import { type Cluster, type Host, allHosts, findHost } from '../../harness/model/cluster.ts';
import { type Component, componentsFor } from '../../harness/model/components.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';

interface UnitState {
  name: string;
  active: string;
  enabled: string;
  restart: string;
}

interface HostFacts {
  units: UnitState[];
  tcp: string[];
  udp: string[];
  sysctl: Record<string, string>;
}

const SYSCTLS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'];

function factsScript(h: Host, units: string[]): string {
  const perUnit = h.init === 'openrc'
    ? `st=$(rc-service "$u" status 2>/dev/null | sed -n 's/.*status: *//p'); [ "$st" = started ] && a=active || a=\${st:-inactive}
       rc-update show default 2>/dev/null | grep -qw "$u" && e=enabled || e=disabled
       grep -q '^supervisor=supervise-daemon' /etc/init.d/"$u" 2>/dev/null && r=on-failure || r=no
       echo "$u|$a|$e|$r"`
    : `echo "$u|$(systemctl is-active "$u" 2>/dev/null)|$(systemctl is-enabled "$u" 2>/dev/null)|$(systemctl show -p Restart --value "$u" 2>/dev/null)"`;
  return `for u in ${units.join(' ')}; do ${perUnit}; done
echo ---; ss -Hltn 2>/dev/null | awk '{print $4}'
echo ---; ss -Hlun 2>/dev/null | awk '{print $4}'
echo ---; for k in ${SYSCTLS.join(' ')}; do echo "$k=$(sysctl -n $k 2>/dev/null)"; done`;
}

function facts(ctx: CheckContext, host: string): Promise<HostFacts> {
  return ctx.memo(`hosts:${host}`, async () => {
    const h = findHost(ctx.cluster, host)!;
    const r = await ctx.target.host(host).exec!(factsScript(h, componentsFor(h.role).map((c) => c.name)), { timeoutMs: 30_000 });
    const [units = '', tcp = '', udp = '', sys = ''] = r.stdout.split('---\n');
    const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
    return {
      units: lines(units).map((l) => {
        const [name = '', active = '', enabled = '', restart = ''] = l.split('|');
        return { name, active: active || 'unknown', enabled: enabled || 'not-found', restart: restart || 'no' };
      }),
      tcp: lines(tcp),
      udp: lines(udp),
      sysctl: Object.fromEntries(lines(sys).map((l) => l.split('=') as [string, string])),
    };
  });
}

async function journalTail(ctx: CheckContext, host: string, unit: string): Promise<string> {
  const h = findHost(ctx.cluster, host)!;
  const cmd = h.init === 'openrc' ? `tail -n 3 /var/log/${unit}.log 2>/dev/null` : `journalctl -u ${unit} -n 3 --no-pager -o cat 2>/dev/null`;
  const r = await ctx.target.host(host).exec!(cmd, { timeoutMs: 15_000 });
  const tail = r.stdout.trim().split('\n').filter(Boolean).map((l) => l.slice(0, 200)).join(' | ');
  return tail ? `; last log lines: ${tail}` : '';
}

const hostsOf = (c: Cluster) => allHosts(c).map((h) => h.host);
const logsCmd = (h: Host, unit: string) => (h.init === 'openrc' ? `tail /var/log/${unit}.log` : `journalctl -u ${unit} -e`);

const active: Check = {
  id: 'hosts.services-active',
  title: 'every component of the host\'s role is running',
  hosts: hostsOf,
  live: true,
  async run(ctx, host) {
    const h = findHost(ctx.cluster, host!)!;
    const f = await facts(ctx, host!);
    const problems: string[] = [];
    for (const u of f.units.filter((x) => x.active !== 'active')) {
      const start = h.init === 'openrc' ? `rc-service ${u.name} start` : `systemctl start ${u.name}`;
      problems.push(`${host}: ${u.name} is ${u.active}${await journalTail(ctx, host!, u.name)}; fix: read ${logsCmd(h, u.name)} on ${host}, then ${start}`);
    }
    return { problems };
  },
};

const enabled: Check = {
  id: 'hosts.services-enabled',
  title: 'every component starts at boot',
  hosts: hostsOf,
  live: true,
  async run(ctx, host) {
    const h = findHost(ctx.cluster, host!)!;
    const f = await facts(ctx, host!);
    return {
      problems: f.units.filter((u) => u.enabled !== 'enabled').map((u) =>
        `${host}: ${u.name} is ${u.enabled} (it will not come back after a reboot); fix: ${h.init === 'openrc' ? `rc-update add ${u.name} default` : `systemctl enable ${u.name}`}`),
    };
  },
};

const restart: Check = {
  id: 'hosts.restart-policy',
  title: 'every component is restarted when it dies (Restart=on-failure, as the seed recommends)',
  hosts: hostsOf,
  live: true,
  async run(ctx, host) {
    const h = findHost(ctx.cluster, host!)!;
    const f = await facts(ctx, host!);
    const ok = new Set(['on-failure', 'always', 'on-abnormal', 'on-abort']);
    return {
      problems: f.units.filter((u) => !ok.has(u.restart)).map((u) =>
        `${host}: ${u.name} has Restart=${u.restart}: a crash leaves it down (the seed's scheduler "stopped by itself" until systemd restarted it); fix: ${h.init === 'openrc' ? `supervisor=supervise-daemon in /etc/init.d/${u.name}` : `Restart=on-failure and RestartSec=5 in ${u.name}.service, then systemctl daemon-reload`}`),
    };
  },
};

function listens(addrs: string[], port: number): boolean {
  return addrs.some((a) => a.endsWith(`:${port}`));
}

const listening: Check = {
  id: 'hosts.listening',
  title: 'every component listens on its ports (2379, 6443, 10250, 53, ...)',
  hosts: hostsOf,
  live: true,
  async run(ctx, host) {
    const h = findHost(ctx.cluster, host!)!;
    const f = await facts(ctx, host!);
    const problems: string[] = [];
    const expect = (c: Component, port: number, proto: 'tcp' | 'udp') => {
      if (!listens(proto === 'tcp' ? f.tcp : f.udp, port)) {
        const state = f.units.find((u) => u.name === c.name)?.active ?? 'unknown';
        problems.push(`${host}: nothing listens on ${proto} port ${port} (${c.name}, ${state}); fix: ${state === 'active' ? `check ${c.name}'s flags and log for the bind address` : `start ${c.name}`} (ss -ltnup on ${host})`);
      }
    };
    for (const c of componentsFor(h.role)) {
      for (const p of c.tcpPorts) expect(c, p, 'tcp');
      for (const p of c.udpPorts ?? []) expect(c, p, 'udp');
    }
    return { problems };
  },
};

const sysctl: Check = {
  id: 'hosts.sysctl',
  title: 'workers forward pod traffic (net.ipv4.ip_forward=1, bridged traffic through iptables)',
  hosts: (c) => c.workers.map((w) => w.host),
  live: true,
  async run(ctx, host) {
    const f = await facts(ctx, host!);
    return {
      problems: SYSCTLS.filter((k) => f.sysctl[k] !== '1').map((k) =>
        `${host}: ${k} is ${f.sysctl[k] || 'absent'}, must be 1 (the seed: without forwarding pods on different nodes cannot talk); fix: sysctl -w ${k}=1 and keep it in /etc/sysctl.d/99-kubernetes.conf`),
    };
  },
};

export const hostsSuite: Suite = {
  name: 'hosts',
  title: 'Hosts: services running, enabled, restarting, listening; kernel forwarding',
  dependsOn: [],
  checks: [active, enabled, restart, listening, sysctl],
};
