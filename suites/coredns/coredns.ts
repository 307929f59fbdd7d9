// The coredns suite, where CoreDNS runs as a host service (the seed's way): its Corefile read by
// discovery gives the port and zones; the seed's `dig kubernetes.default.svc.cluster.local
// @127.0.0.1` -> 10.32.0.1 is asked from the node and from a pod, over UDP and TCP, with queries
// built by dns-packet; a test service resolves to its ClusterIP; and a name outside the cluster is
// forwarded to the upstream. What pods get from the kubelet, whatever serves DNS, is the dns suite's.
import type { ComponentFacts } from '../../harness/discovery/facts.ts';
import {
  type CheckContext,
  type Finding,
  type HostView,
  type Suite,
  hostCheck,
  notApplicable,
  outcome,
} from '../../harness/verify/check.ts';
import {
  type DnsAnswer,
  type Relayed,
  type Transport,
  decodeRelayed,
  hostRelayBatch,
  parseRelayBatch,
  podRelayBatch,
  query,
} from '../../harness/verify/dns.ts';
import { kube } from '../../harness/verify/kube.ts';
import { execFailed, podExec } from '../../harness/verify/pod-exec.ts';
import { BACKEND_SERVICE, backends, probePods, workspace } from '../../harness/verify/workspace.ts';

interface Asked {
  from: string;
  transport: Transport;
  answer?: DnsAnswer;
  error?: string;
  /** The exec into the pod failed: nothing was asked from there (not a DNS answer, not silence). */
  notRun?: string;
}

/** How many questions were asked (a failed exec asked nothing). */
const answered = (asked: Asked[]) => asked.filter((a) => !a.notRun).length;

/** Questions that could not be asked (a failed exec into the probe pod), for an inconclusive. */
function notAsked(asked: Asked[]): string | undefined {
  const n = asked.filter((a) => a.notRun);
  return n.length ? `${n.map((a) => `${a.transport} from ${a.from}`).join(', ')} not asked: ${n[0]!.notRun}` : undefined;
}

type Coredns = { c: ComponentFacts; path: string; port: number };

/** The host's CoreDNS: its Corefile, the port it serves, the server block for a zone. */
function corednsOf(h: HostView): Coredns | undefined {
  const c = h.facts.components.find((x) => x.kind === 'coredns');
  if (!c?.corefile) return undefined;
  const port = c.corefile.value.servers.flatMap((s) => s.addresses.filter((a) => a.transport === 'dns')).map((a) => a.port)[0] ?? 53;
  return { c, path: c.corefile.path, port };
}

/** Asks every name of the CoreDNS on `serverHost` from that host and from its probe pod, UDP and
 * TCP: one command on the node and one exec into the pod for all of them. */
async function ask(ctx: CheckContext, serverHost: string, names: string[], fromPod: boolean, port: number): Promise<Map<string, Asked[]>> {
  const server = ctx.host(serverHost).model.internalAddress;
  const transports: Transport[] = ['udp', 'tcp'];
  const plan = names.flatMap((name) => transports.map((transport) => ({ name, transport, ...query(name, transport) })));
  const questions = plan.map((p) => ({ server, port, transport: p.transport, bytes: p.bytes }));
  const read = (from: string, r: Relayed, p: (typeof plan)[number]): Asked => {
    try {
      return { from, transport: p.transport, answer: decodeRelayed(r, p.id, p.transport) };
    } catch (e) {
      return { from, transport: p.transport, error: (e as Error).message };
    }
  };
  const fromNode = (async () => {
    const from = `node ${serverHost}`;
    const r = await ctx.host(serverHost).access.exec!(hostRelayBatch(questions), { timeoutMs: 15_000 });
    const replies = parseRelayBatch(r.stdout, plan.length);
    return plan.map((p, i) => read(from, replies[i]!, p));
  })();
  const fromPodAsked = (async (): Promise<Asked[]> => {
    if (!fromPod) return [];
    const pod = (await probePods(ctx)).find((p) => p.host === serverHost);
    if (!pod || pod.problem) return [];
    const from = `pod ${pod.name}`;
    const r = await podExec(await kube(ctx), await workspace(ctx), pod.name, podRelayBatch(questions));
    if (!r.ran) return plan.map((p) => ({ from, transport: p.transport, notRun: execFailed(pod.name, r) }));
    const replies = parseRelayBatch(r.stdout, plan.length);
    return plan.map((p, i) => read(from, replies[i]!, p));
  })();
  const [node, pod] = await Promise.all([fromNode, fromPodAsked]);
  const of = (asked: Asked[], name: string) => asked.filter((_, i) => plan[i]!.name === name);
  return new Map(names.map((name) => [name, [...of(node, name), ...of(pod, name)]]));
}

/** The server block answering the cluster's zone with the kubernetes plugin, if any. */
const clusterZoneServer = (ctx: CheckContext, cd: Coredns) => {
  const zone = `${ctx.cluster.clusterDomain}.`.toLowerCase();
  return cd.c.corefile!.value.servers.find((s) => s.kubernetes?.zones.some((z) => zone.endsWith(z)));
};

/** Where this CoreDNS forwards names outside its zones ("forward ." in a "." block), if anywhere. */
const forwardOf = (cd: Coredns) => cd.c.corefile!.value.servers.find((s) => s.zones.includes('.'))?.forward[0];

/** The names both checks ask of a host's CoreDNS, asked together once a run (the checks share the
 * answers): kubernetes.default where it serves the cluster's zone, the probe name where it
 * forwards; from the pod too on active runs. */
function askedOf(ctx: CheckContext, h: HostView, cd: Coredns): Promise<Map<string, Asked[]>> {
  return ctx.memo(`coredns-asked:${h.name}`, () => {
    const c = ctx.cluster;
    const names: string[] = [];
    if (clusterZoneServer(ctx, cd)) names.push(`kubernetes.default.svc.${c.clusterDomain}`);
    if (c.dns.probeName && forwardOf(cd)) names.push(c.dns.probeName);
    return ask(ctx, h.name, names, ctx.options.active, cd.port);
  });
}

const backendName = async (ctx: CheckContext) => `${BACKEND_SERVICE}.${await workspace(ctx)}.svc.${ctx.cluster.clusterDomain}`;

/** Findings about one name asked of one server: silence everywhere means CoreDNS is down. */
function judge(
  h: HostView,
  server: string,
  name: string,
  asked: Asked[],
  expect: (a: DnsAnswer) => string | undefined,
  code: string,
  fix: string,
): Finding[] {
  const serverHost = h.name;
  asked = asked.filter((a) => !a.notRun);
  const bad = asked.map((a) => ({ a, why: a.error ?? expect(a.answer!) })).filter((x) => x.why);
  if (bad.length === 0) return [];
  const allSilent = bad.length === asked.length && bad.every((x) => x.a.error);
  const detail = bad.map((x) => `${x.a.transport} from ${x.a.from}: ${x.why}`).join('; ');
  if (allSilent) {
    const unit = h.facts.components.find((c) => c.kind === 'coredns')?.unit ?? 'coredns';
    return [
      {
        code: 'dns-silent',
        host: serverHost,
        subject: `CoreDNS ${server}`,
        message: `does not answer (${detail}): it is not running or not listening there`,
        fix: `${h.init.logsHint(unit)} on ${serverHost} (the seed: port 53 clashes with systemd-resolved on stock Ubuntu)`,
      },
    ];
  }
  return [{ code, host: serverHost, subject: `${name} @${server}`, message: detail, fix }];
}

const clusterNames = hostCheck({
  id: 'coredns.cluster-names',
  title: 'every CoreDNS answers kubernetes.default.svc.<domain> and a test service with their ClusterIPs (UDP and TCP, from node and pod)',
  on: { component: 'coredns' },
  needs: ['live'],
  codes: { 'dns-silent': 'CoreDNS does not answer at all', 'dns-wrong-answer': 'a cluster name resolves wrongly or not at all' },
  async run(ctx, h) {
    const c = ctx.cluster;
    const host = h.name;
    const cd = corednsOf(h);
    if (!cd) return notApplicable(`discovery found no Corefile for CoreDNS on ${host}`);
    const k8s = clusterZoneServer(ctx, cd);
    if (!k8s)
      return notApplicable(
        `${host}:${cd.path} serves no zone of ${c.clusterDomain} with the kubernetes plugin: this CoreDNS answers no cluster names`,
      );
    const server = `${h.model.internalAddress}:${cd.port}`;
    const kname = `kubernetes.default.svc.${c.clusterDomain}`;
    const fix = `the kubernetes plugin in ${cd.path} on ${host} (zone ${c.clusterDomain}, its kubeconfig) and ${h.init.logsHint(cd.c.unit)}`;
    const want = (ip: string) => (a: DnsAnswer) =>
      a.rcode !== 'NOERROR'
        ? `answered ${a.rcode}`
        : a.addresses.includes(ip)
          ? undefined
          : `answered ${a.addresses.join(', ') || 'no address'}, expected ${ip}`;
    const asked = [...(await askedOf(ctx, h, cd)).get(kname)!];
    const findings = judge(h, server, kname, asked, want(c.kubernetesServiceIP), 'dns-wrong-answer', fix);
    const notes = [`${kname} -> ${c.kubernetesServiceIP}`];
    // The test service is asked once kubernetes.default answers (its failure says more), and once
    // its backends run (backends() waits for them and the Service).
    if (ctx.options.active && findings.length === 0) {
      const { clusterIP } = await backends(ctx);
      const sname = await backendName(ctx);
      const asked2 = (await ask(ctx, host, [sname], true, cd.port)).get(sname)!;
      findings.push(...judge(h, server, sname, asked2, want(clusterIP), 'dns-wrong-answer', fix));
      notes.push(`${sname} -> ${clusterIP}`);
      asked.push(...asked2);
    }
    const unknown = notAsked(asked);
    return outcome(findings, answered(asked), { notes, ...(unknown ? { inconclusive: unknown } : {}) });
  },
});

const upstream = hostCheck({
  id: 'coredns.upstream',
  title: 'a name outside the cluster is forwarded to the upstream and answered',
  on: { component: 'coredns' },
  needs: ['live'],
  codes: { 'dns-silent': 'CoreDNS does not answer at all', 'upstream-fails': 'a name outside the cluster gets no answer' },
  async run(ctx, h) {
    const name = ctx.cluster.dns.probeName;
    if (!name) return notApplicable("no name outside the cluster to resolve (the model's dns.probeName, or probeName: in the inventory)");
    const host = h.name;
    const cd = corednsOf(h);
    if (!cd) return notApplicable(`discovery found no Corefile for CoreDNS on ${host}`);
    const fwd = forwardOf(cd);
    if (!fwd) return notApplicable(`${host}:${cd.path} forwards no names outside its zones (no "forward ." in a "." server block)`);
    const server = `${h.model.internalAddress}:${cd.port}`;
    const asked = (await askedOf(ctx, h, cd)).get(name)!;
    const findings = judge(
      h,
      server,
      name,
      asked,
      (a) => (a.rcode !== 'NOERROR' ? `answered ${a.rcode}` : a.addresses.length ? undefined : 'answered no address'),
      'upstream-fails',
      `the forward plugin cannot get an answer from its upstream: check "forward . ${fwd.to.join(' ')}" in ${cd.path} on ${host} (line ${fwd.line}) and that the upstream answers (dig @<upstream> ${name})`,
    );
    const unknown = notAsked(asked);
    return outcome(findings, answered(asked), {
      ...(findings.length ? {} : { notes: [`${name} -> ${asked.find((a) => a.answer)?.answer?.addresses.join(', ')}`] }),
      ...(unknown ? { inconclusive: unknown } : {}),
    });
  },
});

export const corednsSuite: Suite = {
  name: 'coredns',
  title:
    'CoreDNS as a host service (where it runs): cluster names and a test service from node and pod over UDP and TCP, upstream forwarding',
  dependsOn: ['pod-network'],
  checks: [clusterNames, upstream],
};
