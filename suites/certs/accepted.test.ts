// What Go accepts, the certs suite must accept too: a rendering changed in ways the components'
// TLS stack takes (a bundled intermediate, a rotation bundle, kubeconfigs that reference files, a
// kubeconfig whose current context is not its first cluster, a bare PKIX service-account key)
// passes every check. The refusals are the tree faults (suites/certs/faults.ts).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster } from '../../harness/model/load.ts';
import { issueCa } from '../../harness/pki/issue.ts';
import { parseCertificate, pemBlocks } from '../../harness/pki/x509/cert.ts';
import { EKU, KU, forge, genKey } from '../../harness/pki/x509/testing/forge.ts';
import {
  ADMIN_KUBECONFIG,
  CA_CERT,
  K8S_DIR,
  KUBE_PROXY_KUBECONFIG,
  SA_CERT,
  certPlan,
  kubeletCert,
  kubeletKey,
} from '../../harness/pki/plan.ts';
import { PKI_DIR, renderToDir } from '../../harness/render/render.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { runContext } from '../../harness/verify/context.ts';
import { runSuite } from '../../harness/verify/engine.ts';
import { certsSuite } from './certs.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
const w1 = cluster.workers[0]!;
let base: string;
const dirs: string[] = [];

async function copy(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'hardway-certs-accepted-'));
  dirs.push(d);
  await cp(base, d, { recursive: true });
  return d;
}

async function failures(dir: string): Promise<string[]> {
  const rs = await runSuite(await runContext(dirTarget(`dir:${dir}`, dir, cluster), DEFAULT_OPTIONS), certsSuite);
  return rs.filter((r) => r.status !== 'passed').map((r) => `${r.id}@${r.host}: ${r.status} ${r.diagnosis ?? ''}`);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'hardway-certs-base-'));
  dirs.push(base);
  await renderToDir(cluster, base);
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('what Go accepts passes', () => {
  it('a kubelet serving certificate file that bundles its intermediate', async () => {
    const dir = await copy();
    const pki = join(dir, PKI_DIR);
    const rootPem = await readFile(join(pki, 'ca.pem'), 'utf8');
    const rootKeyPem = await readFile(join(pki, 'ca-key.pem'), 'utf8');
    const der = pemBlocks(rootPem)[0]!.der;
    const priv = createPrivateKey(rootKeyPem);
    const pub = createPublicKey(priv);
    const root = {
      der,
      pem: rootPem,
      subject: parseCertificate(der).rawSubject,
      notAfter: parseCertificate(der).notAfter,
      key: {
        spec: { kind: 'rsa' as const, bits: 2048 },
        priv,
        pub,
        spki: pub.export({ format: 'der', type: 'spki' }),
        pem: rootKeyPem,
        pubPem: '',
      },
    };
    const inter = forge({
      subject: { cn: 'Kubernetes intermediate' },
      key: genKey({ kind: 'rsa', bits: 2048 }),
      issuer: root,
      bc: { ca: true },
      ku: [KU.keyCertSign, KU.cRLSign],
    });
    const spec = certPlan(cluster).certs.find((s) => s.id === `kubelet-${w1.host}`)!;
    const leafKey = genKey({ kind: 'rsa', bits: 2048 });
    const leaf = forge({
      subject: { cn: spec.cn, o: [spec.o!] },
      key: leafKey,
      issuer: inter,
      bc: { ca: false },
      ku: [KU.digitalSignature, KU.keyEncipherment],
      eku: [EKU.serverAuth, EKU.clientAuth],
      dns: spec.dnsNames,
      ips: spec.ipAddresses,
    });
    await writeFile(join(dir, w1.host, kubeletCert(w1)), leaf.pem + inter.pem);
    await writeFile(join(dir, w1.host, kubeletKey(w1)), leafKey.pem);
    expect(await failures(dir)).toEqual([]);
  });

  it('ca.pem holding the new and the old CA during a rotation', async () => {
    const dir = await copy();
    const fresh = await issueCa(certPlan(cluster).ca);
    const old = await readFile(join(dir, PKI_DIR, 'ca.pem'), 'utf8');
    for (const h of [...cluster.masters, ...cluster.workers])
      await writeFile(join(dir, h.host, CA_CERT), `${fresh.certPem.trimEnd()}\n${old}`);
    expect(await failures(dir)).toEqual([]);
  });

  it('a kubeconfig that references its certificate files (paths relative to it) instead of embedding them', async () => {
    const dir = await copy();
    const path = join(dir, w1.host, KUBE_PROXY_KUBECONFIG);
    const doc = parse(await readFile(path, 'utf8'));
    const folder = KUBE_PROXY_KUBECONFIG.replace(/\/[^/]*$/, '');
    const u = doc.users[0].user;
    await writeFile(join(dir, w1.host, folder, 'client.pem'), Buffer.from(u['client-certificate-data'], 'base64'));
    await writeFile(join(dir, w1.host, folder, 'client-key.pem'), Buffer.from(u['client-key-data'], 'base64'));
    doc.users[0].user = { 'client-certificate': 'client.pem', 'client-key': 'client-key.pem' };
    doc.clusters[0].cluster = { server: doc.clusters[0].cluster.server, 'certificate-authority': '../ca.pem' };
    await writeFile(path, stringify(doc));
    expect(await failures(dir)).toEqual([]);
  });

  it('an admin kubeconfig whose second cluster sorts first (kubectl uses the current context)', async () => {
    const dir = await copy();
    const path = join(dir, cluster.masters[0]!.host, ADMIN_KUBECONFIG);
    const doc = parse(await readFile(path, 'utf8'));
    const other = await issueCa(certPlan(cluster).ca);
    doc.clusters.unshift({
      name: 'aaa-elsewhere',
      cluster: { server: 'https://192.0.2.1:6443', 'certificate-authority-data': Buffer.from(other.certPem).toString('base64') },
    });
    doc.contexts.unshift({ name: 'aaa-elsewhere', context: { cluster: 'aaa-elsewhere', user: doc.users[0].name } });
    await writeFile(path, stringify(doc));
    expect(await failures(dir)).toEqual([]);
  });

  it('a service-account verification key file that is a bare PKIX public key', async () => {
    const dir = await copy();
    const key = await readFile(join(dir, cluster.masters[0]!.host, `${K8S_DIR}/service-account-key.pem`), 'utf8');
    await writeFile(join(dir, cluster.masters[0]!.host, SA_CERT), createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString());
    expect(await failures(dir)).toEqual([]);
  });
});
