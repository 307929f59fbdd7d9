// The hosts suite: the seed's "all services must be green" — every component discovery found on a
// host (whatever its unit is called) is running, starts at boot, restarts when it dies (the
// seed's scheduler "stopped by itself" until systemd restarted it) and listens where its own
// flags say; every host runs what its role needs; workers forward pod traffic.
import type { ComponentFacts } from '../../harness/discovery/facts.ts';
import { servedPorts } from '../../harness/discovery/ports.ts';
import { type ListeningSocket, listeningOn, parseSs } from '../../harness/hostio/ss.ts';
import type { Role } from '../../harness/model/cluster.ts';
import {
  type CheckContext,
  type Finding,
  type HostView,
  type Suite,
  clusterCheck,
  findingsOn,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
} from '../../harness/verify/check.ts';

const SYSCTLS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'];

/** Live state the suite reads once per host: listening sockets and kernel settings. */
interface Live {
  sockets: ListeningSocket[];
  sysctl: Record<string, string>;
}

function live(ctx: CheckContext, h: HostView): Promise<Live> {
  return ctx.memo(`hosts:${h.name}`, async () => {
    const r = await h.access.exec!(
      `ss -Hltnu 2>/dev/null; echo ---; for k in ${SYSCTLS.join(' ')}; do echo "$k=$(sysctl -n $k 2>/dev/null)"; done`,
      { timeoutMs: 30_000 },
    );
    const [ss = '', sys = ''] = r.stdout.split('---\n');
    const sockets = parseSs(ss, `${h.name}: ss -Hltnu`).value;
    if (!sockets.length) throw new Error(`ss printed no listening socket (${r.stderr.trim().slice(0, 120) || 'is iproute2 installed?'})`);
    return {
      sockets,
      sysctl: Object.fromEntries(
        sys
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => l.trim().split('=') as [string, string]),
      ),
    };
  });
}

/** The components a host's role needs, whatever else it runs. */
const NEEDED: Record<Role, string[][]> = {
  master: [['kube-apiserver'], ['kube-controller-manager'], ['kube-scheduler']],
  worker: [['kubelet'], ['kube-proxy'], ['containerd']],
};

const components = (h: HostView): ComponentFacts[] => h.facts.components;
const noComponents = (h: HostView) => notApplicable(`discovery found no Kubernetes component on ${h.name}`);

async function logTail(h: HostView, unit: string): Promise<string> {
  if (!h.access.exec) return '';
  const r = await h.access.exec(h.init.logs(unit, 3), { timeoutMs: 15_000 });
  const tail = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(0, 200))
    .join(' | ');
  return tail ? `; last log lines: ${tail}` : '';
}

const discovered = clusterCheck({
  id: 'hosts.discovered',
  title: 'discovery finds a cluster: every host runs a Kubernetes component, there is a master and a worker',
  codes: {
    'host-without-components': 'a host of the target runs no Kubernetes component',
    'no-master': 'no host runs kube-apiserver',
    'no-worker': 'no host runs a kubelet',
  },
  async run(ctx) {
    const findings: Finding[] = [];
    for (const h of ctx.facts.hosts.filter((x) => !x.components.length)) {
      const why = h.problems.find((p) => /could not read the host/.test(p.message))?.message;
      findings.push({
        code: 'host-without-components',
        host: h.host,
        subject: h.host,
        message: `runs no Kubernetes component that discovery could find (${why ?? `init system: ${h.init}; no service executes kube-apiserver, kubelet, etcd, ...`})`,
        fix: ctx.target.live
          ? `check the host's services (${h.init === 'openrc' ? 'rc-status --all' : 'systemctl list-units --type=service'}) and that hardway reaches the right host`
          : "put the host's unit files (etc/systemd/system/*.service, etc/init.d/*) into the tree",
      });
    }
    const kinds = new Set(ctx.facts.hosts.flatMap((h) => h.components.map((c) => c.kind)));
    if (!kinds.has('kube-apiserver'))
      findings.push({
        code: 'no-master',
        subject: 'the cluster',
        message: 'no host runs kube-apiserver',
        fix: 'add the master to the inventory (or its folder to the tree)',
      });
    if (!kinds.has('kubelet'))
      findings.push({
        code: 'no-worker',
        subject: 'the cluster',
        message: 'no host runs a kubelet',
        fix: 'add the workers to the inventory (or their folders to the tree)',
      });
    return outcome(findings, ctx.facts.hosts.length);
  },
});

const roleComponents = hostCheck({
  id: 'hosts.components',
  title:
    'every host runs the components its role needs (masters: apiserver, controller manager, scheduler; workers: kubelet, kube-proxy, container runtime)',
  on: {},
  codes: { 'component-missing': 'a component the role needs runs nowhere on the host' },
  async run(_ctx, h) {
    const have = new Set(components(h).map((c) => c.kind));
    const roles = new Set<Role>([h.role]);
    const findings: Finding[] = [];
    const on = findingsOn(h.name);
    for (const role of roles) {
      for (const alternatives of NEEDED[role]) {
        if (alternatives.some((a) => have.has(a as ComponentFacts['kind']))) continue;
        findings.push(
          on(
            'component-missing',
            alternatives.join(' or '),
            `runs as no service on this ${role} (found: ${[...have].join(', ') || 'none'})`,
            `install and enable ${alternatives[0]} (the unit is found by what it runs, whatever it is called)`,
          ),
        );
      }
    }
    return outcome(findings, NEEDED[h.role].length);
  },
});

const active = hostCheck({
  id: 'hosts.services-active',
  title: 'every component found on the host is running',
  on: {},
  needs: ['live'],
  codes: { 'unit-inactive': 'a component service is not running' },
  async run(_ctx, h) {
    const cs = components(h);
    if (!cs.length) return noComponents(h);
    const findings: Finding[] = [];
    for (const c of cs.filter((x) => x.state?.active !== 'active')) {
      findings.push({
        code: 'unit-inactive',
        host: h.name,
        subject: c.unit,
        message: `is ${c.state?.active ?? 'in an unknown state'}${await logTail(h, c.unit)}`,
        fix: `read ${h.init.logsHint(c.unit)} on ${h.name}, then ${h.init.start(c.unit)}`,
      });
    }
    return outcome(findings, cs.length);
  },
});

const enabled = hostCheck({
  id: 'hosts.services-enabled',
  title: 'every component starts at boot',
  on: {},
  needs: ['live'],
  codes: { 'unit-not-enabled': 'a component does not start at boot' },
  async run(_ctx, h) {
    const cs = components(h);
    if (!cs.length) return noComponents(h);
    return outcome(
      cs
        .filter((c) => !['enabled', 'static', 'enabled-runtime', 'alias'].includes(c.state?.enabled ?? ''))
        .map((c) => ({
          code: 'unit-not-enabled',
          host: h.name,
          subject: c.unit,
          message: `is ${c.state?.enabled ?? 'unknown'} (it will not come back after a reboot)`,
          fix: h.init.enableFix(c.unit),
        })),
      cs.length,
    );
  },
});

const RESTARTING = new Set(['on-failure', 'always', 'on-abnormal', 'on-abort', 'on-watchdog']);

const restart = hostCheck({
  id: 'hosts.restart-policy',
  title: 'every component is restarted when it dies (Restart=on-failure, as the seed recommends)',
  on: {},
  codes: { 'no-restart-policy': 'a crash leaves the component down' },
  async run(_ctx, h) {
    const cs = components(h);
    if (!cs.length) return noComponents(h);
    return outcome(
      cs
        .filter((c) => !RESTARTING.has(c.state?.restart ?? 'no'))
        .map((c) => ({
          code: 'no-restart-policy',
          host: h.name,
          subject: c.unit,
          message: `has Restart=${c.state?.restart ?? 'no'} (${c.definedIn[0] ?? 'its unit'}): a crash leaves it down (the seed's scheduler "stopped by itself" until systemd restarted it)`,
          fix: h.init.restartFix(c.unit),
        })),
      cs.length,
    );
  },
});

const listening = hostCheck({
  id: 'hosts.listening',
  title: 'every component listens on the ports its flags and config give it (2379, 6443, 10250, 53, ...)',
  on: {},
  needs: ['live'],
  codes: { 'port-not-listening': 'nothing listens on a port a component serves' },
  async run(ctx, h) {
    const cs = components(h);
    if (!cs.length) return noComponents(h);
    const l = await live(ctx, h);
    const findings: Finding[] = [];
    let examined = 0;
    for (const c of cs) {
      for (const p of servedPorts(c)) {
        examined++;
        if (listeningOn(l.sockets, p.port, p.proto).length) continue;
        const state = c.state?.active ?? 'unknown';
        findings.push({
          code: 'port-not-listening',
          host: h.name,
          subject: `${p.proto}/${p.port}`,
          message: `nothing listens there (${c.unit}'s ${p.what}, from ${p.source}; ${c.unit} is ${state})`,
          fix: `${state === 'active' ? `check ${c.unit}'s flags and log for the bind address` : h.init.start(c.unit)} (ss -ltnup on ${h.name})`,
        });
      }
    }
    if (!examined) return inconclusive(`no component on ${h.name} declares a port to check`);
    return outcome(findings, examined);
  },
});

const sysctl = hostCheck({
  id: 'hosts.sysctl',
  title: 'workers forward pod traffic (net.ipv4.ip_forward=1, bridged traffic through iptables)',
  on: { role: 'worker' },
  needs: ['live'],
  codes: { 'sysctl-off': 'a kernel setting pod traffic needs is off or absent' },
  async run(ctx, h) {
    const f = await live(ctx, h);
    return outcome(
      SYSCTLS.filter((k) => f.sysctl[k] !== '1').map((k) => ({
        code: 'sysctl-off',
        host: h.name,
        subject: k,
        message: `is ${f.sysctl[k] || 'absent'}, must be 1 (the seed: without forwarding pods on different nodes cannot talk)`,
        fix: `sysctl -w ${k}=1 and keep it in /etc/sysctl.d/99-kubernetes.conf`,
      })),
      SYSCTLS.length,
    );
  },
});

export const hostsSuite: Suite = {
  name: 'hosts',
  title: 'Hosts: the components each role needs, running, enabled, restarting, listening; kernel forwarding',
  dependsOn: [],
  checks: [discovered, roleComponents, active, enabled, restart, listening, sysctl],
};
