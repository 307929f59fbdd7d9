import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type Cluster, type Host, allHosts } from '../model/cluster.ts';
import { componentsFor } from '../model/components.ts';
import { loadCluster, parseCluster } from '../model/load.ts';
import {
  ADMIN_KUBECONFIG,
  CA_CERT,
  CA_KEY,
  COREDNS_KUBECONFIG,
  FLANNELD_KUBECONFIG,
  K8S_DIR,
  KCM_KUBECONFIG,
  KUBE_PROXY_KUBECONFIG,
  SCHEDULER_KUBECONFIG,
  TOKEN_FILE,
  kubeletCert,
  kubeletKey,
  kubeletKubeconfig,
} from '../pki/plan.ts';
import { parseCertificates, publicKeyDerOf, x509 } from '../pki/keys.ts';
import { FLANNEL_CONFIG_FILE, PKI_DIR, type Rendering, renderToDir } from './render.ts';

const lab = loadCluster('fixtures/lab/cluster.yaml');

/** A VPS-style model like the seed's: node-1 registers as w40k.net, node-2 runs OpenRC. */
const vps = parseCluster(
  `
name: w40k
clusterDomain: hard.way
podCIDR: 10.244.0.0/16
podSubnetLength: 26
serviceCIDR: 10.32.0.0/24
flannel: { backend: vxlan, vni: 4096 }
dns:
  upstreams: [1.1.1.1, 8.8.8.8]
masters:
  - host: master
    address: 178.79.168.10
    internalAddress: 192.168.164.10
workers:
  - host: node-1
    nodeName: w40k.net
    address: 178.79.168.130
    internalAddress: 192.168.164.230
  - host: node-2
    address: 178.79.168.131
    internalAddress: 192.168.164.231
    init: openrc
`,
  'vps.yaml',
);

const dirs: string[] = [];
async function tempDir(tag: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `hardway-render-${tag}-`));
  dirs.push(d);
  return d;
}

let labDir: string;
let labRendering: Rendering;
let vpsDir: string;

beforeAll(async () => {
  labDir = await tempDir('lab');
  labRendering = await renderToDir(lab, labDir);
  vpsDir = await tempDir('vps');
  await renderToDir(vps, vpsDir);
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const read = (dir: string, host: string, path: string) => readFile(join(dir, host, path), 'utf8');
const exists = (dir: string, host: string, path: string) =>
  stat(join(dir, host, path)).then(
    () => true,
    () => false,
  );
const modeOf = async (dir: string, host: string, path: string) => (await stat(join(dir, host, path))).mode & 0o777;

/** Every regular file below `root`, as paths relative to it with a leading slash. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(`/${relative(root, join(e.parentPath, e.name))}`);
  }
  return out.sort();
}

function certOf(pem: string): x509.X509Certificate {
  const [cert] = parseCertificates(pem);
  if (!cert) throw new Error('no certificate in PEM');
  return cert;
}

interface Kubeconfig {
  server: string;
  caPem: string;
  user: string;
  certPem: string;
  keyPem: string;
}

function readKubeconfig(text: string): Kubeconfig {
  const doc = parseYaml(text);
  const dec = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    server: doc.clusters[0].cluster.server,
    caPem: dec(doc.clusters[0].cluster['certificate-authority-data']),
    user: doc.users[0].name,
    certPem: dec(doc.users[0].user['client-certificate-data']),
    keyPem: dec(doc.users[0].user['client-key-data']),
  };
}

const cnOf = (pem: string) => certOf(pem).subjectName.getField('CN');
const oOf = (pem: string) => certOf(pem).subjectName.getField('O');
const sansOf = (pem: string) =>
  (certOf(pem).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).map((n) => `${n.type}:${n.value}`);
const keyMatchesCert = (keyPem: string, certPem: string) => publicKeyDerOf(keyPem).equals(Buffer.from(certOf(certPem).publicKey.rawData));

const worker = (c: Cluster, host: string): Host => {
  const w = c.workers.find((x) => x.host === host);
  if (!w) throw new Error(`no worker ${host}`);
  return w;
};

describe('PKI placement', () => {
  it('puts the CA private key on masters only', async () => {
    const caKey = await readFile(join(labDir, PKI_DIR, 'ca-key.pem'), 'utf8');
    const caPub = publicKeyDerOf(caKey);
    for (const m of lab.masters) expect(await read(labDir, m.host, CA_KEY)).toBe(caKey);
    for (const w of lab.workers) {
      expect(await exists(labDir, w.host, CA_KEY)).toBe(false);
      // Nor under another name: no private key on a worker matches the CA.
      const keys = [];
      for (const path of await walk(join(labDir, w.host))) {
        const text = await read(labDir, w.host, path);
        if (/PRIVATE KEY-----/.test(text) && !path.endsWith('.kubeconfig')) keys.push(path);
      }
      expect(keys.length).toBeGreaterThan(0);
      for (const path of keys) expect(publicKeyDerOf(await read(labDir, w.host, path)).equals(caPub), path).toBe(false);
    }
  });

  it('gives every worker the CA, the kubernetes pair, its kubelet pair and kubeconfig, and the kube-proxy, coredns and flanneld kubeconfigs', async () => {
    const caPem = await read(labDir, 'master', CA_CERT);
    for (const w of lab.workers) {
      const files = await walk(join(labDir, w.host));
      for (const p of [
        CA_CERT,
        `${K8S_DIR}/kubernetes.pem`,
        `${K8S_DIR}/kubernetes-key.pem`,
        kubeletCert(w),
        kubeletKey(w),
        kubeletKubeconfig(w),
        KUBE_PROXY_KUBECONFIG,
        COREDNS_KUBECONFIG,
        FLANNELD_KUBECONFIG,
      ]) {
        expect(files, `${w.host}:${p}`).toContain(p);
      }
      expect(kubeletCert(w)).toBe(`${K8S_DIR}/kubelet/${w.host}.pem`);
      expect(await read(labDir, w.host, CA_CERT)).toBe(caPem);
      expect(keyMatchesCert(await read(labDir, w.host, kubeletKey(w)), await read(labDir, w.host, kubeletCert(w)))).toBe(true);

      const expectedUsers: [string, string, string][] = [
        [kubeletKubeconfig(w), `system:node:${w.nodeName}`, 'system:nodes'],
        [KUBE_PROXY_KUBECONFIG, 'system:kube-proxy', 'system:node-proxier'],
        [COREDNS_KUBECONFIG, 'kubernetes', 'Kubernetes'],
        [FLANNELD_KUBECONFIG, 'kubernetes', 'Kubernetes'],
      ];
      for (const [path, cn, o] of expectedUsers) {
        const k = readKubeconfig(await read(labDir, w.host, path));
        expect(k.server).toBe('https://10.240.0.10:6443');
        expect(k.caPem).toBe(caPem);
        expect(k.user).toBe(cn);
        expect(cnOf(k.certPem)).toEqual([cn]);
        expect(oOf(k.certPem)).toEqual([o]);
        expect(keyMatchesCert(k.keyPem, k.certPem), path).toBe(true);
      }
      // The CA signed the kubelet certificate.
      const kubelet = certOf(await read(labDir, w.host, kubeletCert(w)));
      expect(await kubelet.verify({ publicKey: certOf(caPem).publicKey, signatureOnly: true })).toBe(true);
    }
  });

  it('gives the master the admin kubeconfig at /root/.kube/config, token.csv and the scheduler config', async () => {
    const m = lab.masters[0]!.host;
    const admin = readKubeconfig(await read(labDir, m, ADMIN_KUBECONFIG));
    expect(ADMIN_KUBECONFIG).toBe('/root/.kube/config');
    expect(cnOf(admin.certPem)).toEqual(['admin']);
    expect(oOf(admin.certPem)).toEqual(['system:masters']);
    expect(keyMatchesCert(admin.keyPem, admin.certPem)).toBe(true);

    const token = (await readFile(join(labDir, PKI_DIR, 'token'), 'utf8')).trim();
    expect(token).toMatch(/^[\w-]{20,}$/);
    expect(token).toBe(labRendering.token);
    expect(await read(labDir, m, TOKEN_FILE)).toBe(`${token},admin,admin,"system:masters"\n`);

    const sched = parseYaml(await read(labDir, m, `${K8S_DIR}/kube-scheduler/kube-scheduler.yaml`));
    expect(sched).toMatchObject({ kind: 'KubeSchedulerConfiguration', clientConnection: { kubeconfig: SCHEDULER_KUBECONFIG } });
    expect(readKubeconfig(await read(labDir, m, SCHEDULER_KUBECONFIG)).user).toBe('system:kube-scheduler');
    expect(readKubeconfig(await read(labDir, m, KCM_KUBECONFIG)).user).toBe('system:kube-controller-manager');
    // Workers get no admin credentials and no token.
    for (const w of lab.workers) {
      expect(await exists(labDir, w.host, ADMIN_KUBECONFIG)).toBe(false);
      expect(await exists(labDir, w.host, TOKEN_FILE)).toBe(false);
    }
  });

  it('writes keys, kubeconfigs and the token with mode 0600 and nothing else secret-looking world-readable', async () => {
    const secret = (p: string) => /-key\.pem$/.test(p) || p.endsWith('.kubeconfig') || p === TOKEN_FILE || p === ADMIN_KUBECONFIG;
    let secrets = 0;
    for (const h of allHosts(lab)) {
      for (const path of await walk(join(labDir, h.host))) {
        const mode = await modeOf(labDir, h.host, path);
        const text = await read(labDir, h.host, path);
        if (secret(path)) {
          secrets++;
          expect(mode, `${h.host}:${path}`).toBe(0o600);
        } else {
          // Anything holding a private key must have been classified as secret above.
          expect(text, `${h.host}:${path}`).not.toMatch(/PRIVATE KEY|client-key-data/);
        }
      }
    }
    // master: 4 keys (CA, kubernetes, service-account, controller-manager) + 2 kubeconfigs + admin + token;
    // each worker: 2 keys (kubernetes, kubelet) + 4 kubeconfigs.
    expect(secrets).toBe(8 + 2 * 6);
    for (const f of await walk(join(labDir, PKI_DIR))) {
      if (f.endsWith('-key.pem') || f === '/token') expect((await stat(join(labDir, PKI_DIR, f))).mode & 0o777, f).toBe(0o600);
    }
    // The modes the renderer asks for, independent of the umask: certificates and configs are
    // public, OpenRC scripts executable (openrc-run runs them).
    for (const [host, files] of labRendering.hosts) {
      for (const f of files)
        expect(f.mode, `${host}:${f.path}`).toBe(secret(f.path) ? 0o600 : f.path.startsWith('/etc/init.d/') ? 0o755 : 0o644);
    }
  });
});

describe('services', () => {
  it('writes one systemd unit per component on the systemd hosts, each restarting as the seed says', async () => {
    const systemdHosts = allHosts(lab).filter((h) => h.init === 'systemd');
    expect(systemdHosts.map((h) => h.host)).toEqual(['master', 'node-1']); // node-2 runs OpenRC
    for (const h of systemdHosts) {
      const units = (await walk(join(labDir, h.host))).filter((p) => p.startsWith('/etc/systemd/system/'));
      const names = componentsFor(h.role).map((c) => c.name);
      expect(units).toEqual(names.map((n) => `/etc/systemd/system/${n}.service`).sort());
      for (const n of names) {
        const unit = await read(labDir, h.host, `/etc/systemd/system/${n}.service`);
        const restart = unit.split('\n').filter((l) => l.startsWith('Restart='));
        expect(restart, `${h.host}:${n}`).toEqual([n === 'containerd' ? 'Restart=always' : 'Restart=on-failure']);
        expect(unit).toContain('RestartSec=5');
        expect(unit).toMatch(/^ExecStart=\/\S+/m);
      }
      expect(await exists(labDir, h.host, '/etc/init.d')).toBe(false);
    }
  });

  it('runs the kubelet under its node name (--hostname-override) at its internal address', async () => {
    for (const w of lab.workers) {
      // A systemd unit's continued ExecStart lines, or an OpenRC script's command_args.
      const openrc = w.init === 'openrc';
      const unit = await read(labDir, w.host, openrc ? '/etc/init.d/kubelet' : '/etc/systemd/system/kubelet.service');
      const end = openrc ? '' : ' \\';
      expect(unit).toContain(`--hostname-override=${w.nodeName}${end}`);
      expect(unit).toContain(`--node-ip=${w.internalAddress}${end}`);
      expect(unit).toContain(`--kubeconfig=${kubeletKubeconfig(w)}${end}`);
    }
  });

  it('gives an OpenRC host /etc/init.d scripts supervised by supervise-daemon, and no systemd units', async () => {
    const w = worker(vps, 'node-2');
    const files = await walk(join(vpsDir, w.host));
    expect(files.filter((p) => p.startsWith('/etc/systemd/'))).toEqual([]);
    const scripts = files.filter((p) => p.startsWith('/etc/init.d/'));
    expect(scripts).toEqual(
      componentsFor('worker')
        .map((c) => `/etc/init.d/${c.name}`)
        .sort(),
    );
    for (const c of componentsFor('worker')) {
      const s = await read(vpsDir, w.host, `/etc/init.d/${c.name}`);
      expect(s.startsWith('#!/sbin/openrc-run\n')).toBe(true);
      expect(s).toContain('supervisor=supervise-daemon');
      expect(s).toContain(`command="${c.binary}"`);
      // Soft on net: Debian's OpenRC (the lab's OpenRC node) has no net service, Gentoo's netifrc does.
      expect(s).toMatch(/^depend\(\) \{\n {4}use net$/m);
      expect(await modeOf(vpsDir, w.host, `/etc/init.d/${c.name}`)).toBe(0o755);
    }
    const kubelet = await read(vpsDir, w.host, '/etc/init.d/kubelet');
    expect(kubelet).toMatch(/^command_args=".*--hostname-override=node-2 .*"$/m);
    expect(kubelet).toMatch(/^ {4}need containerd$/m);
    // The systemd host of the same cluster keeps its units.
    const other = await walk(join(vpsDir, 'node-1'));
    expect(other).toContain('/etc/systemd/system/kubelet.service');
    expect(other.filter((p) => p.startsWith('/etc/init.d/'))).toEqual([]);
  });

  it('uses the cgroupfs driver on the OpenRC host (no systemd there) and the systemd driver elsewhere', async () => {
    const driver = async (host: string) => ({
      kubelet: parseYaml(await read(vpsDir, host, `${K8S_DIR}/kubelet/kubelet-config.yaml`)).cgroupDriver,
      containerd: /SystemdCgroup = (\w+)/.exec(await read(vpsDir, host, '/etc/containerd/config.toml'))?.[1],
    });
    expect(await driver('node-2')).toEqual({ kubelet: 'cgroupfs', containerd: 'false' });
    expect(await driver('node-1')).toEqual({ kubelet: 'systemd', containerd: 'true' });
  });
});

describe('a nodeName override (node-1 registers as w40k.net, as in the seed)', () => {
  const w = worker(vps, 'node-1');

  it('flows into the kubelet certificate: CN system:node:w40k.net, and both names as SANs', async () => {
    expect(w.nodeName).toBe('w40k.net');
    // The files keep the host name; the identity inside is the node name.
    const pem = await read(vpsDir, w.host, `${K8S_DIR}/kubelet/node-1.pem`);
    expect(cnOf(pem)).toEqual(['system:node:w40k.net']);
    expect(oOf(pem)).toEqual(['system:nodes']);
    expect(sansOf(pem)).toEqual(expect.arrayContaining(['dns:w40k.net', 'dns:node-1', 'ip:178.79.168.130', 'ip:192.168.164.230']));
    const k = readKubeconfig(await read(vpsDir, w.host, `${K8S_DIR}/kubelet/node-1.kubeconfig`));
    expect(k.user).toBe('system:node:w40k.net');
    expect(cnOf(k.certPem)).toEqual(['system:node:w40k.net']);
  });

  it('flows into the kube-proxy config hostnameOverride and the kubelet unit', async () => {
    const proxy = parseYaml(await read(vpsDir, w.host, `${K8S_DIR}/kube-proxy/kube-proxy-config.yaml`));
    expect(proxy.hostnameOverride).toBe('w40k.net');
    expect(proxy.clusterCIDR).toBe('10.244.0.0/16');
    expect(await read(vpsDir, w.host, '/etc/systemd/system/kubelet.service')).toContain('--hostname-override=w40k.net \\');
  });

  it('leaves the other worker under its host name', async () => {
    const proxy = parseYaml(await read(vpsDir, 'node-2', `${K8S_DIR}/kube-proxy/kube-proxy-config.yaml`));
    expect(proxy.hostnameOverride).toBe('node-2');
    expect(cnOf(await read(vpsDir, 'node-2', `${K8S_DIR}/kubelet/node-2.pem`))).toEqual(['system:node:node-2']);
  });
});

describe('component configuration', () => {
  it("Corefile forwards to the model's upstreams and serves the cluster domain", async () => {
    expect(await read(labDir, 'node-1', '/etc/coredns/Corefile')).toMatch(/^\s*forward \. 10\.240\.0\.2$/m);
    const vpsCorefile = await read(vpsDir, 'node-2', '/etc/coredns/Corefile');
    expect(vpsCorefile).toMatch(/^\s*forward \. 1\.1\.1\.1 8\.8\.8\.8$/m);
    expect(vpsCorefile).toMatch(/^\s*kubernetes hard\.way in-addr\.arpa ip6\.arpa \{$/m);
    expect(vpsCorefile).toContain(`kubeconfig ${COREDNS_KUBECONFIG} default`);
  });

  it('flannel net-conf carries Network = podCIDR, SubnetLen and the vxlan backend with its VNI', async () => {
    expect(JSON.parse(await read(labDir, 'master', FLANNEL_CONFIG_FILE))).toEqual({
      Network: '10.200.0.0/16',
      SubnetLen: 24,
      Backend: { Type: 'vxlan', VNI: 1, Port: 8472 },
    });
    expect(JSON.parse(await read(vpsDir, 'master', FLANNEL_CONFIG_FILE))).toEqual({
      Network: '10.244.0.0/16',
      SubnetLen: 26,
      Backend: { Type: 'vxlan', VNI: 4096, Port: 8472 },
    });
  });

  it("kubelet config: clusterDNS = every worker's internal address, clusterDomain from the model", async () => {
    const labCfg = parseYaml(await read(labDir, 'node-2', `${K8S_DIR}/kubelet/kubelet-config.yaml`));
    expect(labCfg.clusterDNS).toEqual(['10.240.0.21', '10.240.0.22']);
    expect(labCfg.clusterDomain).toBe('cluster.local');
    expect(labCfg.tlsCertFile).toBe(`${K8S_DIR}/kubelet/node-2.pem`);
    const vpsCfg = parseYaml(await read(vpsDir, 'node-1', `${K8S_DIR}/kubelet/kubelet-config.yaml`));
    // Internal, not public, addresses.
    expect(vpsCfg.clusterDNS).toEqual(['192.168.164.230', '192.168.164.231']);
    expect(vpsCfg.clusterDomain).toBe('hard.way');
  });

  it('the kubernetes certificate covers the service address, master addresses and the cluster domain', async () => {
    const sans = sansOf(await read(vpsDir, 'master', `${K8S_DIR}/kubernetes.pem`));
    expect(sans).toEqual(
      expect.arrayContaining([
        'ip:10.32.0.1',
        'ip:178.79.168.10',
        'ip:192.168.164.10',
        'ip:127.0.0.1',
        'dns:master',
        'dns:kubernetes',
        'dns:kubernetes.default',
        'dns:kubernetes.default.svc',
        'dns:kubernetes.default.svc.hard.way',
      ]),
    );
  });
});

describe('re-rendering', () => {
  /** Every file of a rendering (hosts and _pki) by relative path. */
  async function snapshot(dir: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of await walk(dir)) out.set(p, await readFile(join(dir, p), 'utf8'));
    return out;
  }
  const isKey = (p: string) => p.endsWith('-key.pem');
  const isLeafCert = (p: string) => p.endsWith('.pem') && !isKey(p) && !p.endsWith('/ca.pem');

  let dir: string;
  let first: Map<string, string>;
  beforeAll(async () => {
    dir = await tempDir('again');
    await renderToDir(lab, dir);
    first = await snapshot(dir);
  });

  it('keeps the CA, every key and the token byte-identical while re-issuing certificates', async () => {
    await renderToDir(lab, dir);
    const second = await snapshot(dir);
    expect([...second.keys()]).toEqual([...first.keys()]);
    const keys = [...first.keys()].filter(isKey);
    // _pki: CA + 8 leaf keys; master: 4; each worker: 2.
    expect(keys.length).toBe(9 + 4 + 2 * 2);
    for (const p of keys) expect(second.get(p), p).toBe(first.get(p));
    for (const p of [...first.keys()].filter((x) => x.endsWith('/ca.pem'))) expect(second.get(p), p).toBe(first.get(p));
    expect(second.get('/_pki/token')).toBe(first.get('/_pki/token'));
    expect(second.get(`/master${TOKEN_FILE}`)).toBe(first.get(`/master${TOKEN_FILE}`));
    // Certificates are issued afresh (new serials), for the same keys.
    const leaves = [...first.keys()].filter(isLeafCert);
    expect(leaves.length).toBeGreaterThan(10);
    for (const p of leaves) {
      expect(second.get(p), p).not.toBe(first.get(p));
      expect(certOf(second.get(p)!).serialNumber).not.toBe(certOf(first.get(p)!).serialNumber);
      expect(Buffer.from(certOf(second.get(p)!).publicKey.rawData).equals(Buffer.from(certOf(first.get(p)!).publicKey.rawData)), p).toBe(
        true,
      );
    }
    // Kubeconfigs keep their key and CA, and embed the new certificate.
    const k1 = readKubeconfig(first.get(`/node-1${KUBE_PROXY_KUBECONFIG}`)!);
    const k2 = readKubeconfig(second.get(`/node-1${KUBE_PROXY_KUBECONFIG}`)!);
    expect(k2.keyPem).toBe(k1.keyPem);
    expect(k2.caPem).toBe(k1.caPem);
    expect(k2.certPem).not.toBe(k1.certPem);
    first = second;
  });

  it('with rotateCa, makes a new CA and new keys, consistent across hosts', async () => {
    await renderToDir(lab, dir, true);
    const rotated = await snapshot(dir);
    expect(rotated.get('/_pki/ca.pem')).not.toBe(first.get('/_pki/ca.pem'));
    expect(rotated.get('/_pki/ca-key.pem')).not.toBe(first.get('/_pki/ca-key.pem'));
    for (const p of [...first.keys()].filter(isKey)) expect(rotated.get(p), p).not.toBe(first.get(p));
    // Every host got the new CA, and every certificate is signed by it.
    const ca = certOf(rotated.get('/_pki/ca.pem')!);
    for (const p of [...rotated.keys()].filter((x) => x.endsWith('/ca.pem'))) expect(rotated.get(p), p).toBe(rotated.get('/_pki/ca.pem'));
    for (const p of [...rotated.keys()].filter(isLeafCert)) {
      expect(await certOf(rotated.get(p)!).verify({ publicKey: ca.publicKey, signatureOnly: true }), p).toBe(true);
    }
    expect(readKubeconfig(rotated.get(`/master${ADMIN_KUBECONFIG}`)!).caPem).toBe(rotated.get('/_pki/ca.pem'));
    // A later plain re-render keeps the rotated CA.
    await renderToDir(lab, dir);
    expect(await readFile(join(dir, PKI_DIR, 'ca.pem'), 'utf8')).toBe(rotated.get('/_pki/ca.pem'));
  });
});
