// The flannel suite, where flanneld runs: the seed's "Конфигурация Flannel" checks — flanneld is
// healthy (its own -healthz-port, when it has one) and holds a subnet (its -subnet-file), the
// flannel.<VNI> vxlan interface exists with the network config's VNI, the host's address and
// MTU, and every other worker's pod subnet is routed through it. Pod-to-pod reachability, for any
// pod network, is the pod-network suite's.
import { parseIpLinks, parseIpRoutes } from '../../harness/hostio/ip.ts';
import { parseSubnetEnv } from '../../harness/discovery/parse/flannel.ts';
import { cidrContains, networkOf, parseCidr } from '../../harness/model/net.ts';
import {
  type CheckContext,
  type Finding,
  type HostView,
  type Suite,
  findingsOn,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
} from '../../harness/verify/check.ts';

interface FlannelState {
  subnet?: string;
  mtu?: number;
  /** undefined: flanneld serves no health endpoint (no -healthz-port). */
  healthz?: boolean;
  healthzUrl?: string;
  subnetFile: string;
  link?: { vni?: number; local?: string; mtu?: number; up: boolean };
  routes: string[];
}

function options(h: HostView) {
  return h.facts.components.find((c) => c.kind === 'flanneld')?.flannel;
}

function state(ctx: CheckContext, host: string): Promise<FlannelState> {
  return ctx.memo(`flannel:${host}`, async () => {
    const h = ctx.host(host);
    const o = options(h);
    const dev = `flannel.${ctx.cluster.flannel.vni}`;
    const subnetFile = o?.subnetFile ?? '/run/flannel/subnet.env';
    const healthzUrl =
      o && o.healthzPort > 0 ? `http://${o.healthzIP === '0.0.0.0' ? '127.0.0.1' : o.healthzIP}:${o.healthzPort}/healthz` : undefined;
    const r = await h.access.exec!(
      `cat ${subnetFile} 2>/dev/null; echo ---; ${healthzUrl ? `curl -s -o /dev/null -w '%{http_code}' ${healthzUrl}` : 'echo none'}; echo; echo ---; ip -d -j link show ${dev} 2>/dev/null; echo ---; ip -j route show 2>/dev/null`,
      { timeoutMs: 20_000 },
    );
    const [env = '', health = '', link = '', routes = ''] = r.stdout.split('---\n');
    const sub = parseSubnetEnv(env, `${host}:${subnetFile}`).value;
    const l = parseIpLinks(link, `${host}: ip -d -j link show ${dev}`).value[0];
    const linkInfo = l
      ? {
          up: l.up,
          ...(l.mtu ? { mtu: l.mtu } : {}),
          ...(l.vxlan?.id !== undefined ? { vni: l.vxlan.id } : {}),
          ...(l.vxlan?.local ? { local: l.vxlan.local } : {}),
        }
      : undefined;
    return {
      ...(sub.subnet ? { subnet: sub.subnet } : {}),
      ...(sub.mtu ? { mtu: sub.mtu } : {}),
      ...(healthzUrl ? { healthz: health.trim() === '200', healthzUrl } : {}),
      subnetFile,
      ...(linkInfo ? { link: linkInfo } : {}),
      routes: parseIpRoutes(routes, `${host}: ip -j route show`).value.map((x) => `${x.dst} ${x.dev ?? ''} ${x.gateway ?? ''}`.trim()),
    };
  });
}

const FIX_FLANNEL = (h: HostView) => `${h.init.logsHint('flanneld')} on ${h.name} (and ${h.init.restart('flanneld')})`;

const daemon = hostCheck({
  id: 'flannel.daemon',
  title: 'flanneld is healthy and holds a subnet of the pod network',
  on: { component: 'flanneld' },
  needs: ['live'],
  codes: {
    'flanneld-unhealthy': "flanneld's health endpoint does not answer",
    'no-subnet': 'flanneld holds no lease',
    'subnet-outside': 'the lease is outside the pod network',
  },
  async run(ctx, h) {
    const s = await state(ctx, h.name);
    const on = findingsOn(h.name);
    const findings: Finding[] = [];
    // Without a health endpoint, the unit's state tells whether flanneld runs.
    const running = s.healthz ?? h.facts.components.find((c) => c.kind === 'flanneld')?.state?.active === 'active';
    if (!running)
      findings.push(
        on(
          'flanneld-unhealthy',
          s.healthzUrl ?? 'flanneld',
          s.healthzUrl ? 'does not answer 200: flanneld is not running' : 'is not running',
          FIX_FLANNEL(h),
        ),
      );
    if (!s.subnet)
      findings.push(
        on(
          'no-subnet',
          s.subnetFile,
          'has no FLANNEL_SUBNET: flanneld never got a lease (etcd reachable? see etcd.subnet-leases)',
          FIX_FLANNEL(h),
        ),
      );
    else if (!cidrContains(parseCidr(ctx.cluster.podCIDR)!, s.subnet.split('/')[0]!))
      findings.push(
        on(
          'subnet-outside',
          s.subnetFile,
          `FLANNEL_SUBNET ${s.subnet} is outside the pod network ${ctx.cluster.podCIDR}`,
          'delete the stale lease and restart flanneld',
        ),
      );
    return outcome(findings, 2, s.subnet ? { notes: [`subnet ${s.subnet}, MTU ${s.mtu}`] } : {});
  },
});

const iface = hostCheck({
  id: 'flannel.interface',
  title: "the flannel vxlan interface exists with the cluster's VNI, the host's address and MTU",
  on: { component: 'flanneld' },
  needs: ['live'],
  codes: {
    'vxlan-missing': 'no flannel.<VNI> interface',
    'vxlan-down': 'the interface is down',
    'vxlan-vni': 'another VNI',
    'vxlan-local': 'sends from another address',
    'vxlan-mtu': 'another MTU than flannel says',
  },
  async run(ctx, h) {
    if (ctx.cluster.flannel.backend !== 'vxlan') return notApplicable(`backend ${ctx.cluster.flannel.backend} uses no vxlan interface`);
    const w = h.model;
    const s = await state(ctx, h.name);
    const dev = `flannel.${ctx.cluster.flannel.vni}`;
    const on = findingsOn(h.name);
    if (!s.link)
      return outcome(
        [on('vxlan-missing', dev, 'does not exist (the seed: "after flannel starts you should find flannel.N")', FIX_FLANNEL(h))],
        1,
      );
    const findings: Finding[] = [];
    if (!s.link.up) findings.push(on('vxlan-down', dev, 'is down', FIX_FLANNEL(h)));
    if (s.link.vni !== ctx.cluster.flannel.vni)
      findings.push(
        on(
          'vxlan-vni',
          dev,
          `has VNI ${s.link.vni}, the network config says ${ctx.cluster.flannel.vni}`,
          'align the VNI of the network config with the interface (restart flanneld)',
        ),
      );
    if (s.link.local && s.link.local !== w.internalAddress && s.link.local !== w.address)
      findings.push(
        on(
          'vxlan-local',
          dev,
          `sends from ${s.link.local}, not the host's address ${w.address}: flanneld picked the wrong interface`,
          `-iface=${w.internalAddress} and -public-ip=${w.address}`,
        ),
      );
    if (s.mtu && s.link.mtu !== s.mtu)
      findings.push(on('vxlan-mtu', dev, `has MTU ${s.link.mtu}, flannel's subnet.env says ${s.mtu}`, FIX_FLANNEL(h)));
    return outcome(findings, 1, { notes: [`${dev}: vni ${s.link.vni}, local ${s.link.local}, mtu ${s.link.mtu}`] });
  },
});

const routes = hostCheck({
  id: 'flannel.routes',
  title: "every other worker's pod subnet is routed through flannel",
  on: { component: 'flanneld' },
  needs: ['live'],
  codes: { 'route-missing': "no route to another worker's pod subnet", 'route-wrong': 'the route goes elsewhere' },
  async run(ctx, h) {
    const s = await state(ctx, h.name);
    const on = findingsOn(h.name);
    const findings: Finding[] = [];
    let examined = 0;
    for (const other of ctx.cluster.workers.filter((w) => w.host !== h.name)) {
      const o = await state(ctx, other.host);
      if (!o.subnet) continue; // reported by flannel.daemon on that worker
      examined++;
      // The route is to the subnet's network (10.200.64.0/18 for flannel's 10.200.65.1/18).
      const net = networkOf(o.subnet) ?? o.subnet;
      const via = ctx.cluster.flannel.backend === 'vxlan' ? `flannel.${ctx.cluster.flannel.vni}` : other.internalAddress;
      const route = s.routes.find((r) => r.startsWith(`${net} `));
      if (!route)
        findings.push(
          on(
            'route-missing',
            `route to ${net}`,
            `is missing (${other.host}'s pod subnet): flanneld on ${h.name} has not learned ${other.host}'s lease`,
            FIX_FLANNEL(h),
          ),
        );
      else if (!route.includes(via))
        findings.push(on('route-wrong', `route to ${net}`, `goes "${route}", not through ${via}`, FIX_FLANNEL(h)));
    }
    if (examined === 0) return inconclusive('no other worker holds a subnet to route to (see flannel.daemon)');
    return outcome(findings, examined);
  },
});

export const flannelSuite: Suite = {
  name: 'flannel',
  title: "flannel (where it runs): daemon, vxlan interface, routes to the other workers' subnets",
  dependsOn: ['kubelet'],
  gate: ['flannel.daemon'],
  checks: [daemon, iface, routes],
};
