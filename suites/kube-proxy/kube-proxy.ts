// The kube-proxy suite, as the seed's "Kube Proxy и Сервисы" section does it by hand: a Service over
// two pods on different workers; repeated requests to its ClusterIP from a node all succeed and
// `conntrack -L -d <ClusterIP>` shows both backend pod addresses; in iptables mode the service has
// its chain in the nat table. When only one backend shows up, the diagnosis follows the seed: ask
// each pod address directly; if both answer it is kube-proxy, otherwise the pod network (or the
// pod). Runs where kube-proxy runs; what it expects of the node's rules follows kube-proxy's mode.
import { type ComponentFacts, podNetworkOf } from '../../harness/discovery/facts.ts';
import { statusHint } from '../../harness/discovery/fix-text.ts';
import { natBackends, parseConntrack } from '../../harness/hostio/conntrack.ts';
import { parseIptablesS, rulesOf } from '../../harness/hostio/iptables.ts';
import {
  type CheckContext,
  type HostView,
  type Suite,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
  passed,
} from '../../harness/verify/check.ts';
import { kube, poll } from '../../harness/verify/kube.ts';
import { BACKEND_PORT, BACKEND_SERVICE, backends, workspace } from '../../harness/verify/workspace.ts';

const REQUESTS = 20;

const proxyOf = (h: HostView): ComponentFacts => h.facts.components.find((c) => c.kind === 'kube-proxy')!;

/** kube-proxy's mode and where it was set ("" and unset mean iptables on Linux). */
export function proxyMode(c: ComponentFacts): { mode: string; source: string } {
  const mode = c.kubeProxy?.mode || 'iptables';
  const file = c.kubeProxy?.configFile;
  if (file) return { mode, source: c.configRaw?.mode ? `${c.host}:${file} mode` : `${c.host}:${file} sets no mode: iptables` };
  return { mode, source: c.flags.has('proxy-mode') ? c.source('proxy-mode') : `${c.host}: kube-proxy's default mode iptables` };
}

/** How to look at the rules kube-proxy programs, per mode. */
const RULES_HINT: Record<string, string> = {
  iptables: 'iptables -t nat -vnL KUBE-SERVICES',
  ipvs: 'ipvsadm -Ln',
  nftables: 'nft list table ip kube-proxy',
};

/** What iptables or conntrack print when hardway's user may not read the tables (not root, no
 * sudo): "Permission denied (you must be root)", "Operation not permitted". */
const DENIED = /permission denied|you must be root|operation not permitted/i;

/** The line saying the tables could not be read, or undefined. */
export function deniedLine(output: string): string | undefined {
  return output
    .split('\n')
    .find((l) => DENIED.test(l))
    ?.trim()
    .slice(0, 200);
}

const deniedReason = (host: string, what: string, line: string) =>
  `cannot read ${what} on ${host}: ${line} (hardway's user needs root there: connect as root, or with sudo)`;

/** The rules of KUBE-SERVICES that send a ClusterIP to its service chain. */
export function servicesProgrammed(out: string, ips: readonly string[]): { missing: string[]; noChain: boolean } {
  const t = parseIptablesS(out, 'iptables -t nat -S KUBE-SERVICES');
  const noChain = t.problems.some((p) => /No chain|doesn't exist/i.test(p.message));
  const rules = rulesOf(t.value, 'KUBE-SERVICES');
  const missing = ips.filter((ip) => !rules.some((r) => r.options['-d'] === `${ip}/32` && r.target?.startsWith('KUBE-SVC-')));
  return { missing, noChain };
}

/** Every ready endpoint has its DNAT rule (iptables mode): kube-proxy has synced them. */
export function endpointsProgrammed(out: string, endpoints: readonly string[], port: number): boolean {
  const rules = parseIptablesS(out, 'iptables -t nat -S').value.rules;
  const dnat = rules.filter((r) => r.target === 'DNAT').map((r) => r.options['--to-destination']);
  return endpoints.every((ip) => dnat.includes(`${ip}:${port}`));
}

/** Waits until the Service has a ready endpoint per backend pod (the endpointslice controller). */
async function readyEndpoints(ctx: CheckContext): Promise<string[]> {
  return ctx.memo('kube-proxy:endpoints', async () => {
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const want = (await backends(ctx)).pods.filter((p) => p.ip).length;
    const read = async () => {
      const s = await k.discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: `kubernetes.io/service-name=${BACKEND_SERVICE}`,
      });
      return s.items.flatMap((x) => (x.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
    };
    const got = await poll(
      30_000,
      async () => {
        const ips = await read();
        return ips.length >= want ? ips : undefined;
      },
      300,
    );
    return got ?? read();
  });
}

/** The ClusterIP of default/kubernetes: every node's kube-proxy programs it. */
function kubernetesServiceIP(ctx: CheckContext): Promise<string | undefined> {
  return ctx.memo('kube-proxy:kubernetes-ip', async () => {
    const k = await kube(ctx);
    return (await k.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' }).catch(() => undefined))?.spec?.clusterIP;
  });
}

const natRules = hostCheck({
  id: 'kube-proxy.nat-rules',
  title: 'the services have their KUBE-SVC chains in the nat table on every node kube-proxy runs in iptables mode',
  on: { component: 'kube-proxy' },
  needs: ['live', 'active'],
  codes: { 'nat-rules-missing': "kube-proxy has not programmed a service's nat rules" },
  async run(ctx, h) {
    const c = proxyOf(h);
    const { mode, source } = proxyMode(c);
    if (mode !== 'iptables') {
      return notApplicable(
        `kube-proxy on ${h.name} runs in ${mode} mode (${source}): services are not KUBE-SVC chains of the nat table ` +
          `(${RULES_HINT[mode] ?? 'its own rules'}); kube-proxy.clusterip-spread judges them by what they do`,
      );
    }
    const [{ clusterIP }, kip] = await Promise.all([backends(ctx), kubernetesServiceIP(ctx)]);
    const want = [clusterIP, ...(kip ? [kip] : [])];
    // kube-proxy programs a new service within its sync period: give it a few seconds (3 when
    // discovery found its service not running: a start caught midway still gets to program).
    let seen = { missing: want, noChain: false };
    let denied: string | undefined;
    const found = await poll(
      notRunning(c) ? 3000 : 15_000,
      async () => {
        const r = await h.access.exec!('iptables -w 5 -t nat -S KUBE-SERVICES', { timeoutMs: 20_000 });
        denied = deniedLine(r.stderr);
        // Not allowed to read the table says nothing about kube-proxy: stop waiting.
        if (denied) return true;
        seen = servicesProgrammed(`${r.stdout}\n${r.stderr}`, want);
        return seen.missing.length === 0 ? true : undefined;
      },
      500,
    );
    const notes = [`mode iptables (${source})`];
    if (denied) return { ...inconclusive(deniedReason(h.name, 'the nat table (iptables -t nat -S)', denied)), notes };
    if (found) return passed(want.length, notes);
    return outcome(
      [
        {
          code: 'nat-rules-missing',
          host: h.name,
          subject: 'iptables -t nat KUBE-SERVICES',
          message: `${seen.noChain ? 'has no KUBE-SERVICES chain' : `has no rule for ${seen.missing.join(', ')}`}: kube-proxy on ${h.name} is not programming services${notRunning(c) ? ` (discovery found its service ${c.state!.active})` : ''}`,
          fix: `${statusHint(h.init, c.unit, h.name)}; look at ${RULES_HINT.iptables} (the seed)`,
        },
      ],
      want.length,
      { notes },
    );
  },
});

/** Discovery found kube-proxy's service stopped (it read the host at the start of the run). */
const notRunning = (c: ComponentFacts) =>
  c.state !== undefined && !['active', 'reloading', 'refreshing', 'activating', 'unknown'].includes(c.state.active);

/** A shell command sending `n` requests to `url` and printing how many answered "ok": one curl
 * for all of them (a URL range), each on its own connection ("Connection: close") so that
 * kube-proxy picks a backend for each; one process instead of one per request. */
export function countAnswers(url: string, n: number): string {
  return `curl -s -m 2 -H 'Connection: close' -w '\\n' '${url}?r=[1-${n}]' | grep -c '^ok$'`;
}

const spread = hostCheck({
  id: 'kube-proxy.clusterip-spread',
  title: `at least ${REQUESTS} requests (10 per backend) to the ClusterIP from the node all succeed and conntrack shows every backend`,
  on: { component: 'kube-proxy' },
  needs: ['live', 'active'],
  codes: {
    'endpoints-lag': 'the Service has fewer ready endpoints than running backends',
    'kube-proxy-at-fault': 'requests miss a backend that answers directly: kube-proxy',
    'backend-unreachable': 'a backend does not answer even directly: the pod network or the pod',
  },
  timeoutMs: 90_000,
  async run(ctx, h) {
    const host = h.name;
    const c = proxyOf(h);
    const { mode, source } = proxyMode(c);
    const { pods, clusterIP } = await backends(ctx);
    const up = pods.filter((p) => p.ip);
    if (up.length < 2)
      return inconclusive(
        `fewer than two backend pods run (${pods
          .map((p) => p.problem)
          .filter(Boolean)
          .join('; ')})`,
      );
    // Enough requests that a random spread misses no backend by chance: with 6 backends, 20 miss
    // one about 1 run in 7, 10 per backend about 1 in 10 000.
    const requests = Math.max(REQUESTS, 10 * up.length);
    const eps = await readyEndpoints(ctx);
    // kube-proxy programs new endpoints within its sync period: wait for the exact signal (iptables
    // mode: a DNAT rule to every ready endpoint; otherwise a first answer) before judging the spread.
    await poll(
      notRunning(c) ? 3000 : 10_000,
      async () => {
        if (mode === 'iptables') {
          const nat = await h.access.exec!('iptables -w 5 -t nat -S', { timeoutMs: 15_000 });
          // Unreadable rules: stop waiting for them (conntrack below says whether it can tell).
          if (deniedLine(nat.stderr)) return true;
          return endpointsProgrammed(nat.stdout, eps, BACKEND_PORT) ? true : undefined;
        }
        const answer = (await h.access.exec!(`curl -s -m 2 http://${clusterIP}/status/`, { timeoutMs: 10_000 })).stdout.trim();
        return answer === 'ok' ? true : undefined;
      },
      250,
    );
    const r = await h.access.exec!(
      `${countAnswers(`http://${clusterIP}/status/`, requests)}; ` +
        `command -v conntrack >/dev/null || { echo no-conntrack; exit 0; }; conntrack -L -d ${clusterIP} -p tcp`,
      { timeoutMs: 90_000 },
    );
    const [first = '0', ...rest] = r.stdout.split('\n');
    const okCount = Number(first);
    const subject = `ClusterIP ${clusterIP}`;
    // conntrack's stderr is its summary line, or why it could not list the flows: without them no
    // backend is "seen", which would blame kube-proxy for hardway's own permissions.
    const denied = deniedLine(r.stderr);
    if (denied) {
      const notes = [`${okCount}/${requests} answered ok; which backends answered was not seen`, `mode ${mode} (${source})`];
      return { ...inconclusive(deniedReason(host, `the connection tracking table (conntrack -L -d ${clusterIP})`, denied)), notes };
    }
    if (rest[0]?.trim() === 'no-conntrack') {
      const notes = [`${okCount}/${requests} answered ok; no conntrack on ${host}: which backends answered was not seen`];
      notes.push(`mode ${mode} (${source})`);
      if (okCount === requests) return passed(requests, notes);
      const message = `only ${okCount}/${requests} requests answered (no conntrack on ${host} to tell which backend was missed)`;
      const fix = `${statusHint(h.init, c.unit, host)}; install conntrack to see the spread`;
      return outcome([{ code: 'kube-proxy-at-fault', host, subject, message, fix }], requests, { notes });
    }
    const seen = natBackends(parseConntrack(rest.join('\n')).value, clusterIP);
    const notes = [`${okCount}/${requests} answered ok; conntrack backends: ${seen.join(', ') || 'none'}; endpoints: ${eps.join(', ')}`];
    notes.push(`mode ${mode} (${source})`);
    const missing = up.filter((p) => !seen.includes(p.ip!));
    if (okCount === requests && missing.length === 0) return passed(requests, notes);
    if (eps.length < up.length) {
      return outcome(
        [
          {
            code: 'endpoints-lag',
            host,
            subject,
            message: `the Service has ${eps.length} ready endpoints for ${up.length} running backends: the endpointslice controller (kube-controller-manager) or a readiness probe lags`,
            fix: `kubectl -n ${await workspace(ctx)} describe endpointslices`,
          },
        ],
        requests,
        { notes },
      );
    }
    // The seed's procedure: ask each pod address directly from this node.
    const direct = await Promise.all(
      up.map(async (p) => {
        const d = await h.access.exec!(`curl -s -m 3 http://${p.ip}:${BACKEND_PORT}/status/`, { timeoutMs: 10_000 });
        return { pod: p, ok: d.stdout.trim() === 'ok' };
      }),
    );
    const dead = direct.filter((d) => !d.ok);
    const lost = missing.length
      ? `conntrack shows only ${seen.join(', ') || 'no backend'} (missing ${missing.map((p) => `${p.ip} on ${p.host}`).join(', ')})`
      : `only ${okCount}/${requests} requests answered`;
    if (dead.length === 0) {
      const message = `${lost}, yet every pod answers when asked directly: kube-proxy is at fault (the seed)`;
      const fix = `${statusHint(h.init, c.unit, host)}; compare ${RULES_HINT[mode] ?? 'its rules'} on every node`;
      return outcome([{ code: 'kube-proxy-at-fault', host, subject, message, fix }], requests, { notes });
    }
    const network =
      podNetworkOf(ctx.facts) === 'flannel'
        ? 'see pod-network.pod-to-pod'
        : "check the routes to the other nodes' pod subnets (ip route) and the pod network";
    return outcome(
      [
        {
          code: 'backend-unreachable',
          host,
          subject,
          message: `${lost}; asked directly from ${host}, ${dead.map((d) => `${d.pod.name} (${d.pod.ip}:${BACKEND_PORT} on ${d.pod.host})`).join(', ')} does not answer: not kube-proxy but the pod network to ${dead.map((d) => d.pod.host).join(', ')} or the pod itself (the seed)`,
          fix: `${network}, then the pod's logs`,
        },
      ],
      requests,
      { notes },
    );
  },
});

export const kubeProxySuite: Suite = {
  name: 'kube-proxy',
  title: 'kube-proxy: ClusterIP load spread seen in conntrack, nat rules',
  dependsOn: ['flannel', 'controller-manager'],
  checks: [natRules, spread],
  prepare: async (ctx) => ctx.options.active && backends(ctx),
};
