// The controller-manager suite: the seed's `kubectl get sa` — once kube-controller-manager runs,
// every namespace gets its `default` ServiceAccount — plus a fresh namespace to prove it happens
// now, its leader lease, and the `kubernetes` service at the first address of the service CIDR.
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { apiError, apiStatus, kube, poll } from '../../harness/verify/kube.ts';
import { leaderLeaseCheck } from '../../harness/verify/leases.ts';
import { OWNER_LABEL, RUN_LABEL, runId } from '../../harness/verify/workspace.ts';

const onMaster = (c: { masters: { host: string }[] }) => [c.masters[0]!.host];
const FIX = (host: string) => `fix: systemctl status kube-controller-manager and journalctl -u kube-controller-manager -e on ${host}`;

const serviceAccounts: Check = {
  id: 'controller-manager.service-accounts',
  title: 'every namespace has its default ServiceAccount, and a new namespace gets one',
  hosts: onMaster,
  live: true,
  async run(ctx: CheckContext, host) {
    const k = await kube(ctx);
    const [nss, sas] = await Promise.all([k.core.listNamespace(), k.core.listServiceAccountForAllNamespaces({ fieldSelector: 'metadata.name=default' })]);
    const have = new Set(sas.items.map((s) => s.metadata?.namespace));
    const lacking = nss.items.map((n) => n.metadata!.name!).filter((n) => !have.has(n) && !n.startsWith('hardway-sa-probe-'));
    const problems: string[] = [];
    if (lacking.length) problems.push(`${host}: namespaces without a default ServiceAccount: ${lacking.join(', ')} (the seed: "if this list is empty, make sure kube-controller-manager works"); ${FIX(host!)}`);
    if (!ctx.options.active) return { problems, notes: ['read-only: no fresh namespace created (--active does)'] };
    const ns = `hardway-sa-probe-${runId()}`.slice(0, 63).replace(/-+$/, '');
    try {
      await k.core.createNamespace({ body: { metadata: { name: ns, labels: { [OWNER_LABEL]: 'hardway', [RUN_LABEL]: runId() } } } }).catch((e) => {
        if (apiStatus(e) !== 409) throw e;
      });
      const t0 = Date.now();
      const sa = await poll(20_000, async () => (await k.core.readNamespacedServiceAccount({ namespace: ns, name: 'default' })).metadata?.name);
      if (!sa) problems.push(`${host}: a new namespace got no default ServiceAccount within 20 s: the serviceaccount controller of kube-controller-manager is not working; ${FIX(host!)}`);
      return { problems, notes: sa ? [`default ServiceAccount appeared in ${((Date.now() - t0) / 1000).toFixed(1)} s`] : [] };
    } catch (e) {
      problems.push(`${host}: cannot create namespace ${ns}: ${apiError(e)}`);
      return { problems };
    } finally {
      await k.core.deleteNamespace({ name: ns }).catch(() => undefined);
    }
  },
};

const leader = leaderLeaseCheck('controller-manager.leader', 'kube-controller-manager', FIX);

const kubernetesService: Check = {
  id: 'controller-manager.kubernetes-service',
  title: 'the kubernetes service is in default at the first address of the service CIDR, backed by the apiservers',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    const k = await kube(ctx);
    const c = ctx.cluster;
    let ip: string | undefined;
    try {
      ip = (await k.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })).spec?.clusterIP;
    } catch (e) {
      return { problems: [`${host}: no service default/kubernetes (${apiError(e)}): the apiserver registers it at start; fix: journalctl -u kube-apiserver on ${host}`] };
    }
    const problems: string[] = [];
    if (ip !== c.kubernetesServiceIP) {
      problems.push(`${host}: service default/kubernetes has ClusterIP ${ip}, expected ${c.kubernetesServiceIP} (first address of ${c.serviceCIDR}): --service-cluster-ip-range differs from the model, and the apiserver certificate's SANs will not match; fix: align --service-cluster-ip-range with serviceCIDR`);
    }
    const slices = await k.discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' });
    const addrs = slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses));
    const missing = c.masters.filter((m) => !addrs.includes(m.internalAddress) && !addrs.includes(m.address));
    if (missing.length) problems.push(`${host}: the kubernetes service's endpoints (${addrs.join(', ') || 'none'}) lack ${missing.map((m) => m.host).join(', ')}: check --advertise-address of kube-apiserver`);
    return { problems, notes: [`ClusterIP ${ip}, endpoints ${addrs.join(', ')}`] };
  },
};

export const controllerManagerSuite: Suite = {
  name: 'controller-manager',
  title: 'kube-controller-manager: ServiceAccounts, leader lease, the kubernetes service',
  dependsOn: ['apiserver'],
  checks: [serviceAccounts, leader, kubernetesService],
};
