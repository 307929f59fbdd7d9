// The HTTPS edge as the cluster's own objects describe it, read through the API: the names its
// Gateway API HTTPRoutes and Ingresses serve, which of them have a cert-manager Certificate (the
// HTTPS names, the rest served over plain HTTP), and the ACME server and account e-mail of the
// issuer those Certificates name. A cluster without any of them has no edge (the ingress suite
// is then not-applicable).
import * as k8s from '@kubernetes/client-node';
import type { CheckContext } from '../verify/check.ts';
import { apiError, apiStatus, kube } from '../verify/kube.ts';
import type { EdgeFacts } from './model.ts';

type Obj = { metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> };

async function list(api: k8s.CustomObjectsApi, group: string, version: string, plural: string): Promise<Obj[]> {
  try {
    return ((await api.listClusterCustomObject({ group, version, plural })) as { items?: Obj[] }).items ?? [];
  } catch (e) {
    // 404: the API (a CRD) is not installed. Anything else (403, an outage) is not "no edge".
    if (apiStatus(e) === 404) return [];
    throw new Error(`cannot list ${plural}.${group}: ${apiError(e)}`);
  }
}

export async function discoverEdge(ctx: CheckContext): Promise<EdgeFacts | undefined> {
  const k = await kube(ctx);
  const api = k.kc.makeApiClient(k8s.CustomObjectsApi);
  const net = k.kc.makeApiClient(k8s.NetworkingV1Api);
  const [routes, certs, issuers, ingresses] = await Promise.all([
    list(api, 'gateway.networking.k8s.io', 'v1', 'httproutes'),
    list(api, 'cert-manager.io', 'v1', 'certificates'),
    list(api, 'cert-manager.io', 'v1', 'clusterissuers'),
    net.listIngressForAllNamespaces().then(
      (r) => r.items,
      (e) => {
        throw new Error(`cannot list ingresses: ${apiError(e)}`);
      },
    ),
  ]);
  const served = new Set<string>([
    ...routes.flatMap((r) => (r.spec?.hostnames as string[] | undefined) ?? []),
    ...ingresses.flatMap((i) => (i.spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h)),
  ]);
  if (!served.size) return undefined;
  const tls = new Set<string>([
    ...certs.flatMap((c) => (c.spec?.dnsNames as string[] | undefined) ?? []),
    ...ingresses.flatMap((i) => (i.spec?.tls ?? []).flatMap((t) => t.hosts ?? [])),
  ]);
  const hosts = [...served].filter((h) => tls.has(h)).sort();
  const plainHosts = [...served].filter((h) => !tls.has(h)).sort();
  const ref = certs.map((c) => c.spec?.issuerRef as { name?: string; kind?: string } | undefined).find((r) => r?.kind === 'ClusterIssuer');
  const issuer = issuers.find((i) => i.metadata?.name === ref?.name) ?? issuers[0];
  const acme = issuer?.spec?.acme as { server?: string; email?: string } | undefined;
  return {
    hosts,
    plainHosts,
    acmeServer: acme?.server ?? '',
    acmeEmail: acme?.email ?? '',
    source: `the cluster's HTTPRoutes/Ingresses and cert-manager objects${issuer ? ` (clusterissuer/${issuer.metadata?.name})` : ''}`,
  };
}
