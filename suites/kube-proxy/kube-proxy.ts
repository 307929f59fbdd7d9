// The kube-proxy suite, as the seed's "Kube Proxy и Сервисы" section does it by hand: a Service over
// two pods on different workers; repeated requests to its ClusterIP from a node all succeed and
// `conntrack -L -d <ClusterIP>` shows both backend pod addresses; the service has its chain in the
// nat table. When only one backend shows up, the diagnosis follows the seed: ask each pod address
// directly; if both answer it is kube-proxy, otherwise the pod network (or the pod).
import type { Cluster } from '../../harness/model/cluster.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { kube, poll } from '../../harness/verify/kube.ts';
import { BACKEND_PORT, BACKEND_SERVICE, backends, workspace } from '../../harness/verify/workspace.ts';

const workers = (c: Cluster) => c.workers.map((w) => w.host);
const REQUESTS = 20;

/** Waits until the Service has a ready endpoint per backend pod (the endpointslice controller). */
async function readyEndpoints(ctx: CheckContext): Promise<string[]> {
  return ctx.memo('kube-proxy:endpoints', async () => {
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const want = (await backends(ctx)).pods.filter((p) => p.ip).length;
    const got = await poll(30_000, async () => {
      const s = await k.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${BACKEND_SERVICE}` });
      const ips = s.items.flatMap((x) => (x.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
      return ips.length >= want ? ips : undefined;
    });
    if (got) return got;
    const s = await k.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${BACKEND_SERVICE}` });
    return s.items.flatMap((x) => (x.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
  });
}

const natRules: Check = {
  id: 'kube-proxy.nat-rules',
  title: 'the service has its KUBE-SVC chain in the nat table on every worker',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    if (!ctx.options.active) return { problems: [], skipped: 'needs a test Service: --active' };
    const { clusterIP } = await backends(ctx);
    const want = [clusterIP, ctx.cluster.kubernetesServiceIP];
    // kube-proxy programs a new service within its sync period: give it a few seconds.
    let rules = '';
    const found = await poll(15_000, async () => {
      rules = (await ctx.target.host(host!).exec!('iptables -w 5 -t nat -S KUBE-SERVICES 2>&1', { timeoutMs: 20_000 })).stdout;
      return want.every((ip) => new RegExp(`-d ${ip.replace(/\./g, '\\.')}/32 .*-j KUBE-SVC-`).test(rules)) ? true : undefined;
    });
    if (found) return { problems: [] };
    const missing = want.filter((ip) => !new RegExp(`-d ${ip.replace(/\./g, '\\.')}/32 .*-j KUBE-SVC-`).test(rules));
    const noChain = /No chain|doesn't exist/.test(rules);
    return {
      problems: [`${host}: ${noChain ? 'the nat table has no KUBE-SERVICES chain' : `KUBE-SERVICES has no rule for ${missing.join(', ')}`}: kube-proxy on ${host} is not programming services; fix: systemctl status kube-proxy and journalctl -u kube-proxy on ${host}; look at iptables -t nat -vnL (the seed)`],
    };
  },
};

function conntrackBackends(out: string, clusterIP: string): string[] {
  // tcp 6 118 TIME_WAIT src=A dst=CLUSTERIP sport=.. dport=80 src=POD dst=A sport=8000 dport=..
  const ips = new Set<string>();
  for (const line of out.split('\n')) {
    const srcs = [...line.matchAll(/src=(\S+)/g)].map((m) => m[1]!);
    if (line.includes(`dst=${clusterIP}`) && srcs[1]) ips.add(srcs[1]);
  }
  return [...ips];
}

const spread: Check = {
  id: 'kube-proxy.clusterip-spread',
  title: `${REQUESTS} requests to the ClusterIP from the node all succeed and conntrack shows every backend`,
  hosts: workers,
  live: true,
  async run(ctx, host) {
    if (!ctx.options.active) return { problems: [], skipped: 'needs a test Service: --active' };
    const { pods, clusterIP } = await backends(ctx);
    const up = pods.filter((p) => p.ip);
    if (up.length < 2) return { problems: [], skipped: `fewer than two backend pods run (${pods.map((p) => p.problem).filter(Boolean).join('; ')})` };
    const eps = await readyEndpoints(ctx);
    const h = ctx.target.host(host!);
    const r = await h.exec!(
      `ok=0; for i in $(seq ${REQUESTS}); do [ "$(curl -s -m 2 http://${clusterIP}/status/)" = ok ] && ok=$((ok+1)); done; echo $ok; conntrack -L -d ${clusterIP} -p tcp 2>/dev/null`,
      { timeoutMs: 90_000 },
    );
    const [first = '0', ...rest] = r.stdout.split('\n');
    const okCount = Number(first);
    const seen = conntrackBackends(rest.join('\n'), clusterIP);
    const notes = [`${okCount}/${REQUESTS} answered ok; conntrack backends: ${seen.join(', ') || 'none'}; endpoints: ${eps.join(', ')}`];
    const missing = up.filter((p) => !seen.includes(p.ip!));
    if (okCount === REQUESTS && missing.length === 0) return { problems: [], notes };
    if (eps.length < up.length) {
      return { problems: [`${host}: the Service has ${eps.length} ready endpoints for ${up.length} running backends: the endpointslice controller (kube-controller-manager) or a readiness probe lags; fix: kubectl -n ${await workspace(ctx)} describe endpointslices`], notes };
    }
    // The seed's procedure: ask each pod address directly from this node.
    const direct = await Promise.all(up.map(async (p) => {
      const d = await h.exec!(`curl -s -m 3 http://${p.ip}:${BACKEND_PORT}/status/`, { timeoutMs: 10_000 });
      return { pod: p, ok: d.stdout.trim() === 'ok' };
    }));
    const dead = direct.filter((d) => !d.ok);
    const lost = missing.length ? `conntrack shows only ${seen.join(', ') || 'no backend'} (missing ${missing.map((p) => `${p.ip} on ${p.host}`).join(', ')})` : `only ${okCount}/${REQUESTS} requests answered`;
    if (dead.length === 0) {
      return { problems: [`${host}: ${lost}, yet every pod answers when asked directly: kube-proxy is at fault (the seed); fix: systemctl status kube-proxy on ${host} and compare iptables -t nat -vnL KUBE-SERVICES on every node`], notes };
    }
    return {
      problems: [`${host}: ${lost}; asked directly from ${host}, ${dead.map((d) => `${d.pod.name} (${d.pod.ip}:${BACKEND_PORT} on ${d.pod.host})`).join(', ')} does not answer: not kube-proxy but the pod network to ${dead.map((d) => d.pod.host).join(', ')} or the pod itself (the seed); fix: see flannel.pod-ping, then the pod's logs`],
      notes,
    };
  },
};

export const kubeProxySuite: Suite = {
  name: 'kube-proxy',
  title: 'kube-proxy: ClusterIP load spread seen in conntrack, nat rules',
  dependsOn: ['flannel', 'controller-manager'],
  checks: [natRules, spread],
};
