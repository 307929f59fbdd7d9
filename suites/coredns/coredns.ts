// The coredns suite: the seed's `dig kubernetes.default.svc.cluster.local @127.0.0.1` -> 10.32.0.1,
// for every CoreDNS the model names (one per worker, a host service), asked from the node and from a
// pod, over UDP and TCP, with queries built by dns-packet; a test service resolves to its
// ClusterIP; and a name outside the cluster is forwarded to the upstream.
import { type Cluster, findHost } from '../../harness/model/cluster.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { type DnsAnswer, type Transport, decode, fromBase64, hostRelay, podRelay, query } from '../../harness/verify/dns.ts';
import { kube } from '../../harness/verify/kube.ts';
import { podExec } from '../../harness/verify/pod-exec.ts';
import { BACKEND_SERVICE, backends, probePods, workspace } from '../../harness/verify/workspace.ts';

const workers = (c: Cluster) => c.workers.map((w) => w.host);

interface Asked {
  from: string;
  transport: Transport;
  answer?: DnsAnswer;
  error?: string;
}

/** Asks `name` of the CoreDNS on `server` from that host and from its probe pod, UDP and TCP. */
async function ask(ctx: CheckContext, serverHost: string, name: string, fromPod: boolean): Promise<Asked[]> {
  const server = findHost(ctx.cluster, serverHost)!.internalAddress;
  const transports: Transport[] = ['udp', 'tcp'];
  const jobs: Promise<Asked>[] = transports.map(async (transport) => {
    const q = query(name, transport);
    const r = await ctx.target.host(serverHost).exec!(hostRelay(server, transport, q.bytes), { timeoutMs: 15_000 });
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
        jobs.push((async () => {
          const q = query(name, transport);
          const r = await podExec(k, ns, pod.name, podRelay(server, transport, q.bytes));
          try {
            return { from: `pod ${pod.name}`, transport, answer: decode(fromBase64(r.stdout), q.id, transport) };
          } catch (e) {
            return { from: `pod ${pod.name}`, transport, error: (e as Error).message };
          }
        })());
      }
    }
  }
  return Promise.all(jobs);
}

function judge(serverHost: string, server: string, name: string, asked: Asked[], expect: (a: DnsAnswer) => string | undefined, hint: string): string[] {
  const bad = asked.map((a) => ({ a, why: a.error ?? expect(a.answer!) })).filter((x) => x.why);
  if (bad.length === 0) return [];
  const allSilent = bad.length === asked.length && bad.every((x) => x.a.error);
  if (allSilent) {
    return [`${serverHost}: CoreDNS at ${server}:53 does not answer (${bad.map((x) => `${x.a.transport} from ${x.a.from}: ${x.why}`).join('; ')}): it is not running or not listening there; fix: systemctl status coredns and journalctl -u coredns on ${serverHost} (the seed: port 53 clashes with systemd-resolved on stock Ubuntu)`];
  }
  return [`${serverHost}: ${name} @${server}: ${bad.map((x) => `${x.a.transport} from ${x.a.from}: ${x.why}`).join('; ')}; ${hint}`];
}

const clusterNames: Check = {
  id: 'coredns.cluster-names',
  title: 'every CoreDNS answers kubernetes.default.svc.<domain> and a test service with their ClusterIPs (UDP and TCP, from node and pod)',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const c = ctx.cluster;
    const server = findHost(c, host!)!.internalAddress;
    const kname = `kubernetes.default.svc.${c.clusterDomain}`;
    const hint = `fix: the kubernetes plugin in /etc/coredns/Corefile on ${host} (zone ${c.clusterDomain}, its kubeconfig) and journalctl -u coredns`;
    const want = (ip: string) => (a: DnsAnswer) => (a.rcode !== 'NOERROR' ? `answered ${a.rcode}` : a.addresses.includes(ip) ? undefined : `answered ${a.addresses.join(', ') || 'no address'}, expected ${ip}`);
    const problems = judge(host!, server, kname, await ask(ctx, host!, kname, ctx.options.active), want(c.kubernetesServiceIP), hint);
    const notes = [`${kname} -> ${c.kubernetesServiceIP}`];
    if (ctx.options.active && problems.length === 0) {
      const { clusterIP } = await backends(ctx);
      const sname = `${BACKEND_SERVICE}.${await workspace(ctx)}.svc.${c.clusterDomain}`;
      problems.push(...judge(host!, server, sname, await ask(ctx, host!, sname, true), want(clusterIP), hint));
      notes.push(`${sname} -> ${clusterIP}`);
    }
    return { problems, notes };
  },
};

const upstream: Check = {
  id: 'coredns.upstream',
  title: 'a name outside the cluster is forwarded to the upstream and answered',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const name = ctx.cluster.dns.probeName;
    if (!name) return { problems: [], skipped: 'the model names no dns.probeName to resolve through the upstream' };
    const server = findHost(ctx.cluster, host!)!.internalAddress;
    const upstreams = ctx.cluster.dns.upstreams.join(' ');
    const asked = await ask(ctx, host!, name, ctx.options.active);
    const problems = judge(host!, server, name, asked, (a) => (a.rcode !== 'NOERROR' ? `answered ${a.rcode}` : a.addresses.length ? undefined : 'answered no address'),
      `the forward plugin cannot get an answer from its upstream; fix: check "forward . ${upstreams}" in /etc/coredns/Corefile on ${host} and that the upstream answers (dig @<upstream> ${name})`);
    return { problems, notes: problems.length ? [] : [`${name} -> ${asked.find((a) => a.answer)?.answer?.addresses.join(', ')}`] };
  },
};

export const corednsSuite: Suite = {
  name: 'coredns',
  title: 'CoreDNS: cluster names and a test service from node and pod over UDP and TCP, upstream forwarding',
  dependsOn: ['flannel'],
  checks: [clusterNames, upstream],
};
