// The reference installer's first half: from the cluster model, everything each host needs, as a
// tree that mirrors absolute paths on that host (OUT/<host>/var/lib/kubernetes/ca.pem, ...).
// OUT/_pki keeps the issued CA, keys and token so that re-rendering reuses them.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Cluster, type Host, allHosts, apiserverUrl } from '../model/cluster.ts';
import { servicesFor } from './services.ts';
import { openrcScript, openrcScriptPath, systemdUnit, systemdUnitPath } from './init.ts';
import { kubeconfig } from './kubeconfig.ts';
import {
  RBAC_FILE, clusterRbac, containerdConfig, corefile, crictlConfig, flannelConflist, flannelNetworkConfig, kubeProxyConfig,
  kubeletConfig, loopbackConf, schedulerConfig, tokenCsv, workerSysctl,
} from './configs.ts';
import { type CertPlan, K8S_DIR, TOKEN_FILE, certPlan } from '../pki/plan.ts';
import { type ExistingPki, type Pki, issuePki } from '../pki/issue.ts';

export interface TreeFile {
  path: string;
  content: string;
  /** 0o600 for keys, tokens and kubeconfigs; 0o755 for scripts; 0o644 otherwise. */
  mode: number;
}

export interface Rendering {
  cluster: Cluster;
  plan: CertPlan;
  pki: Pki;
  token?: string;
  hosts: Map<string, TreeFile[]>;
}

export const PKI_DIR = '_pki';
export const FLANNEL_CONFIG_FILE = `${K8S_DIR}/flannel/net-conf.json`;

const SECRET = 0o600;
const PUBLIC = 0o644;

function hostFiles(c: Cluster, h: Host, plan: CertPlan, pki: Pki, token: string | undefined): TreeFile[] {
  const files: TreeFile[] = [];
  const add = (path: string, content: string, mode = PUBLIC) => files.push({ path, content, mode });
  const server = apiserverUrl(c);

  for (const f of plan.files.filter((x) => x.host === h.host)) {
    const issued = f.spec.id === 'ca' ? pki.ca : pki.certs.get(f.spec.id)!;
    add(f.cert, issued.certPem);
    if (f.key) add(f.key, issued.key.pem, SECRET);
  }
  for (const k of plan.kubeconfigs.filter((x) => x.host === h.host)) {
    const issued = pki.certs.get(k.spec.id)!;
    add(k.path, kubeconfig({
      clusterName: c.name, server, caPem: pki.ca.certPem, user: k.spec.cn, certPem: issued.certPem, keyPem: issued.key.pem,
    }), SECRET);
  }
  const services = servicesFor(c, h);
  for (const s of services) {
    if (h.init === 'openrc') add(openrcScriptPath(s.name), openrcScript(s), 0o755);
    else add(systemdUnitPath(s.name), systemdUnit(s));
  }
  if (h.role === 'master') {
    add(`${K8S_DIR}/kube-scheduler/kube-scheduler.yaml`, schedulerConfig());
    add(RBAC_FILE, clusterRbac());
    add(FLANNEL_CONFIG_FILE, flannelNetworkConfig(c) + '\n');
    if (token) add(TOKEN_FILE, tokenCsv(token), SECRET);
  } else {
    add(`${K8S_DIR}/kubelet/kubelet-config.yaml`, kubeletConfig(c, h));
    add(`${K8S_DIR}/kube-proxy/kube-proxy-config.yaml`, kubeProxyConfig(c, h));
    add('/etc/coredns/Corefile', corefile(c));
    add('/etc/containerd/config.toml', containerdConfig(c, h));
    add('/etc/crictl.yaml', crictlConfig());
    add('/etc/cni/net.d/10-flannel.conflist', flannelConflist());
    add('/etc/cni/net.d/99-loopback.conf', loopbackConf());
    add('/etc/sysctl.d/99-kubernetes.conf', workerSysctl());
  }
  return files;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Reads a previous rendering's CA, keys and token from OUT/_pki. */
export async function readExistingPki(outDir: string, plan: CertPlan): Promise<{ existing: ExistingPki; token?: string }> {
  const dir = join(outDir, PKI_DIR);
  const keys = new Map<string, string>();
  for (const spec of plan.certs) {
    const k = await readIfExists(join(dir, `${spec.id}-key.pem`));
    if (k) keys.set(spec.id, k);
  }
  const caCert = await readIfExists(join(dir, 'ca.pem'));
  const caKey = await readIfExists(join(dir, 'ca-key.pem'));
  const token = (await readIfExists(join(dir, 'token')))?.trim();
  return { existing: { ...(caCert ? { caCert } : {}), ...(caKey ? { caKey } : {}), keys }, ...(token ? { token } : {}) };
}

export async function render(c: Cluster, opts: { existing?: ExistingPki; token?: string } = {}): Promise<Rendering> {
  const plan = certPlan(c);
  const pki = await issuePki(plan, opts.existing);
  const token = c.apiserver.staticToken ? (opts.token ?? randomBytes(24).toString('base64url')) : undefined;
  const hosts = new Map(allHosts(c).map((h) => [h.host, hostFiles(c, h, plan, pki, token)]));
  return { cluster: c, plan, pki, ...(token ? { token } : {}), hosts };
}

async function put(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode });
}

/** Writes the per-host trees and the PKI folder; host folders are replaced, not merged. */
export async function writeRendering(r: Rendering, outDir: string): Promise<void> {
  for (const [host, files] of r.hosts) {
    await rm(join(outDir, host), { recursive: true, force: true });
    for (const f of files) await put(join(outDir, host, f.path), f.content, f.mode);
  }
  const pkiDir = join(outDir, PKI_DIR);
  await put(join(pkiDir, 'ca.pem'), r.pki.ca.certPem, PUBLIC);
  await put(join(pkiDir, 'ca-key.pem'), r.pki.ca.key.pem, SECRET);
  for (const [id, cert] of r.pki.certs) {
    await put(join(pkiDir, `${id}.pem`), cert.certPem, PUBLIC);
    await put(join(pkiDir, `${id}-key.pem`), cert.key.pem, SECRET);
  }
  if (r.token) await put(join(pkiDir, 'token'), r.token + '\n', SECRET);
}

/** `hardway render`: keeps the CA, keys and token of an earlier rendering unless rotateCa. */
export async function renderToDir(c: Cluster, outDir: string, rotateCa = false): Promise<Rendering> {
  const plan = certPlan(c);
  const prev = rotateCa ? { existing: { keys: new Map<string, string>() } } : await readExistingPki(outDir, plan);
  const r = await render(c, { existing: prev.existing, ...(prev.token && !rotateCa ? { token: prev.token } : {}) });
  await writeRendering(r, outDir);
  return r;
}
