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
import { type DnsAnswer, type Transport, decode, fromBase64, hostRelay, podRelay, query } from '../../harness/verify/dns.ts';
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

/** The host's CoreDNS: its Corefile, the port it serves, the server block for a zone. */
function corednsOf(h: HostView): { c: ComponentFacts; path: string; port: number } | undefined {
  const c = h.facts.components.find((x) => x.kind === 'coredns');
  if (!c?.corefile) return undefined;
  const port = c.corefile.value.servers.flatMap((s) => s.addresses.filter((a) => a.transport === 'dns')).map((a) => a.port)[0] ?? 53;
  return { c, path: c.corefile.path, port };
}

/** Asks `name` of the CoreDNS on `serverHost` from that host and from its probe pod, UDP and TCP. */
async function ask(ctx: CheckContext, serverHost: string, name: string, fromPod: boolean, port: number): Promise<Asked[]> {
  const server = ctx.host(serverHost).model.internalAddress;
  const transports: Transport[] = ['udp', 'tcp'];
  const jobs: Promise<Asked>[] = transports.map(async (transport) => {
    const q = query(name, transport);
    const r = await ctx.host(serverHost).access.exec!(hostRelay(server, transport, q.bytes, port), { timeoutMs: 15_000 });
    try {
      if (r.code === 3) throw new Error(`connection refused (${r.stderr.trim().split('\n').pop()?.slice(0, 80)})`);
      return { from: `node ${serverHost}`, transport, answer: decode(fromBase64(r.stdout), q.id, transport) };
    } catch (e) {
      return { from: `node ${serverHost}`, transport, error: (e as Error).message };
    }
  });
  if (fromPod) {
    const pod = (await probePods(ctx)).find((p) => p.host === serverHost);
    if (pod && !pod.problem) {
      const k = await kube(ctx);
      const ns = await workspace(ctx);
      for (const transport of transports) {
        jobs.push(
          (async () => {
            const q = query(name, transport);
            const r = await podExec(k, ns, pod.name, podRelay(server, transport, q.bytes, port));
            if (!r.ran) return { from: `pod ${pod.name}`, transport, notRun: execFailed(pod.name, r) };
            try {
              return { from: `pod ${pod.name}`, transport, answer: decode(fromBase64(r.stdout), q.id, transport) };
            } catch (e) {
              return { from: `pod ${pod.name}`, transport, error: (e as Error).message };
            }
          })(),
        );
      }
    }
  }
  return Promise.all(jobs);
}

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
    const zone = `${c.clusterDomain}.`.toLowerCase();
    const k8s = cd.c.corefile!.value.servers.find((s) => s.kubernetes?.zones.some((z) => zone.endsWith(z)));
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
    const asked = await ask(ctx, host, kname, ctx.options.active, cd.port);
    const findings = judge(h, server, kname, asked, want(c.kubernetesServiceIP), 'dns-wrong-answer', fix);
    const notes = [`${kname} -> ${c.kubernetesServiceIP}`];
    if (ctx.options.active && findings.length === 0) {
      const { clusterIP } = await backends(ctx);
      const sname = `${BACKEND_SERVICE}.${await workspace(ctx)}.svc.${c.clusterDomain}`;
      const asked2 = await ask(ctx, host, sname, true, cd.port);
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
    const fwd = cd.c.corefile!.value.servers.find((s) => s.zones.includes('.'))?.forward[0];
    if (!fwd) return notApplicable(`${host}:${cd.path} forwards no names outside its zones (no "forward ." in a "." server block)`);
    const server = `${h.model.internalAddress}:${cd.port}`;
    const asked = await ask(ctx, host, name, ctx.options.active, cd.port);
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
