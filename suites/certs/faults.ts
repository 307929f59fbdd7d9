// Faults that prove the certs suite: PKI mistakes a careless operator makes, made in a copy of a
// rendering (tree faults, run offline by the unit tests), and on the running lab.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Fault, FaultEnv } from '../../harness/faults/fault.ts';
import { restart, restoreFile } from '../../harness/faults/ops.ts';
import { type Cluster, layoutOf } from '../../harness/model/cluster.ts';
import { KUBELET_DIR as KTHW_KUBELET_DIR } from '../../harness/layouts/kthw/paths.ts';
import { type IssuedCert, issueCa, issueLeaf } from '../../harness/pki/issue.ts';
import { generateRsaKey, readPrivateKey } from '../../harness/pki/keys.ts';
import {
  CA_KEY,
  type CertSpec,
  K8S_DIR,
  KUBE_PROXY_KUBECONFIG,
  SA_KEY,
  certPlan,
  kubeletCert,
  kubeletKey,
  kubeletKubeconfig,
} from '../../harness/pki/plan.ts';
import { parseCertificate, pemBlocks } from '../../harness/pki/x509/cert.ts';
import { EKU, type Forged, KU, forge, genKey } from '../../harness/pki/x509/testing/forge.ts';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readdir } from 'node:fs/promises';

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}
import { PKI_DIR } from '../../harness/render/render.ts';

const DAY = 86400_000;
const API_CERT = `${K8S_DIR}/kubernetes.pem`;
/** Where an operator would leave the CA key on a worker: beside the files its components use
 * (the seed's /var/lib/kubernetes, KTHW's /var/lib/kubelet, which has ca.crt). */
const caKeyOnWorker = (c: Cluster) => (layoutOf(c) === 'kthw' ? `${KTHW_KUBELET_DIR}/ca.key` : CA_KEY);
/** The CA key in the rendering the installer used (its _pki folder, in either layout). */
const caKeyOf = (env: FaultEnv) => join(env.renderedDir, PKI_DIR, 'ca-key.pem');

async function clusterCa(pki: string, c: Cluster): Promise<IssuedCert> {
  return {
    spec: certPlan(c).ca,
    certPem: await readFile(join(pki, 'ca.pem'), 'utf8'),
    key: await readPrivateKey(await readFile(join(pki, 'ca-key.pem'), 'utf8')),
  };
}

function spec(c: Cluster, id: string): CertSpec {
  const s = certPlan(c).certs.find((x) => x.id === id);
  if (!s) throw new Error(`no cert ${id} in the plan`);
  return s;
}

/** Issues certificate `id` again with the same key but another spec, dates or CA. */
async function reissued(
  env: FaultEnv,
  id: string,
  alter: { spec?: Partial<CertSpec>; notBefore?: Date; notAfter?: Date; ca?: IssuedCert },
): Promise<string> {
  const pki = join(env.renderedDir, PKI_DIR);
  const key = await readPrivateKey(await readFile(join(pki, `${id}-key.pem`), 'utf8'));
  const ca = alter.ca ?? (await clusterCa(pki, env.cluster));
  const cert = await issueLeaf(ca, { ...spec(env.cluster, id), ...alter.spec }, key, {
    ...(alter.notBefore ? { notBefore: alter.notBefore } : {}),
    ...(alter.notAfter ? { notAfter: alter.notAfter } : {}),
  });
  return cert.certPem;
}

/** A tree fault replacing one file of one host with `content(env)`. */
const inTree =
  (host: (env: FaultEnv) => string, path: (env: FaultEnv) => string, content: (env: FaultEnv) => Promise<string>) =>
  async (env: FaultEnv) =>
    writeFile(join(env.renderedDir, host(env), path(env)), await content(env));

const worker = (env: { cluster: Cluster; workers: string[] }, i: number) => env.cluster.workers.find((w) => w.host === env.workers.at(i))!;

/** Re-issues the client certificate embedded in a worker's kubelet kubeconfig (what RBAC sees). */
async function kubeletClientCert(env: FaultEnv, i: number, alter: Partial<CertSpec>): Promise<void> {
  const w = worker(env, i);
  const path = join(env.renderedDir, w.host, kubeletKubeconfig(w));
  const doc = parse(await readFile(path, 'utf8'));
  const pem = await reissued(env, `kubelet-${w.host}`, { spec: alter });
  doc.users[0].user['client-certificate-data'] = Buffer.from(pem).toString('base64');
  await writeFile(path, stringify(doc));
}

/** The cluster CA as the forge's issuer (it signs what @peculiar/x509 refuses to make). */
async function forgeIssuer(env: FaultEnv): Promise<Forged> {
  const pki = join(env.renderedDir, PKI_DIR);
  const pem = await readFile(join(pki, 'ca.pem'), 'utf8');
  const keyPem = await readFile(join(pki, 'ca-key.pem'), 'utf8');
  const der = pemBlocks(pem)[0]!.der;
  const ca = parseCertificate(der);
  const priv = createPrivateKey(keyPem);
  const pub = createPublicKey(priv);
  const key = {
    spec: { kind: 'rsa' as const, bits: 2048 },
    priv,
    pub,
    spki: pub.export({ format: 'der', type: 'spki' }),
    pem: keyPem,
    pubPem: pub.export({ format: 'pem', type: 'spki' }).toString(),
  };
  return { der, pem, key, subject: ca.rawSubject, ...(ca.subjectKeyId ? { ski: ca.subjectKeyId } : {}), notAfter: ca.notAfter };
}

/** A kubelet serving certificate forged for `w` with the cluster CA (names as the plan gives them). */
async function forgedKubeletServing(
  env: FaultEnv,
  i: number,
  opts: { hash?: 'sha1' | 'md5'; bits?: number },
): Promise<{ cert: string; key: string }> {
  const w = worker(env, i);
  const s = spec(env.cluster, `kubelet-${w.host}`);
  const key = genKey({ kind: 'rsa', bits: opts.bits ?? 2048 });
  const f = forge({
    subject: { cn: s.cn, ...(s.o ? { o: [s.o] } : {}) },
    key,
    issuer: await forgeIssuer(env),
    hash: opts.hash ?? 'sha256',
    bc: { ca: false },
    ku: [KU.digitalSignature, KU.keyEncipherment],
    eku: [EKU.serverAuth, EKU.clientAuth],
    dns: s.dnsNames,
    ips: s.ipAddresses,
  });
  return { cert: f.pem, key: key.pem };
}

async function writeKubeletServing(env: FaultEnv, i: number, pair: { cert: string; key: string }): Promise<void> {
  const w = worker(env, i);
  await writeFile(join(env.renderedDir, w.host, kubeletCert(w)), pair.cert);
  await writeFile(join(env.renderedDir, w.host, kubeletKey(w)), pair.key);
}

export const certsFaults: Fault[] = [
  {
    id: 'kubelet-serving-sha1',
    title: "the first worker's kubelet serving certificate signed with SHA-1 (Go refuses it)",
    on: 'tree',
    expect: (r) => [{ check: 'certs.chain', host: r.workers[0], codes: ['signature-algorithm-insecure'] }],
    inject: async (env) => writeKubeletServing(env, 0, await forgedKubeletServing(env, 0, { hash: 'sha1' })),
  },
  {
    id: 'kubelet-serving-rsa-512',
    title: "the last worker's kubelet serving certificate with a 512-bit RSA key (Go refuses it)",
    on: 'tree',
    expect: (r) => [{ check: 'certs.chain', host: r.workers.at(-1), codes: ['rsa-key-too-small'] }],
    inject: async (env) => writeKubeletServing(env, -1, await forgedKubeletServing(env, -1, { bits: 512 })),
  },
  {
    id: 'ca-without-certsign',
    title: 'the cluster CA re-made without keyCertSign in its key usage (Go refuses what it signed)',
    on: 'tree',
    expect: (r) => [r.master, ...r.workers].map((h) => ({ check: 'certs.chain', host: h, codes: ['issuer-no-certsign'] })),
    async inject(env) {
      // The same key and name, so every signature still verifies: only the usage is wrong.
      const issuer = await forgeIssuer(env);
      const ca = forge({
        subject: {},
        rawSubject: issuer.subject,
        key: issuer.key,
        bc: { ca: true },
        ku: [KU.digitalSignature, KU.keyEncipherment],
      });
      for (const h of [env.master, ...env.workers]) {
        for (const path of await listFiles(join(env.renderedDir, h))) if (path.endsWith('/ca.pem')) await writeFile(path, ca.pem);
      }
    },
  },
  {
    id: 'service-account-key-mismatch',
    title: 'the controller manager signing service-account tokens with a key the apiserver does not verify with',
    on: 'tree',
    expect: (r) => [{ check: 'certs.key-match', host: r.master, codes: ['sa-key-mismatch'] }],
    inject: async (env) => writeFile(join(env.renderedDir, env.master, SA_KEY), (await generateRsaKey()).pem),
  },
  {
    id: 'foreign-ca-same-subject',
    title: 'apiserver certificate signed by another CA with the same subject',
    on: 'tree',
    expect: (r) => [{ check: 'certs.chain', host: r.master, codes: ['chain-unknown-authority'] }],
    inject: inTree(
      (e) => e.master,
      () => API_CERT,
      async (e) => reissued(e, 'kubernetes', { ca: await issueCa(certPlan(e.cluster).ca) }),
    ),
  },
  {
    id: 'expired',
    title: 'kubelet certificate expired',
    on: 'tree',
    expect: (r) => [{ check: 'certs.validity', host: r.workers[0], codes: ['expired'] }],
    inject: inTree(
      (e) => e.workers[0]!,
      (e) => kubeletCert(worker(e, 0)),
      (e) =>
        reissued(e, `kubelet-${e.workers[0]}`, { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 35 * DAY) }),
    ),
  },
  {
    id: 'not-yet-valid',
    title: 'apiserver certificate not valid yet',
    on: 'tree',
    expect: (r) => [{ check: 'certs.validity', host: r.master, codes: ['not-yet-valid'] }],
    inject: inTree(
      (e) => e.master,
      () => API_CERT,
      (e) => reissued(e, 'kubernetes', { notBefore: new Date(Date.now() + 10 * DAY), notAfter: new Date(Date.now() + 400 * DAY) }),
    ),
  },
  {
    id: 'apiserver-san-missing-service-ip',
    title: 'apiserver certificate without the kubernetes service address',
    on: 'tree',
    expect: (r) => [{ check: 'certs.sans', host: r.master, codes: ['san-missing'] }],
    inject: inTree(
      (e) => e.master,
      () => API_CERT,
      (e) =>
        reissued(e, 'kubernetes', {
          spec: { ipAddresses: spec(e.cluster, 'kubernetes').ipAddresses.filter((i) => i !== e.cluster.kubernetesServiceIP) },
        }),
    ),
  },
  {
    id: 'kubelet-wrong-cn',
    title: "the first worker's kubelet authenticating with a certificate of the wrong CN",
    on: 'tree',
    expect: (r) => [{ check: 'certs.identity', host: r.workers[0], codes: ['identity-cn'] }],
    inject: (env) => kubeletClientCert(env, 0, { cn: 'system:node:somebody-else' }),
  },
  {
    id: 'kubelet-wrong-o',
    title: "the last worker's kubelet authenticating outside the system:nodes group",
    on: 'tree',
    expect: (r) => [{ check: 'certs.identity', host: r.workers.at(-1), codes: ['identity-o'] }],
    inject: (env) => kubeletClientCert(env, -1, { o: 'system:node' }),
  },
  {
    id: 'key-mismatch',
    title: 'kubelet key that does not match its certificate',
    on: 'tree',
    expect: (r) => [{ check: 'certs.key-match', host: r.workers.at(-1), codes: ['key-mismatch'] }],
    inject: inTree(
      (e) => e.workers.at(-1)!,
      (e) => kubeletKey(worker(e, -1)),
      async () => (await generateRsaKey()).pem,
    ),
  },
  {
    id: 'ca-key-on-worker-in-tree',
    title: 'the CA private key copied to a worker',
    on: 'tree',
    expect: (r) => [{ check: 'certs.ca-key-placement', host: r.workers[0], codes: ['ca-key-on-worker'] }],
    inject: inTree(
      (e) => e.workers[0]!,
      () => CA_KEY,
      (e) => readFile(join(e.renderedDir, PKI_DIR, 'ca-key.pem'), 'utf8'),
    ),
  },
  {
    id: 'ca-key-on-worker-renamed',
    title: 'the CA private key on a worker under another name',
    on: 'tree',
    expect: (r) => [{ check: 'certs.ca-key-placement', host: r.workers.at(-1), codes: ['ca-key-on-worker'] }],
    inject: inTree(
      (e) => e.workers.at(-1)!,
      () => `${K8S_DIR}/backup-key.pem`,
      (e) => readFile(join(e.renderedDir, PKI_DIR, 'ca-key.pem'), 'utf8'),
    ),
  },
  {
    id: 'kubeconfig-stale-ca',
    title: "a kubeconfig trusting another CA than the one that signed the apiserver's certificate",
    on: 'tree',
    expect: (r) => [{ check: 'certs.chain', host: r.workers[0], codes: ['chain-unknown-authority'] }],
    async inject(env) {
      const path = join(env.renderedDir, env.workers[0]!, KUBE_PROXY_KUBECONFIG);
      const doc = parse(await readFile(path, 'utf8'));
      const other = await issueCa(certPlan(env.cluster).ca);
      doc.clusters[0].cluster['certificate-authority-data'] = Buffer.from(other.certPem).toString('base64');
      await writeFile(path, stringify(doc));
    },
  },
  {
    id: 'kubeconfig-dangling-context',
    title: "the first worker's kube-proxy kubeconfig naming a current context it does not define",
    on: 'tree',
    expect: (r) => [{ check: 'certs.kubeconfig', host: r.workers[0], codes: ['kubeconfig-context-missing'] }],
    async inject(env) {
      const path = join(env.renderedDir, env.workers[0]!, KUBE_PROXY_KUBECONFIG);
      const doc = parse(await readFile(path, 'utf8'));
      doc['current-context'] = 'renamed-by-hand';
      await writeFile(path, stringify(doc));
    },
  },
  {
    id: 'missing-file',
    title: 'the kube-proxy kubeconfig missing',
    on: 'tree',
    expect: (r) => [{ check: 'certs.present', host: r.workers.at(-1), codes: ['missing'] }],
    inject: (env) => rm(join(env.renderedDir, env.workers.at(-1)!, KUBE_PROXY_KUBECONFIG)),
  },
  {
    id: 'apiserver-client-only',
    title: 'apiserver certificate without the serverAuth usage',
    on: 'tree',
    expect: (r) => [{ check: 'certs.usage', host: r.master, codes: ['eku-missing'] }],
    inject: inTree(
      (e) => e.master,
      () => API_CERT,
      (e) => reissued(e, 'kubernetes', { spec: { usages: ['client'] } }),
    ),
  },
  // On the lab.
  {
    id: 'ca-key-on-worker',
    title: 'the CA private key copied to the first worker',
    on: 'lab',
    sharesHost: true, // a file copied
    layouts: ['seed', 'kthw'],
    expect: (r) => [
      { check: 'certs.ca-key-placement', host: r.workers[0], codes: ['ca-key-on-worker'] },
      { check: 'security.ca-key-on-workers', host: r.workers[0], codes: ['ca-key-on-worker'] },
    ],
    async inject(env) {
      await env.host(env.workers[0]!).ssh.writeFile(caKeyOnWorker(env.cluster), await readFile(caKeyOf(env)), 0o600);
    },
    repair: (env) =>
      env
        .host(env.workers[0]!)
        .run(`rm -f ${caKeyOnWorker(env.cluster)}`)
        .then(() => undefined),
  },
  {
    id: 'kubelet-serving-cert-expired',
    title: 'the kubelet serving certificate of the first worker expired',
    on: 'lab',
    alone: 'with its serving certificate expired nothing execs into pods on that worker, which checks of other suites do there',
    layoutsWhy: "it re-issues the certificate through the seed's cfssl plan; KTHW's kubelet.crt would need chapter 04's profile",
    expect: (r) => [
      { check: 'certs.validity', host: r.workers[0], codes: ['expired'] },
      { check: 'kubelet.logs-exec-port-forward', host: r.workers[0], codes: ['logs-failed'] },
      { check: 'security.cert-expiry', host: r.workers[0], codes: ['expired'] },
    ],
    async inject(env) {
      const w = worker(env, 0);
      const cert = await reissued(env, `kubelet-${w.host}`, {
        notBefore: new Date(Date.now() - 400 * DAY),
        notAfter: new Date(Date.now() - 2 * DAY),
      });
      await env.host(w.host).ssh.writeFile(kubeletCert(w), cert, 0o644);
      await restart(env, w.host, 'kubelet');
    },
    async repair(env) {
      const w = worker(env, 0);
      await restoreFile(env, w.host, kubeletCert(w));
      await restart(env, w.host, 'kubelet');
    },
  },
];
