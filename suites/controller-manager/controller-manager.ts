// The controller-manager suite: the seed's `kubectl get sa` — once kube-controller-manager runs,
// every namespace gets its `default` ServiceAccount — plus a fresh namespace to prove it happens
// now, its leader lease as it is configured, and the `kubernetes` service: at the first address of
// the range kube-apiserver really allocates from (its --service-cluster-ip-range, 10.0.0.0/24
// without it), agreed by kube-controller-manager and the apiserver's certificate, backed by the
// addresses the apiservers advertise, each one of its host's own.
import { X509Certificate, randomBytes } from 'node:crypto';
import { type ClusterFacts, type ComponentFacts, componentsOf } from '../../harness/discovery/facts.ts';
import { commandFile, editCommandLine, statusHint } from '../../harness/discovery/fix-text.ts';
import { parseIpAddrs } from '../../harness/hostio/ip.ts';
import { kubernetesServiceIP } from '../../harness/model/cluster.ts';
import { parseCidr } from '../../harness/model/net.ts';
import type { InitSystem } from '../../harness/system/init-system.ts';
import {
  type CheckContext,
  type Finding,
  type Suite,
  clusterCheck,
  inconclusive,
  notApplicable,
  outcome,
} from '../../harness/verify/check.ts';
import { apiError, apiStatus, kube, poll } from '../../harness/verify/kube.ts';
import { type ConfiguredLease, leaderGoneWatch, leaderLeaseCheck } from '../../harness/verify/leases.ts';
import { OWNER_LABEL, RUN_LABEL } from '../../harness/verify/workspace.ts';

/** Where to look when kube-controller-manager does not do its work, from the facts. */
function fixKcm(ctx: CheckContext): string {
  const cs = componentsOf(ctx.facts, 'kube-controller-manager');
  if (!cs.length) return 'no host of the target runs kube-controller-manager as a service: install and start it on the masters';
  return cs.map((c) => statusHint(ctx.host(c.host).init, c.unit, c.host)).join('; ');
}

const serviceAccounts = clusterCheck({
  id: 'controller-manager.service-accounts',
  title: 'every namespace has its default ServiceAccount, and a new namespace gets one',
  needs: ['live'],
  codes: {
    'no-default-serviceaccount': 'a namespace lacks its default ServiceAccount',
    'new-namespace-no-serviceaccount': 'a new namespace got no default ServiceAccount',
    'cannot-create-namespace': 'the probe namespace could not be created',
  },
  async run(ctx) {
    const k = await kube(ctx);
    const [nss, sas] = await Promise.all([
      k.core.listNamespace(),
      k.core.listServiceAccountForAllNamespaces({ fieldSelector: 'metadata.name=default' }),
    ]);
    const have = new Set(sas.items.map((s) => s.metadata?.namespace));
    // A namespace made in the last seconds (this run's own workspace, a user's) may not have its
    // ServiceAccount yet: the controller's latency is what the probe namespace below measures.
    const settled = (n: (typeof nss.items)[number]) => Date.now() - new Date(n.metadata?.creationTimestamp ?? 0).getTime() > 30_000;
    // A terminating namespace loses its ServiceAccount first: not a finding either.
    const all = nss.items.filter((n) => !n.metadata!.name!.startsWith('hardway-sa-probe-') && n.status?.phase !== 'Terminating');
    const lacking = all.filter((n) => settled(n) && !have.has(n.metadata!.name!)).map((n) => n.metadata!.name!);
    // Looked at: each namespace that has its ServiceAccount, or is old enough to be judged (on a
    // cluster minutes old, the young ones that already have theirs).
    const names = all.filter((n) => settled(n) || have.has(n.metadata!.name!)).map((n) => n.metadata!.name!);
    const findings: Finding[] = [];
    if (lacking.length)
      findings.push({
        code: 'no-default-serviceaccount',
        subject: `namespaces ${lacking.join(', ')}`,
        message: 'have no default ServiceAccount (the seed: "if this list is empty, make sure kube-controller-manager works")',
        fix: fixKcm(ctx),
      });
    if (!ctx.options.active) {
      if (!names.length)
        return inconclusive(
          `every namespace is younger than 30 s and none has its default ServiceAccount yet: too early to tell (run again, or with --active to time a fresh namespace)`,
        );
      return outcome(findings, names.length, { notes: ['read-only: no fresh namespace created (--active does)'] });
    }
    const ns = `hardway-sa-probe-${randomBytes(3).toString('hex')}-${ctx.run.id}`.slice(0, 63).replace(/-+$/, '');
    try {
      await k.core
        .createNamespace({ body: { metadata: { name: ns, labels: { [OWNER_LABEL]: 'hardway', [RUN_LABEL]: ctx.run.id } } } })
        .catch((e) => {
          if (apiStatus(e) !== 409) throw e;
        });
      const t0 = Date.now();
      // No leader, no serviceaccount controller: the wait ends when the lease says so.
      const leaderGone = leaderGoneWatch(ctx, 'kube-controller-manager', kcmLease);
      let gone: string | undefined;
      const sa = await poll(
        20_000,
        async () => {
          const name = (await k.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' }).catch(() => undefined))?.metadata
            ?.name;
          if (name) return name;
          gone = await leaderGone();
          return gone ? '' : undefined;
        },
        250,
      );
      if (!sa)
        findings.push({
          code: 'new-namespace-no-serviceaccount',
          subject: `namespace ${ns}`,
          message: gone
            ? `got no default ServiceAccount in ${((Date.now() - t0) / 1000).toFixed(0)} s, and ${gone}: the serviceaccount controller of kube-controller-manager is not working`
            : 'got no default ServiceAccount within 20 s: the serviceaccount controller of kube-controller-manager is not working',
          fix: fixKcm(ctx),
        });
      return outcome(
        findings,
        names.length + 1,
        sa ? { notes: [`default ServiceAccount appeared in ${((Date.now() - t0) / 1000).toFixed(1)} s`] } : {},
      );
    } catch (e) {
      findings.push({
        code: 'cannot-create-namespace',
        subject: `namespace ${ns}`,
        message: `cannot be created: ${apiError(e)}`,
        fix: 'check the apiserver (apiserver.readyz) and the admin credentials',
      });
      return outcome(findings, names.length);
    } finally {
      await k.core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
  },
});

/** kube-controller-manager's lease: --leader-elect (default true), --leader-elect-resource-name/-namespace. */
export function kcmLease(c: ComponentFacts): ConfiguredLease {
  const elect = c.flags.bool('leader-elect') ?? true;
  const named = ['leader-elect-resource-name', 'leader-elect-resource-namespace'].filter((f) => c.flags.has(f));
  const source = !elect
    ? c.source('leader-elect')
    : named.length
      ? named.map((f) => c.source(f)).join(', ')
      : `${c.host}: kube-controller-manager's default lease`;
  const namespace = c.flags.get('leader-elect-resource-namespace') ?? 'kube-system';
  return { elect, namespace, name: c.flags.get('leader-elect-resource-name') ?? 'kube-controller-manager', source };
}

const leader = leaderLeaseCheck('controller-manager.leader', 'kube-controller-manager', kcmLease);

interface ServiceRange {
  cidr: string;
  source: string;
  defaulted: boolean;
}

/** The range kube-apiserver allocates ClusterIPs from, and where that was decided. */
export function serviceRange(api: ComponentFacts): ServiceRange {
  const r = api.flags.list('service-cluster-ip-range')[0];
  if (r) return { cidr: r, source: api.source('service-cluster-ip-range'), defaulted: false };
  const source = `kube-apiserver's default 10.0.0.0/24: no --service-cluster-ip-range in ${commandFile(api)} on ${api.host}`;
  return { cidr: '10.0.0.0/24', source, defaulted: true };
}

/** Findings about the service range: the apiservers and controller managers must agree. */
export function rangeFindings(f: ClusterFacts, init: (host: string) => InitSystem): Finding[] {
  const apis = componentsOf(f, 'kube-apiserver');
  const api = apis[0]!;
  const range = serviceRange(api);
  const kcms = componentsOf(f, 'kube-controller-manager').filter((c) => c.flags.get('service-cluster-ip-range'));
  const others = [
    ...apis.slice(1).map((c) => ({ c, r: serviceRange(c) })),
    ...kcms.map((c) => {
      const r = { cidr: c.flags.list('service-cluster-ip-range')[0]!, source: c.source('service-cluster-ip-range'), defaulted: false };
      return { c, r };
    }),
  ];
  return others
    .filter((o) => o.r.cidr !== range.cidr)
    .map(({ c, r }) => ({
      code: 'service-range-mismatch',
      host: c.host,
      subject: `${c.kind} --service-cluster-ip-range`,
      message:
        `kube-apiserver on ${api.host} allocates service addresses from ${range.cidr} (${range.source}), ` +
        `but ${c.kind} on ${c.host} has ${r.cidr} (${r.source})`,
      fix:
        range.defaulted && !r.defaulted
          ? `${editCommandLine(api, init(api.host), `add --service-cluster-ip-range=${r.cidr} to`)}; ` +
            "then kubectl delete service kubernetes -n default (the apiserver re-creates it at the range's first address)"
          : `give every kube-apiserver and kube-controller-manager the same --service-cluster-ip-range (${commandFile(c)} on ${c.host})`,
    }));
}

/** Addresses a host really has (ip -j addr), else the ones the model gives it. */
function ownAddresses(ctx: CheckContext, host: string): Promise<{ addrs: string[]; from: string }> {
  return ctx.memo(`controller-manager:addrs:${host}`, async () => {
    const h = ctx.host(host);
    const r = await h.access.exec!('ip -j addr show 2>/dev/null', { timeoutMs: 15_000 }).catch(() => undefined);
    const addrs = parseIpAddrs(r?.stdout ?? '').value.flatMap((i) => i.addresses.map((a) => a.local));
    if (addrs.length) return { addrs, from: `ip addr on ${host}` };
    return { addrs: [...new Set([h.model.internalAddress, h.model.address])], from: `${host}'s addresses in the model` };
  });
}

/** An apiserver with its host's own addresses, and the one to advertise in a fix. */
export interface ApiserverHost {
  c: ComponentFacts;
  own: string[];
  preferred: string;
  init: InitSystem;
}

/** Findings about the service's endpoints: each apiserver advertises an address of its own host,
 * and that address backs the service. */
export function endpointFindings(apis: readonly ApiserverHost[], endpoints: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const subject = 'service default/kubernetes';
  for (const { c, own, preferred, init } of apis) {
    const adv = c.flags.get('advertise-address');
    const bind = c.flags.get('bind-address');
    const fix = editCommandLine(c, init, `set --advertise-address=${preferred} in`);
    if (adv && !own.includes(adv)) {
      const message =
        `kube-apiserver on ${c.host} advertises ${adv} (${c.source('advertise-address')}), ` +
        `which is not an address of ${c.host} (${own.join(', ')}): the service's endpoints send clients nowhere`;
      out.push({ code: 'kubernetes-endpoints', host: c.host, subject, message, fix });
      continue;
    }
    const expected = adv ?? (bind && !['0.0.0.0', '::'].includes(bind) && own.includes(bind) ? bind : undefined);
    const backed = expected ? endpoints.includes(expected) : endpoints.some((e) => own.includes(e));
    if (!backed) {
      const why = expected
        ? `${expected} (${adv ? c.source('advertise-address') : c.source('bind-address')})`
        : `an address of ${c.host} (no --advertise-address: kube-apiserver takes its default route's)`;
      const message = `endpoints (${endpoints.join(', ') || 'none'}) lack ${why}`;
      out.push({ code: 'kubernetes-endpoints', host: c.host, subject, message, fix: `${fix} (it rewrites the endpoints when it starts)` });
    }
  }
  const known = new Set(apis.flatMap((a) => [...a.own, ...a.c.flags.all('advertise-address')]));
  const stray = endpoints.filter((e) => !known.has(e));
  if (stray.length && !out.length) {
    out.push({
      code: 'kubernetes-endpoints',
      subject,
      message: `endpoints ${stray.join(', ')} belong to no kube-apiserver of the target: clients of the service reach something else`,
      fix: 'remove the apiserver that is gone (its lease in kube-system/apiserver-*) or add its host to the target',
    });
  }
  return out;
}

/** The ClusterIP against the apiserver's serving certificate (what pods verify it with). */
async function certificateFindings(ctx: CheckContext, api: ComponentFacts, ip: string | undefined, notes: string[]): Promise<Finding[]> {
  const certFile = api.flags.get('tls-cert-file');
  const pem = certFile
    ? await ctx
        .host(api.host)
        .access.readFile(certFile)
        .catch(() => undefined)
    : undefined;
  if (!ip || !certFile || !pem?.includes('BEGIN CERTIFICATE')) {
    if (!certFile) notes.push('kube-apiserver has no --tls-cert-file');
    else if (ip) notes.push(`${api.host}:${certFile} not readable: the ClusterIP was not held against it`);
    return [];
  }
  try {
    if (new X509Certificate(pem).checkIP(ip)) return [];
  } catch {
    notes.push(`${api.host}:${certFile} is not a certificate Node can read`);
    return [];
  }
  const reissue = ctx.target.ownedByHardway ? 're-issue it (hardway render) with' : `re-issue ${certFile} with`;
  return [
    {
      code: 'service-ip-not-in-certificate',
      host: api.host,
      subject: certFile,
      message:
        `kube-apiserver's certificate (${api.source('tls-cert-file')}) does not carry ${ip}: ` +
        `pods reaching https://kubernetes.default (${ip}) fail TLS verification`,
      fix: `${reissue} ${ip} among its IP addresses, or give kube-apiserver the range the certificate was made for`,
    },
  ];
}

const kubernetesService = clusterCheck({
  id: 'controller-manager.kubernetes-service',
  title: "the kubernetes service is at the first address of kube-apiserver's service range, in its certificate, backed by the apiservers",
  needs: ['live'],
  codes: {
    'kubernetes-service-missing': 'default/kubernetes does not exist',
    'kubernetes-service-ip': "its ClusterIP is not the first address of kube-apiserver's service range",
    'service-range-mismatch': 'kube-apiserver and kube-controller-manager are given different service ranges',
    'service-ip-not-in-certificate': "the apiserver's certificate does not carry the service's ClusterIP",
    'kubernetes-endpoints': 'its endpoints are not the addresses the apiservers advertise on their hosts',
  },
  async run(ctx) {
    const apis = componentsOf(ctx.facts, 'kube-apiserver');
    if (!apis.length) return notApplicable('no host runs kube-apiserver');
    const api = apis[0]!;
    const init = (host: string) => ctx.host(host).init;
    const range = serviceRange(api);
    const k = await kube(ctx);
    const subject = 'service default/kubernetes';
    let ip: string | undefined;
    try {
      ip = (await k.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })).spec?.clusterIP;
    } catch (e) {
      const message = `does not exist (${apiError(e)}): the apiserver registers it at start`;
      const fix = `${init(api.host).logsHint(api.unit)} on ${api.host}`;
      return outcome([{ code: 'kubernetes-service-missing', subject, message, fix }], 1);
    }
    const findings: Finding[] = [];
    const notes = [`service range ${range.cidr} (${range.source})`];
    const expected = parseCidr(range.cidr) ? kubernetesServiceIP(range.cidr) : undefined;
    if (ip !== expected) {
      findings.push({
        code: 'kubernetes-service-ip',
        subject,
        message: `has ClusterIP ${ip}, expected ${expected}, the first address of ${range.cidr} (${range.source})`,
        fix: 'kubectl delete service kubernetes -n default: the apiserver re-creates it at the first address of its range',
      });
    }
    findings.push(...rangeFindings(ctx.facts, init), ...(await certificateFindings(ctx, api, ip, notes)));
    const labelSelector = 'kubernetes.io/service-name=kubernetes';
    const slices = await k.discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector });
    const addrs = slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses));
    const owners = await Promise.all(
      apis.map(async (c) => {
        const own = await ownAddresses(ctx, c.host);
        const m = ctx.host(c.host).model;
        const preferred = own.addrs.includes(m.internalAddress) ? m.internalAddress : m.address;
        return { c, own: own.addrs, preferred, init: init(c.host), from: own.from };
      }),
    );
    findings.push(...endpointFindings(owners, addrs));
    notes.push(`ClusterIP ${ip}, endpoints ${addrs.join(', ') || 'none'}`);
    notes.push(...owners.map((o) => `${o.c.host}: ${o.own.join(', ')} (${o.from})`));
    return outcome(findings, 2 + apis.length, { notes });
  },
});

export const controllerManagerSuite: Suite = {
  name: 'controller-manager',
  title: 'kube-controller-manager: ServiceAccounts, leader lease, the kubernetes service',
  dependsOn: ['apiserver'],
  gate: ['controller-manager.leader'],
  checks: [serviceAccounts, leader, kubernetesService],
};
