// The dns suite: names as pods resolve them, whatever serves DNS (CoreDNS on every worker as in
// the seed, a cluster add-on, or only the node's resolver as in KTHW, which sets no clusterDNS).
// Each worker's probe pod reads the resolv.conf the kubelet gave it; it must name the kubelet's
// clusterDNS servers (or, without one, the node's own resolvers, none on the pod's loopback), and
// its first nameserver must answer the kubernetes service's name (when the cluster has DNS) and a
// name outside the cluster (when one is given), asked from inside the pod.
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
import { decodeRelayed, parseRelayBatch, parseResolvConf, podRelayBatch, query } from '../../harness/verify/dns.ts';
import { kube } from '../../harness/verify/kube.ts';
import { execFailed, podExec } from '../../harness/verify/pod-exec.ts';
import { probePods, workspace } from '../../harness/verify/workspace.ts';

const LOOPBACK = /^(127\.|::1$)/;

type PodAnswer = { addresses?: string[]; rcode?: string; error?: string; notRun?: string };

/** Asks each name (UDP) of `server` from inside the pod, all in one exec. */
async function askFromPod(ctx: CheckContext, pod: string, server: string, names: string[]): Promise<PodAnswer[]> {
  if (!names.length) return [];
  const k = await kube(ctx);
  const ns = await workspace(ctx);
  const qs = names.map((name) => query(name, 'udp'));
  const r = await podExec(k, ns, pod, podRelayBatch(qs.map((q) => ({ server, transport: 'udp', bytes: q.bytes }))));
  if (!r.ran) return names.map(() => ({ notRun: execFailed(pod, r) }));
  const replies = parseRelayBatch(r.stdout, qs.length);
  return qs.map((q, i) => {
    try {
      const a = decodeRelayed(replies[i]!, q.id, 'udp');
      return { addresses: a.addresses, rcode: a.rcode };
    } catch (e) {
      return { error: (e as Error).message };
    }
  });
}

const podsResolve = hostCheck({
  id: 'dns.pods-resolve',
  title: "pods resolve names through the resolver the kubelet gives them (the cluster's names and one outside it)",
  on: { role: 'worker' },
  needs: ['live', 'active'],
  codes: {
    'pod-resolver-wrong': "the pod's resolv.conf does not name the kubelet's cluster DNS",
    'pod-resolver-loopback': "the pod's resolv.conf names a loopback resolver (the pod's own, where nothing answers)",
    // No fault proves this one: every way to empty a pod's resolv.conf (the node's resolv.conf,
    // the kubelet's resolvConf: "") also changes what the node itself resolves with; a code need
    // not have a fault, only every code a fault expects must exist (registry.test.ts).
    'pod-resolver-missing': "the pod's resolv.conf names no nameserver (and the kubelet gives pods no cluster DNS)",
    'cluster-name-unresolved': "the kubernetes service's name does not resolve from the pod",
    'outside-name-unresolved': 'a name outside the cluster does not resolve from the pod',
  },
  timeoutMs: 60_000,
  async run(ctx, h: HostView) {
    const kubelet = h.facts.components.find((c) => c.kind === 'kubelet');
    if (!kubelet?.kubelet) return notApplicable(`discovery found no kubelet configuration on ${h.name}`);
    const clusterDNS = kubelet.kubelet.clusterDNS;
    const probeName = ctx.cluster.dns.probeName;
    if (!clusterDNS.length && !probeName)
      return notApplicable('the kubelet gives pods no cluster DNS and no name outside the cluster is given to resolve (probeName)');
    const pod = (await probePods(ctx)).find((p) => p.host === h.name)!;
    if (pod.problem) return inconclusive(`no probe pod runs on ${h.name} (see kubelet.pods-run)`);
    const k = await kube(ctx);
    const r = await podExec(k, await workspace(ctx), pod.name, ['cat', '/etc/resolv.conf']);
    if (!r.ok) return inconclusive(`cannot read /etc/resolv.conf in ${pod.name}: ${r.status}`);
    const notRun: string[] = [];
    const rc = parseResolvConf(r.stdout);
    const on = findingsOn(h.name);
    const findings: Finding[] = [];
    const cfg = kubelet.kubelet.configFile ?? kubelet.source('cluster-dns');
    if (clusterDNS.length && !clusterDNS.every((s) => rc.nameservers.includes(s))) {
      findings.push(
        on(
          'pod-resolver-wrong',
          `pod ${pod.name} /etc/resolv.conf`,
          `names ${rc.nameservers.join(', ') || 'no nameserver'}, not the kubelet's clusterDNS ${clusterDNS.join(', ')}`,
          `check clusterDNS in ${cfg} and restart the kubelet; pods get their resolv.conf when they start`,
        ),
      );
    }
    const lo = rc.nameservers.filter((n) => LOOPBACK.test(n));
    if (lo.length) {
      findings.push(
        on(
          'pod-resolver-loopback',
          `pod ${pod.name} /etc/resolv.conf`,
          `names ${lo.join(', ')}: a loopback address in a pod is the pod itself, where no resolver listens (the node's ${kubelet.kubelet.resolvConf} names a local stub resolver)`,
          `point the kubelet's resolvConf (${cfg}) at a file naming real resolvers (systemd-resolved: /run/systemd/resolve/resolv.conf)`,
        ),
      );
    }
    // Without clusterDNS pods get the node's resolvers; none at all leaves nothing to ask, which is
    // a finding (pod-resolver-wrong says it when the kubelet names a cluster DNS).
    if (!rc.nameservers.length && !clusterDNS.length) {
      const nodeRc = kubelet.kubelet.resolvConf || '"" (no file)';
      findings.push(
        on(
          'pod-resolver-missing',
          `pod ${pod.name} /etc/resolv.conf`,
          `names no nameserver: the kubelet gives pods no clusterDNS (${cfg}) and its resolvConf ${nodeRc} names none, so pods resolve no name${probeName ? ` (${probeName} was not asked)` : ''}`,
          `point the kubelet's resolvConf (${cfg}) at a file naming the node's resolvers on ${h.name} (or set clusterDNS), then recreate the pods`,
        ),
      );
    }
    const server = rc.nameservers.find((n) => !LOOPBACK.test(n));
    let examined = 1;
    const notes: string[] = [`resolv.conf: nameserver ${rc.nameservers.join(', ')}; search ${rc.search.join(' ') || '-'}`];
    const kname = `kubernetes.default.svc.${ctx.cluster.clusterDomain}`;
    // Both names in one exec into the pod.
    const asks = [...(clusterDNS.length ? [kname] : []), ...(probeName ? [probeName] : [])];
    const answers = server ? await askFromPod(ctx, pod.name, server, asks) : [];
    const answerOf = (name: string) => answers[asks.indexOf(name)]!;
    if (server && clusterDNS.length) {
      const name = kname;
      const a = answerOf(kname);
      if (!a.notRun) examined++;
      if (a.notRun) notRun.push(`${name} not asked: ${a.notRun}`);
      else if (a.error || a.rcode !== 'NOERROR' || !a.addresses?.includes(ctx.cluster.kubernetesServiceIP)) {
        findings.push(
          on(
            'cluster-name-unresolved',
            `${name} @${server}`,
            `from pod ${pod.name}: ${a.error ?? (a.rcode !== 'NOERROR' ? `answered ${a.rcode}` : `answered ${a.addresses?.join(', ') || 'no address'}, expected ${ctx.cluster.kubernetesServiceIP}`)}`,
            `see coredns.cluster-names, and the DNS service at ${server}`,
          ),
        );
      } else notes.push(`${name} -> ${a.addresses.join(', ')}`);
    }
    if (server && probeName) {
      const a = answerOf(probeName);
      if (!a.notRun) examined++;
      if (a.notRun) notRun.push(`${probeName} not asked: ${a.notRun}`);
      else if (a.error || a.rcode !== 'NOERROR' || !a.addresses?.length) {
        findings.push(
          on(
            'outside-name-unresolved',
            `${probeName} @${server}`,
            `from pod ${pod.name}: ${a.error ?? `answered ${a.rcode !== 'NOERROR' ? a.rcode : 'no address'}`}`,
            clusterDNS.length
              ? 'see coredns.upstream (the forward plugin and its upstream)'
              : `the node's resolvers in ${kubelet.kubelet.resolvConf} on ${h.name} must answer from the pod network`,
          ),
        );
      } else notes.push(`${probeName} -> ${a.addresses!.join(', ')}`);
    }
    return outcome(findings, examined, { notes, ...(notRun.length ? { inconclusive: notRun.join('; ') } : {}) });
  },
});

export const dnsSuite: Suite = {
  name: 'dns',
  title: 'DNS as pods see it: the resolver the kubelet gives them answers cluster names and names outside',
  dependsOn: ['pod-network'],
  checks: [podsResolve],
};
