// `hardway discover` prints the discovered model in cluster.yaml's format, each value commented
// with where it was read, so that an operator can keep it as the cluster's model (and the drift
// suite then reports whenever the running cluster leaves it).
import { Document, isMap, isPair, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Cluster } from '../model/cluster.ts';
import type { DerivedModel } from './model.ts';

/** The model as cluster.yaml writes it: what loadCluster reads back, nothing it derives. */
export function modelDocument(c: Cluster): Record<string, unknown> {
  const host = (h: Cluster['masters'][number], worker: boolean) => ({
    host: h.host,
    ...(worker || h.nodeName !== h.host ? { nodeName: h.nodeName } : {}),
    address: h.address,
    ...(h.internalAddress !== h.address ? { internalAddress: h.internalAddress } : {}),
    ...(h.init !== 'systemd' ? { init: h.init } : {}),
    ...(worker && h.podSubnet ? { podSubnet: h.podSubnet } : {}),
  });
  return {
    name: c.name,
    ...(c.layout && c.layout !== 'seed' ? { layout: c.layout } : {}),
    clusterDomain: c.clusterDomain,
    podCIDR: c.podCIDR,
    podSubnetLength: c.podSubnetLength,
    serviceCIDR: c.serviceCIDR,
    apiserver: { port: c.apiserver.port, staticToken: c.apiserver.staticToken },
    flannel: { backend: c.flannel.backend, vni: c.flannel.vni },
    dns: { upstreams: c.dns.upstreams, ...(c.dns.probeName ? { probeName: c.dns.probeName } : {}) },
    ...(c.kubeProxy.conntrackMaxPerCore !== undefined ? { kubeProxy: { conntrackMaxPerCore: c.kubeProxy.conntrackMaxPerCore } } : {}),
    containerd: { restrictOomScoreAdj: c.containerd.restrictOomScoreAdj },
    ...(c.kubelet.systemReserved ? { kubelet: { systemReserved: c.kubelet.systemReserved } } : {}),
    ...(c.ingress ? { ingress: c.ingress } : {}),
    masters: c.masters.map((m) => host(m, false)),
    workers: c.workers.map((w) => host(w, true)),
  };
}

/** Walks the document, putting each field's source as a trailing comment. */
function annotate(node: Node | null, path: string, sources: Record<string, string>): void {
  if (isMap(node)) {
    for (const item of node.items as Pair[]) {
      if (!isPair(item) || !isScalar(item.key)) continue;
      const key = String(item.key.value);
      const p = path ? `${path}.${key}` : key;
      const src = sources[p];
      const v = item.value as Node | null;
      if (src && isScalar(v)) (v as { comment?: string }).comment = ` ${src}`;
      else if (src && (isMap(v) || isSeq(v))) (item.key as { commentBefore?: string }).commentBefore = ` ${src}`;
      annotate(v, p, sources);
    }
  } else if (isSeq(node)) {
    for (const item of node.items as Node[]) {
      // Hosts: their fields are sourced under "<list>.<host>.<field>".
      const name = isMap(item) ? (item as YAMLMap).get('host') : undefined;
      annotate(item, name ? `${path}.${String(name)}` : path, sources);
    }
  }
}

export function printModel(d: DerivedModel, header: string[]): string {
  const doc = new Document(modelDocument(d.cluster));
  annotate(doc.contents, '', d.sources);
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}
