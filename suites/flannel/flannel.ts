// The flannel suite: the seed's "Конфигурация Flannel" checks — flanneld is healthy and holds a
// subnet, the flannel.<VNI> vxlan interface exists with the right VNI, address and MTU, every
// other worker's pod subnet is routed through it, and pods ping each other across workers in both
// directions (plus node to pod, the seed's `ping -c 1 10.200.12.0`). When pings fail the diagnosis
// points where the seed does: UDP between the hosts and the flannel interfaces.
import { type Cluster, findHost } from '../../harness/model/cluster.ts';
import { HEALTH } from '../../harness/model/components.ts';
import { cidrContains, parseCidr } from '../../harness/model/net.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { kube } from '../../harness/verify/kube.ts';
import { podExec } from '../../harness/verify/pod-exec.ts';
import { probePods, workspace } from '../../harness/verify/workspace.ts';

const workers = (c: Cluster) => c.workers.map((w) => w.host);

interface FlannelState {
  subnet?: string;
  mtu?: number;
  healthz: boolean;
  link?: { vni?: number; local?: string; mtu?: number; up: boolean };
  routes: string[];
}

function state(ctx: CheckContext, host: string): Promise<FlannelState> {
  return ctx.memo(`flannel:${host}`, async () => {
    const dev = `flannel.${ctx.cluster.flannel.vni}`;
    const r = await ctx.target.host(host).exec!(
      `cat /run/flannel/subnet.env 2>/dev/null; echo ---; curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${HEALTH.flanneldHealthzPort}/healthz; echo; echo ---; ip -d -j link show ${dev} 2>/dev/null; echo ---; ip -j route show 2>/dev/null`,
      { timeoutMs: 20_000 },
    );
    const [env = '', health = '', link = '', routes = ''] = r.stdout.split('---\n');
    const kv = Object.fromEntries(env.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
    let linkInfo: FlannelState['link'];
    try {
      const l = (JSON.parse(link) as { mtu?: number; operstate?: string; flags?: string[]; linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string } } }[])[0];
      if (l) linkInfo = { up: (l.flags ?? []).includes('UP'), ...(l.mtu ? { mtu: l.mtu } : {}), ...(l.linkinfo?.info_data?.id !== undefined ? { vni: l.linkinfo.info_data.id } : {}), ...(l.linkinfo?.info_data?.local ? { local: l.linkinfo.info_data.local } : {}) };
    } catch {
      linkInfo = undefined;
    }
    let routeList: string[] = [];
    try {
      routeList = (JSON.parse(routes) as { dst: string; dev?: string; gateway?: string }[]).map((x) => `${x.dst} ${x.dev ?? ''} ${x.gateway ?? ''}`.trim());
    } catch {
      routeList = [];
    }
    return {
      ...(kv.FLANNEL_SUBNET ? { subnet: kv.FLANNEL_SUBNET } : {}),
      ...(kv.FLANNEL_MTU ? { mtu: Number(kv.FLANNEL_MTU) } : {}),
      healthz: health.trim() === '200',
      ...(linkInfo ? { link: linkInfo } : {}),
      routes: routeList,
    };
  });
}

const FIX_FLANNEL = (host: string) => `fix: systemctl status flanneld and journalctl -u flanneld on ${host}`;

const daemon: Check = {
  id: 'flannel.daemon',
  title: 'flanneld is healthy and holds a subnet of the pod network',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const s = await state(ctx, host!);
    const problems: string[] = [];
    if (!s.healthz) problems.push(`${host}: flanneld's health endpoint 127.0.0.1:${HEALTH.flanneldHealthzPort} does not answer 200: flanneld is not running; ${FIX_FLANNEL(host!)}`);
    if (!s.subnet) problems.push(`${host}: /run/flannel/subnet.env has no FLANNEL_SUBNET: flanneld never got a lease (etcd reachable? see etcd.subnet-leases); ${FIX_FLANNEL(host!)}`);
    else if (!cidrContains(parseCidr(ctx.cluster.podCIDR)!, s.subnet.split('/')[0]!)) problems.push(`${host}: FLANNEL_SUBNET ${s.subnet} is outside the pod network ${ctx.cluster.podCIDR}`);
    return { problems, ...(s.subnet ? { notes: [`subnet ${s.subnet}, MTU ${s.mtu}`] } : {}) };
  },
};

const iface: Check = {
  id: 'flannel.interface',
  title: 'the flannel vxlan interface exists with the cluster\'s VNI, the host\'s address and MTU',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    if (ctx.cluster.flannel.backend !== 'vxlan') return { problems: [], skipped: `backend ${ctx.cluster.flannel.backend} uses no vxlan interface` };
    const w = findHost(ctx.cluster, host!)!;
    const s = await state(ctx, host!);
    const dev = `flannel.${ctx.cluster.flannel.vni}`;
    if (!s.link) return { problems: [`${host}: no interface ${dev} (the seed: "after flannel starts you should find flannel.N"); ${FIX_FLANNEL(host!)}`] };
    const problems: string[] = [];
    if (!s.link.up) problems.push(`${host}: ${dev} is down; ${FIX_FLANNEL(host!)}`);
    if (s.link.vni !== ctx.cluster.flannel.vni) problems.push(`${host}: ${dev} has VNI ${s.link.vni}, the network config says ${ctx.cluster.flannel.vni}`);
    if (s.link.local && s.link.local !== w.internalAddress && s.link.local !== w.address) problems.push(`${host}: ${dev} sends from ${s.link.local}, not the host's address ${w.address}: flanneld picked the wrong interface; fix: -iface=${w.internalAddress} and -public-ip=${w.address}`);
    if (s.mtu && s.link.mtu !== s.mtu) problems.push(`${host}: ${dev} has MTU ${s.link.mtu}, flannel's subnet.env says ${s.mtu}`);
    return { problems, notes: [`${dev}: vni ${s.link.vni}, local ${s.link.local}, mtu ${s.link.mtu}`] };
  },
};

const routes: Check = {
  id: 'flannel.routes',
  title: 'every other worker\'s pod subnet is routed through flannel',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const s = await state(ctx, host!);
    const problems: string[] = [];
    for (const other of ctx.cluster.workers.filter((w) => w.host !== host)) {
      const o = await state(ctx, other.host);
      if (!o.subnet) continue; // reported by flannel.daemon on that worker
      const net = o.subnet.replace(/\.\d+\/(\d+)$/, '.0/$1');
      const via = ctx.cluster.flannel.backend === 'vxlan' ? `flannel.${ctx.cluster.flannel.vni}` : other.internalAddress;
      const route = s.routes.find((r) => r.startsWith(`${net} `));
      if (!route) problems.push(`${host}: no route to ${other.host}'s pod subnet ${net}: flanneld on ${host} has not learned ${other.host}'s lease; ${FIX_FLANNEL(host!)}`);
      else if (!route.includes(via)) problems.push(`${host}: the route to ${net} goes "${route}", not through ${via}`);
    }
    return { problems };
  },
};

const ping: Check = {
  id: 'flannel.pod-ping',
  title: 'pods ping pods on every other worker, and the node pings them too',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    if (!ctx.options.active) return { problems: [], skipped: 'needs probe pods: --active' };
    const pods = await probePods(ctx);
    const mine = pods.find((p) => p.host === host)!;
    if (mine.problem) return { problems: [], skipped: `no probe pod runs on ${host} (see kubelet.pods-run)` };
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const problems: string[] = [];
    const notes: string[] = [];
    for (const other of pods.filter((p) => p.host !== host && p.ip)) {
      const [fromPod, fromNode] = await Promise.all([
        podExec(k, ns, mine.name, ['ping', '-c', '2', '-W', '2', other.ip!]),
        ctx.target.host(host!).exec!(`ping -c 2 -W 2 ${other.ip}`, { timeoutMs: 15_000 }),
      ]);
      const nodeOk = fromNode.code === 0;
      if (fromPod.ok && nodeOk) {
        notes.push(`${host} pod and node -> ${other.host} pod ${other.ip}: ok`);
        continue;
      }
      const peer = findHost(ctx.cluster, other.host)!;
      const me = findHost(ctx.cluster, host!)!;
      const where = ctx.cluster.flannel.backend === 'vxlan'
        ? `UDP ${ctx.cluster.flannel.port} between ${me.address} and ${peer.address} (iptables on both hosts: the seed's first suspect), and flannel.${ctx.cluster.flannel.vni} on both`
        : `the routes between ${me.address} and ${peer.address} (host-gw needs a real L2 segment, which most VPS providers do not give)`;
      problems.push(`${host}: ${fromPod.ok ? '' : `pod ${mine.name} cannot ping ${other.host}'s pod ${other.ip}`}${!fromPod.ok && !nodeOk ? ', and ' : ''}${nodeOk ? '' : `${host} itself cannot ping it`}: the pod network from ${host} to ${other.host} is broken; fix: check ${where}`);
    }
    return { problems, notes };
  },
};

export const flannelSuite: Suite = {
  name: 'flannel',
  title: 'flannel: daemon, vxlan interface, routes, pod-to-pod ping across workers',
  dependsOn: ['kubelet'],
  checks: [daemon, iface, routes, ping],
};
