// The pod network, whatever provides it (flannel, KTHW's bridge plugin with static routes, another
// CNI): every worker's runtime has a valid CNI config whose pod subnet lies in the pod network;
// pods reach pods on every other worker, and nodes reach them too (the seed's
// `ping -c 1 10.200.12.0`); where the network is a bridge per node (KTHW chapter 11), every host
// routes every other worker's pod subnet to that worker. When pings fail the diagnosis points
// where the network in use breaks: flannel's UDP port, the static routes, or the CNI.
import { type ClusterFacts, podNetworkOf } from '../../harness/discovery/facts.ts';
import { parseIpRoutes, routeTo } from '../../harness/hostio/ip.ts';
import { parsePingSweep, pingSweepScript } from '../../harness/hostio/ping-sweep.ts';
import { cidrContains, networkOf, parseCidr } from '../../harness/model/net.ts';
import type { Host } from '../../harness/model/cluster.ts';
import {
  type CheckContext,
  type Finding,
  type Suite,
  findingsOn,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
} from '../../harness/verify/check.ts';
import { kube } from '../../harness/verify/kube.ts';
import { execFailed, podExec } from '../../harness/verify/pod-exec.ts';
import { probePods, workspace } from '../../harness/verify/workspace.ts';

/** The bridge network's subnet of a worker (its CNI config's host-local range). */
function bridgeSubnet(facts: ClusterFacts, host: string): { subnet?: string; file?: string } {
  const net = facts.hosts.find((h) => h.host === host)?.cni?.containerd;
  const sub = net?.plugins.find((p) => p.type === 'bridge')?.ipam?.subnets[0];
  return { ...(sub ? { subnet: sub } : {}), ...(net ? { file: net.file } : {}) };
}

const cniConfig = hostCheck({
  id: 'pod-network.cni-config',
  title: "the container runtime's CNI config is valid and hands out addresses inside the pod network",
  on: { role: 'worker' },
  codes: {
    'cni-config-missing': 'the runtime has no usable CNI config',
    'cni-subnet-outside': 'the config hands out addresses outside the pod network',
  },
  async run(ctx, h) {
    const cni = h.facts.cni;
    if (!cni) return notApplicable(`discovery found no container runtime on ${h.name}`);
    const on = findingsOn(h.name);
    const net = cni.containerd;
    if (!net) {
      const why = cni.files.length
        ? `the first file of ${cni.confDir}, ${cni.files[0]!.path}, is not a valid CNI config (containerd does not fall back to the next one)`
        : `${cni.confDir} holds no *.conf, *.conflist or *.json`;
      return outcome(
        [
          on(
            'cni-config-missing',
            cni.confDir,
            `${why}: the runtime reports "cni plugin not initialized" and no pod starts`,
            `put the pod network's config into ${cni.confDir} (${podNetworkOf(ctx.facts) === 'flannel' ? "flannel's 10-flannel.conflist" : "the bridge plugin's 10-bridge.conf, as KTHW's chapter 09 does"})`,
          ),
        ],
        Math.max(1, cni.files.length),
      );
    }
    const findings: Finding[] = [];
    const pod = parseCidr(ctx.cluster.podCIDR);
    for (const sub of net.plugins.flatMap((p) => p.ipam?.subnets ?? [])) {
      if (pod && !cidrContains(pod, sub.split('/')[0]!))
        findings.push(
          on(
            'cni-subnet-outside',
            net.file,
            `hands out ${sub}, outside the pod network ${ctx.cluster.podCIDR} (${ctx.derived?.sources.podCIDR ?? 'the model'}): kube-proxy and the routes treat those pods as outside the cluster`,
            `give ${h.name} a subnet of ${ctx.cluster.podCIDR} in ${net.file}`,
          ),
        );
    }
    return outcome(findings, 1, { notes: [`${net.file}: ${net.types.join(' -> ')}`] });
  },
});

const routes = hostCheck({
  id: 'pod-network.routes',
  title: "with a bridge per node (KTHW), every host routes every other worker's pod subnet to that worker",
  on: {},
  needs: ['live'],
  codes: { 'route-missing': "no route to another worker's pod subnet", 'route-wrong': 'the route goes elsewhere than that worker' },
  async run(ctx, h) {
    const kind = podNetworkOf(ctx.facts);
    if (kind !== 'bridge')
      return notApplicable(
        kind === 'flannel'
          ? 'flannel programs the routes (see flannel.routes)'
          : `the pod network is ${kind === 'none' ? 'not found' : 'not a bridge per node'}: its own CNI routes pods`,
      );
    const others = ctx.cluster.workers.filter((w) => w.host !== h.name);
    const wanted = others.map((w) => ({ w, ...bridgeSubnet(ctx.facts, w.host) })).filter((x) => x.subnet);
    if (!wanted.length) return inconclusive('no other worker has a bridge subnet to route to (see pod-network.cni-config)');
    const r = await h.access.exec!('ip -j route show', { timeoutMs: 15_000 });
    const table = parseIpRoutes(r.stdout, `${h.name}: ip -j route show`).value;
    const on = findingsOn(h.name);
    const findings: Finding[] = [];
    for (const { w, subnet } of wanted) {
      const net = networkOf(subnet!) ?? subnet!;
      const route = routeTo(table, net);
      const add = `ip route add ${net} via ${w.internalAddress} on ${h.name} (KTHW chapter 11), and keep it across reboots`;
      if (!route)
        findings.push(on('route-missing', `route to ${net}`, `is missing: pods on ${w.host} (${net}) are unreachable from ${h.name}`, add));
      else if (route.gateway !== w.internalAddress && route.gateway !== w.address)
        findings.push(
          on(
            'route-wrong',
            `route to ${net}`,
            `goes via ${route.gateway ?? route.dev ?? '?'}, not ${w.host} (${w.internalAddress})`,
            `ip route replace ${net} via ${w.internalAddress} on ${h.name}`,
          ),
        );
    }
    return outcome(findings, wanted.length);
  },
});

/** Where to look when pods on `me` cannot reach pods on `peer`, for the network in use. */
function whereToLook(ctx: CheckContext, me: Host, peer: Host): string {
  switch (podNetworkOf(ctx.facts)) {
    case 'flannel':
      return ctx.cluster.flannel.backend === 'vxlan'
        ? `UDP ${ctx.cluster.flannel.port} between ${me.address} and ${peer.address} (iptables on both hosts: the seed's first suspect), and flannel.${ctx.cluster.flannel.vni} on both`
        : `the routes between ${me.address} and ${peer.address} (host-gw needs a real L2 segment, which most VPS providers do not give)`;
    case 'bridge':
      return `the static routes to each other's pod subnets on ${me.host} and ${peer.host} (see pod-network.routes), and forwarding between the hosts`;
    default:
      return `the pod network's own agents on ${me.host} and ${peer.host}`;
  }
}

const podToPod = hostCheck({
  id: 'pod-network.pod-to-pod',
  title: 'pods ping pods on every other worker, and the node pings them too',
  on: { role: 'worker' },
  needs: ['live', 'active'],
  codes: { 'pod-network-broken': 'pods (or the node) cannot reach a pod on another worker' },
  timeoutMs: 90_000,
  async run(ctx, h) {
    const host = h.name;
    const pods = await probePods(ctx);
    const mine = pods.find((p) => p.host === host)!;
    if (mine.problem) return inconclusive(`no probe pod runs on ${host} (see kubelet.pods-run)`);
    const others = pods.filter((p) => p.host !== host && p.ip);
    if (!others.length) return inconclusive('no probe pod runs on another worker (see kubelet.pods-run)');
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    // One exec into the pod and one command on the node, each pinging every other worker's pod.
    const ips = others.map((o) => o.ip!);
    const script = pingSweepScript(ips);
    const [fromPod, fromNode] = await Promise.all([
      podExec(k, ns, mine.name, ['sh', '-c', script], 30_000),
      h.access.exec!(script, { timeoutMs: 30_000 }),
    ]);
    const podSaw = parsePingSweep(fromPod.ran ? fromPod.stdout : '', ips);
    const nodeSaw = parsePingSweep(fromNode.stdout, ips);
    const findings: Finding[] = [];
    const notes: string[] = [];
    for (const other of others) {
      const pod = podSaw.get(other.ip!)!;
      const node = nodeSaw.get(other.ip!)!;
      if (pod !== 'fail' && node !== 'fail') {
        notes.push(`${host} -> ${other.host} pod ${other.ip}: from the pod ${pod}, from the node ${node}`);
        continue;
      }
      const peer = ctx.cluster.workers.find((w) => w.host === other.host)!;
      const who = [pod === 'fail' ? `pod ${mine.name} cannot ping it` : '', node === 'fail' ? `${host} itself cannot ping it` : '']
        .filter(Boolean)
        .join(', and ');
      findings.push({
        code: 'pod-network-broken',
        host,
        subject: `${other.host}'s pod ${other.ip}`,
        message: `${who}: the pod network from ${host} to ${other.host} is broken`,
        fix: `check ${whereToLook(ctx, h.model, peer)}`,
      });
    }
    // A failed exec says nothing about the network (the apiserver could not reach the kubelet, the
    // pod went away): the pod's view is not known, and the check does not pass on the node's alone.
    const unsaid = (saw: Map<string, string>) => [...saw].filter(([, v]) => v === 'unknown').map(([ip]) => ip);
    const podUnsaid = unsaid(podSaw);
    const nodeUnsaid = unsaid(nodeSaw);
    const unknown = [
      ...(fromPod.ran ? [] : [`${execFailed(mine.name, fromPod)}; see kubelet.logs-exec-port-forward`]),
      ...(fromPod.ran && podUnsaid.length ? [`the ping in ${mine.name} printed no result for ${podUnsaid.join(', ')}`] : []),
      ...(nodeUnsaid.length ? [`the ping on ${host} printed no result for ${nodeUnsaid.join(', ')} (exit ${fromNode.code})`] : []),
    ];
    if (unknown.length) return outcome(findings, others.length, { notes, inconclusive: unknown.join('; ') });
    return outcome(findings, others.length, { notes });
  },
});

export const podNetworkSuite: Suite = {
  name: 'pod-network',
  title: 'Pod network (any CNI): CNI config, routes between nodes, pod-to-pod and node-to-pod across workers',
  dependsOn: ['kubelet'],
  gate: ['pod-network.pod-to-pod'],
  checks: [cniConfig, routes, podToPod],
};
