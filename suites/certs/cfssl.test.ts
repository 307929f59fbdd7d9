// PKI produced by other tools is read too: the seed built its certificates with cfssl following
// Kubernetes The Hard Way. This runs that recipe with the real cfssl and checks a tree holding its
// output with the certs suite. Without cfssl the test fails (never skips): CI installs it.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { allHosts } from '../../harness/model/cluster.ts';
import { loadCluster } from '../../harness/model/load.ts';
import { CA_CERT, K8S_DIR, certPlan } from '../../harness/pki/plan.ts';
import { parseCertificates, x509 } from '../../harness/pki/keys.ts';
import { renderToDir } from '../../harness/render/render.ts';
import { dirTarget } from '../../harness/targets/dir.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { runContext } from '../../harness/verify/context.ts';
import { runSuite } from '../../harness/verify/engine.ts';
import { type CfsslPki, INSTALL_HINT, buildCfsslPki, cfsslMissing, installPki, kubernetesHostnames } from './cfssl-recipe.ts';
import { certsSuite } from './certs.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
const plan = certPlan(cluster);
const missing = cfsslMissing();
const dirs: string[] = [];
let pki: CfsslPki;
let tree: string;

async function tempDir(tag: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `hardway-cfssl-${tag}-`));
  dirs.push(d);
  return d;
}

async function verify(dir: string) {
  return runSuite(await runContext(dirTarget(`dir:${dir}`, dir, cluster), DEFAULT_OPTIONS), certsSuite);
}

/** Every certificate in a host's files and kubeconfigs of the plan, with where it was found. */
async function certsIn(dir: string): Promise<[string, x509.X509Certificate][]> {
  const out: [string, x509.X509Certificate][] = [];
  for (const f of plan.files) {
    for (const c of parseCertificates(await readFile(join(dir, f.host, f.cert), 'utf8'))) out.push([`${f.host}:${f.cert}`, c]);
  }
  for (const k of plan.kubeconfigs) {
    const doc = parseYaml(await readFile(join(dir, k.host, k.path), 'utf8'));
    for (const data of [doc.clusters[0].cluster['certificate-authority-data'], doc.users[0].user['client-certificate-data']]) {
      for (const c of parseCertificates(Buffer.from(data, 'base64').toString())) out.push([`${k.host}:${k.path}`, c]);
    }
  }
  return out;
}

beforeAll(async () => {
  // Without cfssl every test below fails with the install hint (a throw here would mark them skipped).
  if (missing) return;
  pki = await buildCfsslPki(cluster, await tempDir('pki'));
  tree = await tempDir('tree');
  await renderToDir(cluster, tree);
  await installPki(cluster, tree, pki);
}, 120_000);
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("PKI produced by other tools is read too (cfssl, the seed's recipe)", () => {
  beforeEach(() => {
    if (missing) throw new Error(missing);
  });

  it('cfssl and cfssljson are installed', () => {
    expect(missing, INSTALL_HINT).toBeUndefined();
  });

  it("the recipe made what the seed shows: RSA 2048, PKCS#1 keys, the seed's subject, both usages", () => {
    const kubelet = pki.certs.get('kubelet-node-1')!;
    expect(kubelet.key).toMatch(/^-----BEGIN RSA PRIVATE\x20KEY-----/);
    const cert = parseCertificates(kubelet.cert)[0]!;
    expect(cert.subject).toContain('CN=system:node:node-1');
    for (const part of ['C=RU', 'L=Moscow', 'ST=Moscow', 'O=system:nodes', 'OU=Infrastructure Unit']) expect(cert.subject).toContain(part);
    for (const part of ['CN=Kubernetes', 'OU=Infrastructure', 'C=RU']) expect(cert.issuer).toContain(part);
    expect((cert.publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(2048);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages.map(String);
    expect(eku).toEqual(expect.arrayContaining([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]));
    // The profile's 8760h (one year), give or take cfssl's backdating.
    const days = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 86400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    // One certificate per plan entry.
    expect([...pki.certs.keys()].sort()).toEqual(plan.certs.map((s) => s.id).sort());
  });

  it("every certificate of the tree now comes from cfssl: none of hardway's own is left", async () => {
    const found = await certsIn(tree);
    expect(found.length).toBe(plan.files.length + 2 * plan.kubeconfigs.length);
    for (const [where, c] of found) {
      expect(c.subject, where).toContain('L=Moscow');
      expect(c.subject, where).not.toContain('OU=hardway');
    }
    // The cfssl CA is on every host, and every key file is cfssl's PKCS#1 key.
    for (const h of allHosts(cluster)) expect(await readFile(join(tree, h.host, CA_CERT), 'utf8')).toBe(pki.ca.cert);
    for (const f of plan.files.filter((x) => x.key)) {
      const key = await readFile(join(tree, f.host, f.key!), 'utf8');
      expect(key, `${f.host}:${f.key}`).toBe(f.spec.id === 'ca' ? pki.ca.key : pki.certs.get(f.spec.id)!.key);
      expect(key).toMatch(/^-----BEGIN RSA PRIVATE\x20KEY-----/);
    }
  });

  it('the certs suite passes every check on every host', async () => {
    const results = await verify(tree);
    expect(results.filter((r) => r.status !== 'passed').map((r) => `${r.id}@${r.host}: ${r.diagnosis}`)).toEqual([]);
    expect(results.length).toBe(certsSuite.checks.length * allHosts(cluster).length - cluster.masters.length);
  });

  it('a kubernetes certificate made by cfssl without 10.32.0.1 fails exactly certs.sans, on every host holding it', async () => {
    const hostnames = kubernetesHostnames(cluster).filter((h) => h !== cluster.kubernetesServiceIP);
    expect(hostnames).not.toContain('10.32.0.1');
    const bad = await pki.issue({ id: 'kubernetes', cn: 'kubernetes', o: 'Kubernetes', hostnames }, 'kubernetes-no-service-ip');
    const dir = await tempDir('no-svc-ip');
    await cp(tree, dir, { recursive: true });
    await installPki(cluster, dir, pki, new Map([['kubernetes', bad]]));

    const failed = (await verify(dir)).filter((r) => r.status !== 'passed');
    // The workers hold the same file, but only as etcd client certificates (flanneld, CoreDNS):
    // a name matters where the apiserver serves it, on the master.
    const holders = [...new Set(plan.files.filter((f) => f.spec.id === 'kubernetes').map((f) => f.host))].sort();
    expect(holders).toEqual(['master', 'node-1', 'node-2']);
    expect(failed.map((r) => `${r.status} ${r.id}@${r.host}`)).toEqual(['failed certs.sans@master']);
    expect(failed[0]!.findings?.map((f) => f.code)).toEqual(['san-missing']);
    expect(failed[0]!.diagnosis).toContain(`master:${K8S_DIR}/kubernetes.pem:`);
    expect(failed[0]!.diagnosis).toContain('10.32.0.1');
  });
});
