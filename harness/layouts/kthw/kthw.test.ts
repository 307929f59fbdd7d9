// The kthw layout rendered offline: KTHW's paths, units, flags, configs and certificate profiles,
// the lab's deviations (and --verbatim without them), the model's kthw rules, and a chapter-04
// folder made by openssl laid out as it is (render --pki).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type ModelError, loadCluster, parseCluster } from '../../model/load.ts';
import { certPlan } from '../../pki/plan.ts';
import { parseCertificates, publicKeyDerOf, x509 } from '../../pki/keys.ts';
import { type Rendering, render } from '../../render/render.ts';
import { caConf, chapter04Script } from './ca-conf.ts';
import { readChapter04 } from './chapter04.ts';
import { CONTAINERD_DROP_IN } from './files.ts';

const REPO = resolve(import.meta.dirname, '../../..');
const cluster = loadCluster(join(REPO, 'fixtures/lab-kthw/cluster.yaml'));
let lab: Rendering;
let verbatim: Rendering;
const tmp = mkdtempSync(join(tmpdir(), 'hardway-kthw-test-'));

beforeAll(async () => {
  lab = await render(cluster);
  // The same keys again: RSA 4096 is slow to generate, and the files do not depend on them.
  verbatim = await render(cluster, {
    existing: {
      caCert: lab.pki.ca.certPem,
      caKey: lab.pki.ca.key.pem,
      keys: new Map([...lab.pki.certs].map(([id, c]) => [id, c.key.pem])),
    },
    encryptionKey: lab.encryptionKey!,
    options: { verbatim: true },
  });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const files = (r: Rendering, host: string) => new Map((r.hosts.get(host) ?? []).map((f) => [f.path, f]));
const text = (r: Rendering, host: string, path: string) => {
  const f = files(r, host).get(path);
  if (!f) throw new Error(`${host}:${path} not rendered`);
  return f.content;
};
/** ExecStart's arguments of a rendered unit, one per continued line. */
const execArgs = (unit: string) =>
  /ExecStart=([\s\S]*?)\n(?! {2})/
    .exec(unit)![1]!
    .split(' \\\n  ')
    .map((s) => s.trim());

describe('the kthw model', () => {
  it("gives each worker its pod subnet: machines.txt's 4th column, by default the i-th /24 of podCIDR", () => {
    expect(cluster.layout).toBe('kthw');
    expect(cluster.workers.map((w) => [w.host, w.podSubnet])).toEqual([
      ['node-0', '10.200.0.0/24'],
      ['node-1', '10.200.1.0/24'],
    ]);
    const derived = parseCluster(
      'name: k\nlayout: kthw\nmasters: [{ host: server, address: 10.1.0.10 }]\nworkers:\n  - { host: node-0, address: 10.1.0.20 }\n  - { host: node-1, address: 10.1.0.21 }\n  - { host: node-2, address: 10.1.0.22 }\n',
    );
    expect(derived.workers.map((w) => w.podSubnet)).toEqual(['10.200.0.0/24', '10.200.1.0/24', '10.200.2.0/24']);
    expect(derived.apiserver.staticToken).toBe(false);
  });

  it('names every rule the kthw layout adds, and keeps pod subnets out of the seed layout', () => {
    const problems = (text: string) => {
      try {
        parseCluster(text, 'k.yaml');
      } catch (e) {
        return (e as ModelError).problems;
      }
      return [];
    };
    const k = (rest: string) => `name: k\nlayout: kthw\n${rest}`;
    expect(
      problems(
        k('masters: [{ host: a, address: 10.1.0.10 }, { host: b, address: 10.1.0.11 }]\nworkers: [{ host: w, address: 10.1.0.20 }]\n'),
      ),
    ).toEqual(["k.yaml:3:10: masters: the kthw layout has exactly one server (KTHW's etcd runs one member on 127.0.0.1), got 2"]);
    expect(
      problems(
        k(
          'masters: [{ host: a, address: 10.1.0.10 }]\nworkers:\n  - { host: w, address: 10.1.0.20, podSubnet: 10.200.0.0/24 }\n  - { host: x, address: 10.1.0.21, podSubnet: 10.200.0.128/25 }\n  - { host: y, address: 10.1.0.22, podSubnet: 10.9.0.0/24 }\n',
        ),
      ),
    ).toEqual([
      'k.yaml:6:47: workers[1].podSubnet: 10.200.0.128/25 overlaps workers[0].podSubnet; each worker needs its own pod subnet',
      'k.yaml:7:47: workers[2].podSubnet: 10.9.0.0/24 lies outside podCIDR 10.200.0.0/16',
    ]);
    expect(
      problems(
        k(
          'apiserver: { staticToken: true }\nmasters: [{ host: a, address: 10.1.0.10, init: openrc }]\nworkers: [{ host: w, nodeName: other, address: 10.1.0.20 }]\n',
        ),
      ),
    ).toEqual([
      'k.yaml:4:48: masters[0].init: the kthw layout runs systemd units only',
      "k.yaml:3:27: apiserver.staticToken: KTHW's apiserver has no token file; fix: remove it (the kthw layout defaults to false)",
      "k.yaml:5:32: workers[0].nodeName: KTHW's kubelets register under their host name (no --hostname-override); fix: remove nodeName",
    ]);
    expect(
      problems(
        'name: s\nmasters: [{ host: a, address: 10.1.0.10 }]\nworkers: [{ host: w, address: 10.1.0.20, podSubnet: 10.200.0.0/24 }]\n',
      ),
    ).toEqual([
      "k.yaml:3:53: workers[0].podSubnet: only the kthw layout takes a pod subnet per worker (the seed layout's flannel leases them); fix: remove it, or set layout: kthw",
    ]);
    expect(
      problems('name: s\nlayout: kubeadm\nmasters: [{ host: a, address: 10.1.0.10 }]\nworkers: [{ host: w, address: 10.1.0.20 }]\n'),
    ).toEqual(['k.yaml:2:9: layout: expected "seed" or "kthw", got "kubeadm"']);
  });
});

describe("files where KTHW's chapters put them", () => {
  it('the server: chapter 04/07/08 pairs, chapter 05 kubeconfigs, the encryption config, units, scheduler config, RBAC', () => {
    expect([...files(lab, 'server').entries()].map(([p, f]) => `${p} ${f.mode.toString(8)}`)).toEqual([
      '/var/lib/kubernetes/ca.crt 644',
      '/var/lib/kubernetes/ca.key 600',
      '/var/lib/kubernetes/kube-api-server.crt 644',
      '/var/lib/kubernetes/kube-api-server.key 600',
      '/var/lib/kubernetes/service-accounts.crt 644',
      '/var/lib/kubernetes/service-accounts.key 600',
      '/etc/etcd/ca.crt 644',
      '/etc/etcd/kube-api-server.crt 644',
      '/etc/etcd/kube-api-server.key 600',
      '/var/lib/kubernetes/kube-controller-manager.kubeconfig 600',
      '/var/lib/kubernetes/kube-scheduler.kubeconfig 600',
      '/root/admin.kubeconfig 600',
      '/var/lib/kubernetes/encryption-config.yaml 600',
      '/etc/systemd/system/etcd.service 644',
      '/etc/systemd/system/kube-apiserver.service 644',
      '/etc/systemd/system/kube-controller-manager.service 644',
      '/etc/systemd/system/kube-scheduler.service 644',
      '/etc/kubernetes/config/kube-scheduler.yaml 644',
      '/root/kube-apiserver-to-kubelet.yaml 644',
    ]);
  });

  it('each node: /var/lib/kubelet and /var/lib/kube-proxy, CNI, containerd, units; no flannel, no CoreDNS, no CA key', () => {
    for (const w of cluster.workers) {
      expect([...files(lab, w.host).keys()]).toEqual([
        '/var/lib/kubelet/ca.crt',
        '/var/lib/kubelet/kubelet.crt',
        '/var/lib/kubelet/kubelet.key',
        '/var/lib/kubelet/kubeconfig',
        '/var/lib/kube-proxy/kubeconfig',
        '/etc/cni/net.d/10-bridge.conf',
        '/etc/cni/net.d/99-loopback.conf',
        '/etc/containerd/config.toml',
        '/var/lib/kubelet/kubelet-config.yaml',
        '/var/lib/kube-proxy/kube-proxy-config.yaml',
        '/etc/systemd/system/containerd.service',
        CONTAINERD_DROP_IN,
        '/etc/systemd/system/kubelet.service',
        '/etc/systemd/system/kube-proxy.service',
        '/etc/sysctl.d/kubernetes.conf',
        '/etc/modules-load.d/modules.conf',
      ]);
      expect([...files(verbatim, w.host).keys()]).not.toContain(CONTAINERD_DROP_IN);
    }
  });
});

describe('units', () => {
  it('etcd: plain http on 127.0.0.1 only, member "controller", as KTHW\'s unit says', () => {
    const u = text(lab, 'server', '/etc/systemd/system/etcd.service');
    expect(u).toMatch(/^\[Unit\]\nDescription=etcd\nDocumentation=https:\/\/github.com\/etcd-io\/etcd\n\n\[Service\]\nType=notify\n/);
    expect(execArgs(u)).toEqual([
      '/usr/local/bin/etcd',
      '--name controller',
      '--initial-advertise-peer-urls http://127.0.0.1:2380',
      '--listen-peer-urls http://127.0.0.1:2380',
      '--listen-client-urls http://127.0.0.1:2379',
      '--advertise-client-urls http://127.0.0.1:2379',
      '--initial-cluster-token etcd-cluster-0',
      '--initial-cluster controller=http://127.0.0.1:2380',
      '--initial-cluster-state new',
      '--data-dir=/var/lib/etcd',
    ]);
    expect(u).toMatch(/\nRestart=on-failure\nRestartSec=5\n\n\[Install\]\nWantedBy=multi-user.target\n$/);
  });

  it("kube-apiserver: KTHW's flags; the lab adds --service-cluster-ip-range, --verbatim does not", () => {
    const lab_ = execArgs(text(lab, 'server', '/etc/systemd/system/kube-apiserver.service'));
    const kthw = execArgs(text(verbatim, 'server', '/etc/systemd/system/kube-apiserver.service'));
    expect(kthw).toContain('--etcd-servers=http://127.0.0.1:2379');
    expect(kthw).toContain('--encryption-provider-config=/var/lib/kubernetes/encryption-config.yaml');
    expect(kthw).toContain("--runtime-config='api/all=true'");
    expect(kthw).toContain('--service-account-issuer=https://server.kubernetes.local:6443');
    expect(kthw).toContain('--tls-cert-file=/var/lib/kubernetes/kube-api-server.crt');
    expect(kthw.some((a) => a.startsWith('--service-cluster-ip-range'))).toBe(false);
    expect(kthw.some((a) => /--etcd-(cafile|certfile)|--token-auth-file|--advertise-address/.test(a))).toBe(false);
    expect(lab_.filter((a) => !kthw.includes(a))).toEqual(['--service-cluster-ip-range=10.32.0.0/24']);
  });

  it("controller manager, scheduler, containerd, kubelet, kube-proxy: KTHW's command lines", () => {
    expect(execArgs(text(lab, 'server', '/etc/systemd/system/kube-controller-manager.service'))).toEqual([
      '/usr/local/bin/kube-controller-manager',
      '--bind-address=0.0.0.0',
      '--cluster-cidr=10.200.0.0/16',
      '--cluster-name=kubernetes',
      '--cluster-signing-cert-file=/var/lib/kubernetes/ca.crt',
      '--cluster-signing-key-file=/var/lib/kubernetes/ca.key',
      '--kubeconfig=/var/lib/kubernetes/kube-controller-manager.kubeconfig',
      '--root-ca-file=/var/lib/kubernetes/ca.crt',
      '--service-account-private-key-file=/var/lib/kubernetes/service-accounts.key',
      '--service-cluster-ip-range=10.32.0.0/24',
      '--use-service-account-credentials=true',
      '--v=2',
    ]);
    expect(execArgs(text(lab, 'server', '/etc/systemd/system/kube-scheduler.service'))).toEqual([
      '/usr/local/bin/kube-scheduler',
      '--config=/etc/kubernetes/config/kube-scheduler.yaml',
      '--v=2',
    ]);
    const containerd = text(verbatim, 'node-0', '/etc/systemd/system/containerd.service');
    expect(containerd).toContain(
      'After=network.target\n\n[Service]\nExecStartPre=/sbin/modprobe overlay\nExecStart=/bin/containerd\nRestart=always\n',
    );
    expect(text(lab, 'node-0', '/etc/systemd/system/containerd.service')).toBe(containerd);
    expect(text(lab, 'node-0', CONTAINERD_DROP_IN)).toMatch(/\[Service\]\nExecStartPre=\nExecStartPre=-\/sbin\/modprobe overlay\n$/);
    const kubelet = text(lab, 'node-1', '/etc/systemd/system/kubelet.service');
    expect(kubelet).toContain('After=containerd.service\nRequires=containerd.service\n');
    expect(execArgs(kubelet)).toEqual([
      '/usr/local/bin/kubelet',
      '--config=/var/lib/kubelet/kubelet-config.yaml',
      '--kubeconfig=/var/lib/kubelet/kubeconfig',
      '--v=2',
    ]);
    expect(execArgs(text(lab, 'node-1', '/etc/systemd/system/kube-proxy.service'))).toEqual([
      '/usr/local/bin/kube-proxy',
      '--config=/var/lib/kube-proxy/kube-proxy-config.yaml',
    ]);
  });
});

describe('configs', () => {
  it("kubelet: KTHW's config, no cluster DNS and no cluster domain", () => {
    const k = parseYaml(text(lab, 'node-0', '/var/lib/kubelet/kubelet-config.yaml')) as Record<string, unknown>;
    expect(k).not.toHaveProperty('clusterDNS');
    expect(k).not.toHaveProperty('clusterDomain');
    expect(k).not.toHaveProperty('failCgroupV1'); // 1.34 defaults it to false
    expect(k).toMatchObject({
      authentication: { x509: { clientCAFile: '/var/lib/kubelet/ca.crt' } },
      tlsCertFile: '/var/lib/kubelet/kubelet.crt',
      maxPods: 16,
      cgroupDriver: 'systemd',
    });
  });

  it("the bridge CNI with each node's SUBNET; the loopback; containerd and kube-proxy with the lab's two settings", () => {
    for (const w of cluster.workers) {
      expect(JSON.parse(text(lab, w.host, '/etc/cni/net.d/10-bridge.conf'))).toMatchObject({
        type: 'bridge',
        bridge: 'cni0',
        ipam: { ranges: [[{ subnet: w.podSubnet }]] },
      });
    }
    expect(JSON.parse(text(lab, 'node-0', '/etc/cni/net.d/99-loopback.conf'))).toEqual({
      cniVersion: '1.1.0',
      name: 'lo',
      type: 'loopback',
    });
    expect(text(lab, 'node-0', '/etc/containerd/config.toml')).toContain(
      '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n',
    );
    expect(text(verbatim, 'node-0', '/etc/containerd/config.toml')).not.toContain('restrict_oom_score_adj');
    expect(text(verbatim, 'node-0', '/etc/containerd/config.toml')).not.toContain('sandbox_image');
    expect(parseYaml(text(lab, 'node-0', '/var/lib/kube-proxy/kube-proxy-config.yaml'))).toEqual({
      kind: 'KubeProxyConfiguration',
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig' },
      mode: 'iptables',
      clusterCIDR: '10.200.0.0/16',
      conntrack: { maxPerCore: 0 },
    });
    expect(parseYaml(text(verbatim, 'node-0', '/var/lib/kube-proxy/kube-proxy-config.yaml'))).not.toHaveProperty('conntrack');
  });

  it("the encryption config carries chapter 06's 32-byte key; chapter 08's RBAC binds user kubernetes", () => {
    const e = parseYaml(text(lab, 'server', '/var/lib/kubernetes/encryption-config.yaml')) as {
      resources: { providers: { aescbc?: { keys: { name: string; secret: string }[] } }[] }[];
    };
    const key = e.resources[0]!.providers[0]!.aescbc!.keys[0]!;
    expect(key.name).toBe('key1');
    expect(Buffer.from(key.secret, 'base64')).toHaveLength(32);
    expect(key.secret).toBe(lab.encryptionKey);
    expect(text(lab, 'server', '/root/kube-apiserver-to-kubelet.yaml')).toMatch(
      /name: system:kube-apiserver-to-kubelet[\s\S]*kind: User\n {2}name: kubernetes\n$/,
    );
  });

  it("kubeconfigs as chapter 05's kubectl writes them: cluster kubernetes-the-hard-way, server.kubernetes.local (admin: 127.0.0.1)", () => {
    const kc = (host: string, path: string) =>
      parseYaml(text(lab, host, path)) as {
        clusters: { name: string; cluster: { server: string } }[];
        users: { name: string }[];
        'current-context': string;
      };
    const servers = [
      ['node-0', '/var/lib/kubelet/kubeconfig', 'system:node:node-0', 'https://server.kubernetes.local:6443'],
      ['node-1', '/var/lib/kube-proxy/kubeconfig', 'system:kube-proxy', 'https://server.kubernetes.local:6443'],
      [
        'server',
        '/var/lib/kubernetes/kube-controller-manager.kubeconfig',
        'system:kube-controller-manager',
        'https://server.kubernetes.local:6443',
      ],
      ['server', '/var/lib/kubernetes/kube-scheduler.kubeconfig', 'system:kube-scheduler', 'https://server.kubernetes.local:6443'],
      ['server', '/root/admin.kubeconfig', 'admin', 'https://127.0.0.1:6443'],
    ];
    for (const [host, path, user, server] of servers) {
      const k = kc(host!, path!);
      expect([k.clusters[0]!.name, k.clusters[0]!.cluster.server, k.users[0]!.name, k['current-context']]).toEqual([
        'kubernetes-the-hard-way',
        server,
        user,
        'default',
      ]);
    }
  });
});

describe("certificates from KTHW's ca.conf profiles", () => {
  it("RSA 4096, 3653 days, the CA signed with SHA-512 and leaves with SHA-256, KTHW's subjects and SANs", async () => {
    const cert = (pem: string) => parseCertificates(pem)[0]!;
    const ca = cert(lab.pki.ca.certPem);
    expect(ca.subject).toBe('C=US, ST=Washington, L=Seattle, CN=CA');
    expect((ca.signatureAlgorithm as { hash: { name: string } }).hash.name).toBe('SHA-512');
    const api = cert(lab.pki.certs.get('kube-api-server')!.certPem);
    expect(api.subject).toBe('CN=kubernetes, C=US, ST=Washington, L=Seattle');
    expect((api.publicKey.algorithm as unknown as { modulusLength: number }).modulusLength).toBe(4096);
    expect((api.signatureAlgorithm as { hash: { name: string } }).hash.name).toBe('SHA-256');
    expect(Math.round((api.notAfter.getTime() - api.notBefore.getTime()) / 86_400_000)).toBe(3653);
    expect(api.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => `${n.type}:${n.value}`)).toEqual([
      'ip:127.0.0.1',
      'ip:10.32.0.1',
      'dns:kubernetes',
      'dns:kubernetes.default',
      'dns:kubernetes.default.svc',
      'dns:kubernetes.default.svc.cluster',
      'dns:kubernetes.svc.cluster.local',
      'dns:server.kubernetes.local',
      'dns:api-server.kubernetes.local',
    ]);
    expect(await api.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect(cert(lab.pki.certs.get('kube-scheduler')!.certPem).subject).toBe(
      'CN=system:kube-scheduler, O=system:system:kube-scheduler, C=US, ST=Washington, L=Seattle',
    );
    expect(cert(lab.pki.certs.get('node-1')!.certPem).subject).toBe(
      'CN=system:node:node-1, O=system:nodes, C=US, ST=Washington, L=Seattle',
    );
    expect(lab.pki.certs.get('admin')!.key.pem).toMatch(/^-----BEGIN\u0020PRIVATE KEY-----\n/);
  });

  it('openssl reads them as chapter 04 makes them: usages, Netscape type and comment, key identifiers', () => {
    writeFileSync(join(tmp, 'ca.crt'), lab.pki.ca.certPem);
    writeFileSync(join(tmp, 'node-0.crt'), lab.pki.certs.get('node-0')!.certPem);
    expect(execFileSync('openssl', ['verify', '-CAfile', join(tmp, 'ca.crt'), join(tmp, 'node-0.crt')], { encoding: 'utf8' })).toMatch(
      /: OK/,
    );
    const t = execFileSync('openssl', ['x509', '-in', join(tmp, 'node-0.crt'), '-noout', '-text'], { encoding: 'utf8' });
    expect(t).toMatch(
      /X509v3 Basic Constraints: \n\s+CA:FALSE\n\s+X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, TLS Web Server Authentication\n\s+X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n\s+Netscape Cert Type: \n\s+SSL Client\n\s+Netscape Comment: \n\s+Node-0 Certificate\n\s+X509v3 Subject Alternative Name: \n\s+DNS:node-0, IP Address:127.0.0.1\n\s+X509v3 Subject Key Identifier: \n[\s\S]+X509v3 Authority Key Identifier: /,
    );
  });
});

describe('render --pki: a chapter-04 folder made by openssl, laid out as it is', () => {
  it('puts every certificate and key where KTHW copies them, byte for byte', async () => {
    if (spawnSync('openssl', ['version']).status !== 0) throw new Error('openssl is needed (apt-get install openssl)');
    const dir = join(tmp, 'ch04');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'ca.conf'), caConf(cluster));
    execFileSync('bash', ['-c', chapter04Script(cluster)], { cwd: dir, stdio: 'ignore' });
    const pki = await readChapter04(dir, certPlan(cluster));
    const r = await render(cluster, { pki });
    const same = (host: string, path: string, file: string) => expect(text(r, host, path)).toBe(readFileSync(join(dir, file), 'utf8'));
    same('server', '/var/lib/kubernetes/ca.key', 'ca.key');
    same('server', '/var/lib/kubernetes/kube-api-server.crt', 'kube-api-server.crt');
    same('server', '/etc/etcd/kube-api-server.key', 'kube-api-server.key');
    same('server', '/var/lib/kubernetes/service-accounts.key', 'service-accounts.key');
    for (const w of cluster.workers) {
      same(w.host, '/var/lib/kubelet/ca.crt', 'ca.crt');
      same(w.host, '/var/lib/kubelet/kubelet.crt', `${w.host}.crt`);
      same(w.host, '/var/lib/kubelet/kubelet.key', `${w.host}.key`);
    }
    const kc = parseYaml(text(r, 'node-1', '/var/lib/kube-proxy/kubeconfig')) as { users: { user: Record<string, string> }[] };
    expect(Buffer.from(kc.users[0]!.user['client-certificate-data']!, 'base64').toString()).toBe(
      readFileSync(join(dir, 'kube-proxy.crt'), 'utf8'),
    );
    // openssl and hardway agree on the openssl config written from hardway's profiles.
    const openssl = parseCertificates(readFileSync(join(dir, 'node-0.crt'), 'utf8'))[0]!;
    const ours = parseCertificates(lab.pki.certs.get('node-0')!.certPem)[0]!;
    expect(openssl.subject).toBe(ours.subject);
    expect(openssl.extensions.map((e) => `${e.type}${e.critical ? '!' : ''}`)).toEqual(
      ours.extensions.map((e) => `${e.type}${e.critical ? '!' : ''}`),
    );
    expect(Buffer.from(openssl.publicKey.rawData).equals(publicKeyDerOf(readFileSync(join(dir, 'node-0.key'), 'utf8')))).toBe(true);
  }, 120_000);

  it('verify dir: of that folder laid out by render --layout kthw --pki, without a model: no file missing, Go accepts every credential', () => {
    // What a KTHW user has: chapter 04's openssl output (the test above made it), KTHW's units and
    // files in their folders. No --config: the tree's folders are the hosts, the units the facts.
    const out = join(tmp, 'laid-out');
    const hw = (...args: string[]) =>
      spawnSync(join(REPO, 'bin/hardway'), args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    const r = hw(
      'render',
      '--config',
      join(REPO, 'fixtures/lab-kthw/cluster.yaml'),
      '--layout',
      'kthw',
      '--pki',
      join(tmp, 'ch04'),
      '--out',
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const v = hw('verify', '--target', `dir:${out}`, '--suite', 'certs', '--reporter', 'json');
    const doc = JSON.parse(v.stdout) as {
      suites: { checks: { id: string; host?: string; status: string; findings?: { code: string }[] }[] }[];
    };
    const checks = doc.suites.flatMap((s) => s.checks);
    expect(checks.filter((c) => c.status === 'failed').map((c) => `${c.id}@${c.host}: ${c.findings?.map((f) => f.code)}`)).toEqual([]);
    const present = checks.filter((c) => c.id === 'certs.present');
    expect(present.map((c) => `${c.host}:${c.status}`).sort()).toEqual(['node-0:passed', 'node-1:passed', 'server:passed']);
    expect(checks.filter((c) => c.id === 'certs.chain' && c.status === 'passed').length).toBe(3);
    expect(v.status).toBe(0);
  }, 120_000);

  it('a missing file is one line naming it and what the folder must hold', async () => {
    await expect(readChapter04(join(tmp, 'nowhere'), certPlan(cluster))).rejects.toThrow(
      /nowhere\/ca\.crt: cannot read it \(ENOENT\); a chapter-04 folder holds ca\.crt ca\.key admin\.crt .* service-accounts\.key; fix: /,
    );
  });
});
