// PKI faults, each a small edit of a rendered tree that a careless operator could make. The certs
// suite's tests apply them one at a time and expect exactly one check to fail with a diagnosis
// naming host, file and fault.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Cluster } from '../../harness/model/cluster.ts';
import { type CertSpec, CA_KEY, K8S_DIR, KUBE_PROXY_KUBECONFIG, certPlan, kubeletCert, kubeletKey } from '../../harness/pki/plan.ts';
import { type IssuedCert, issueCa, issueLeaf } from '../../harness/pki/issue.ts';
import { generateRsaKey, readPrivateKey } from '../../harness/pki/keys.ts';
import { PKI_DIR } from '../../harness/render/render.ts';

export interface PkiFault {
  id: string;
  title: string;
  /** The one check expected to fail. */
  expected: string;
  /** Words the diagnosis must contain besides host and file. */
  mentions: string[];
  host: string;
  file: string;
  apply(dir: string, c: Cluster): Promise<void>;
}

const DAY = 86400_000;

async function clusterCa(dir: string, c: Cluster): Promise<IssuedCert> {
  const pki = join(dir, PKI_DIR);
  return { spec: certPlan(c).ca, certPem: await readFile(join(pki, 'ca.pem'), 'utf8'), key: await readPrivateKey(await readFile(join(pki, 'ca-key.pem'), 'utf8')) };
}

function spec(c: Cluster, id: string): CertSpec {
  const s = certPlan(c).certs.find((x) => x.id === id);
  if (!s) throw new Error(`no cert ${id} in the plan`);
  return s;
}

/** Re-issues the certificate `id` at `host:path` with the same key but altered spec/dates/CA. */
async function reissue(dir: string, c: Cluster, host: string, path: string, id: string,
  alter: { spec?: Partial<CertSpec>; notBefore?: Date; notAfter?: Date; ca?: IssuedCert }): Promise<void> {
  const key = await readPrivateKey(await readFile(join(dir, PKI_DIR, `${id}-key.pem`), 'utf8'));
  const ca = alter.ca ?? (await clusterCa(dir, c));
  const s = { ...spec(c, id), ...alter.spec };
  const cert = await issueLeaf(ca, s, key, { ...(alter.notBefore ? { notBefore: alter.notBefore } : {}), ...(alter.notAfter ? { notAfter: alter.notAfter } : {}) });
  await writeFile(join(dir, host, path), cert.certPem);
}

export function pkiFaults(c: Cluster): PkiFault[] {
  const master = c.masters[0]!.host;
  const w1 = c.workers[0]!;
  const w2 = c.workers[c.workers.length - 1]!;
  const apiCert = `${K8S_DIR}/kubernetes.pem`;
  return [
    {
      id: 'foreign-ca-same-subject', title: 'apiserver cert signed by another CA with the same subject', expected: 'certs.chain',
      mentions: ['another CA with the same name'], host: master, file: apiCert,
      async apply(dir) {
        const rogue = await issueCa(certPlan(c).ca);
        await reissue(dir, c, master, apiCert, 'kubernetes', { ca: rogue });
      },
    },
    {
      id: 'expired', title: 'kubelet cert expired', expected: 'certs.validity', mentions: ['expired'], host: w1.host, file: kubeletCert(w1),
      apply: (dir) => reissue(dir, c, w1.host, kubeletCert(w1), `kubelet-${w1.host}`, { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 35 * DAY) }),
    },
    {
      id: 'not-yet-valid', title: 'apiserver cert not valid yet', expected: 'certs.validity', mentions: ['not valid yet'], host: master, file: apiCert,
      apply: (dir) => reissue(dir, c, master, apiCert, 'kubernetes', { notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 400 * DAY) }),
    },
    {
      id: 'apiserver-san-missing-service-ip', title: 'apiserver cert without the kubernetes service address', expected: 'certs.sans',
      mentions: [c.kubernetesServiceIP], host: master, file: apiCert,
      apply: (dir) => reissue(dir, c, master, apiCert, 'kubernetes', { spec: { ipAddresses: spec(c, 'kubernetes').ipAddresses.filter((i) => i !== c.kubernetesServiceIP) } }),
    },
    {
      id: 'kubelet-wrong-cn', title: 'kubelet cert with the wrong CN', expected: 'certs.identity', mentions: ['CN is', `system:node:${w1.nodeName}`], host: w1.host, file: kubeletCert(w1),
      apply: (dir) => reissue(dir, c, w1.host, kubeletCert(w1), `kubelet-${w1.host}`, { spec: { cn: 'system:node:somebody-else' } }),
    },
    {
      id: 'kubelet-wrong-o', title: 'kubelet cert outside the system:nodes group', expected: 'certs.identity', mentions: ['O is', 'system:nodes'], host: w2.host, file: kubeletCert(w2),
      apply: (dir) => reissue(dir, c, w2.host, kubeletCert(w2), `kubelet-${w2.host}`, { spec: { o: 'system:node' } }),
    },
    {
      id: 'key-mismatch', title: 'kubelet key that does not match its cert', expected: 'certs.key-match', mentions: ['does not match'], host: w2.host, file: kubeletKey(w2),
      async apply(dir) {
        await writeFile(join(dir, w2.host, kubeletKey(w2)), (await generateRsaKey()).pem);
      },
    },
    {
      id: 'ca-key-on-worker', title: 'CA private key copied to a worker', expected: 'certs.ca-key-placement', mentions: ['CA private key'], host: w1.host, file: CA_KEY,
      async apply(dir) {
        await writeFile(join(dir, w1.host, CA_KEY), await readFile(join(dir, PKI_DIR, 'ca-key.pem'), 'utf8'));
      },
    },
    {
      id: 'ca-key-on-worker-renamed', title: 'CA private key on a worker under another name', expected: 'certs.ca-key-placement', mentions: ['CA private key under another name'],
      host: w2.host, file: `${K8S_DIR}/backup-key.pem`,
      async apply(dir) {
        await writeFile(join(dir, w2.host, K8S_DIR, 'backup-key.pem'), await readFile(join(dir, PKI_DIR, 'ca-key.pem'), 'utf8'));
      },
    },
    {
      id: 'kubeconfig-stale-ca', title: 'kubeconfig whose embedded CA differs from ca.pem', expected: 'certs.kubeconfig-ca', mentions: ['differs from'],
      host: w1.host, file: KUBE_PROXY_KUBECONFIG,
      async apply(dir) {
        const path = join(dir, w1.host, KUBE_PROXY_KUBECONFIG);
        const doc = parse(await readFile(path, 'utf8'));
        const other = await issueCa(certPlan(c).ca);
        doc.clusters[0].cluster['certificate-authority-data'] = Buffer.from(other.certPem).toString('base64');
        await writeFile(path, stringify(doc));
      },
    },
    {
      id: 'missing-file', title: 'kube-proxy kubeconfig missing', expected: 'certs.present', mentions: ['missing'], host: w2.host, file: KUBE_PROXY_KUBECONFIG,
      async apply(dir) {
        await rm(join(dir, w2.host, KUBE_PROXY_KUBECONFIG));
      },
    },
    {
      id: 'apiserver-client-only', title: 'apiserver cert without serverAuth usage', expected: 'certs.usage', mentions: ['serverAuth'], host: master, file: apiCert,
      apply: (dir) => reissue(dir, c, master, apiCert, 'kubernetes', { spec: { usages: ['client'] } }),
    },
  ];
}
