import { describe, expect, it } from 'vitest';
import { parseFlags } from './flags.ts';
import { kubeProxyEffective, parseKubeProxyConfig } from './kube-proxy-config.ts';
import { kubeSchedulerEffective, parseKubeSchedulerConfig } from './kube-scheduler-config.ts';
import { kubeletEffective, parseKubeletConfig } from './kubelet-config.ts';
import { parseKubeconfig } from './kubeconfig.ts';
import { parseSystemctlCat, resolveExecStart } from './systemd-unit.ts';
import { recorded } from './testing.ts';

const flagsOf = (file: string) => parseFlags(resolveExecStart(parseSystemctlCat(recorded(file)).value).value!.argv).value;

describe('KubeletConfiguration', () => {
  it("reads the lab's file and merges the kubelet's flags over it", () => {
    const file = '/var/lib/kubernetes/kubelet/kubelet-config.yaml';
    const c = parseKubeletConfig(recorded('config/kubelet-config.node-1.yaml'), file);
    expect(c.problems).toEqual([]);
    expect(c.value).toMatchObject({
      clusterDomain: 'cluster.local',
      clusterDNS: ['10.240.0.21', '10.240.0.22'],
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      clientCAFile: '/var/lib/kubernetes/ca.pem',
      anonymousAuth: false,
      webhookAuthn: true,
      authorizationMode: 'Webhook',
      cgroupDriver: 'systemd',
      tlsCertFile: '/var/lib/kubernetes/kubelet/node-1.pem',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    });
    const flags = flagsOf('systemd/cat-kubelet.node-1.txt');
    const e = kubeletEffective(flags, c.value);
    expect(e.problems).toEqual([]);
    expect(e.value).toMatchObject({
      configFile: file,
      kubeconfig: '/var/lib/kubernetes/kubelet/node-1.kubeconfig',
      hostnameOverride: 'node-1',
      nodeIP: '10.240.0.21',
      port: 10250,
      readOnlyPort: 0,
      address: '0.0.0.0',
    });
    expect(e.value.source.clusterDomain).toBe(`file ${file}`);
    expect(e.value.source.port).toBe('default');
  });

  it('command-line flags override the file; without --config the legacy defaults apply', () => {
    const c = parseKubeletConfig(
      'kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nclusterDomain: a.local\nclusterDNS: [10.32.0.10]\nauthorization:\n  mode: Webhook\n',
      'k.yaml',
    ).value;
    const flags = parseFlags([
      '/usr/local/bin/kubelet',
      '--config=k.yaml',
      '--cluster-domain',
      'b.local',
      '--cluster-dns=10.0.0.10,10.0.0.11',
      '--anonymous-auth',
      '--port=10260',
    ]).value;
    const e = kubeletEffective(flags, c).value;
    expect(e).toMatchObject({
      clusterDomain: 'b.local',
      clusterDNS: ['10.0.0.10', '10.0.0.11'],
      anonymousAuth: true,
      port: 10260,
      authorizationMode: 'Webhook',
    });
    expect(e.source.clusterDomain).toBe('flag --cluster-domain');
    const legacy = kubeletEffective(parseFlags(['kubelet', '--kubeconfig=/k']).value, undefined).value;
    expect(legacy).toMatchObject({ anonymousAuth: true, webhookAuthn: false, authorizationMode: 'AlwaysAllow', readOnlyPort: 10255 });
    expect(kubeletEffective(parseFlags(['kubelet', '--config=/gone.yaml']).value, undefined).problems.map((p) => p.message)).toEqual([
      expect.stringContaining('could not be read'),
    ]);
  });

  it('a field of the wrong type and broken YAML are problems with lines', () => {
    const bad = parseKubeletConfig(
      'kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nport: "10250"\nclusterDNS: 10.32.0.10\n',
      'k.yaml',
    );
    expect(bad.problems.map((p) => [p.line, p.message.split(' ')[0]]).sort()).toEqual([
      [3, 'port'],
      [4, 'clusterDNS'],
    ]);
    expect(bad.value.port).toBeUndefined();
    const broken = parseKubeletConfig('kind: KubeletConfiguration\n  port: [\n', 'k.yaml');
    expect(broken.problems[0]).toMatchObject({
      file: 'k.yaml',
      line: expect.any(Number),
      message: expect.stringContaining('not valid YAML'),
    });
    expect(
      parseKubeletConfig('kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\n', 'k.yaml').problems.map(
        (p) => p.message,
      ),
    ).toEqual([
      'kind is KubeProxyConfiguration, expected KubeletConfiguration',
      expect.stringContaining('apiVersion kubeproxy.config.k8s.io/v1alpha1 is not one'),
    ]);
  });
});

describe('KubeProxyConfiguration', () => {
  it("reads the lab's file; --config makes kube-proxy ignore other flags but --hostname-override", () => {
    const c = parseKubeProxyConfig(recorded('config/kube-proxy-config.node-1.yaml'), 'kp.yaml');
    expect(c.problems).toEqual([]);
    expect(c.value).toMatchObject({
      kubeconfig: '/var/lib/kubernetes/kube-proxy/kube-proxy.kubeconfig',
      mode: 'iptables',
      clusterCIDR: '10.200.0.0/16',
      hostnameOverride: 'node-1',
      healthzBindAddress: '0.0.0.0:10256',
    });
    const e = kubeProxyEffective(flagsOf('systemd/cat-kube-proxy.node-1.txt'), c.value).value;
    expect(e).toMatchObject({
      mode: 'iptables',
      healthzBindAddress: '0.0.0.0:10256',
      metricsBindAddress: '127.0.0.1:10249',
      ignoredFlags: [],
    });
    const over = kubeProxyEffective(
      parseFlags(['kube-proxy', '--config=kp.yaml', '--cluster-cidr=10.9.0.0/16', '--hostname-override=Node-A', '--v=2']).value,
      { raw: {}, healthzBindAddress: '127.0.0.1' },
    ).value;
    expect(over).toMatchObject({ hostnameOverride: 'node-a', healthzBindAddress: '127.0.0.1:10256', ignoredFlags: ['cluster-cidr'] });
    expect(over.clusterCIDR).toBeUndefined();
  });

  it('without --config: the flags and their defaults', () => {
    const e = kubeProxyEffective(
      parseFlags(['kube-proxy', '--kubeconfig=/k', '--cluster-cidr=10.200.0.0/16', '--healthz-bind-address=::1']).value,
      undefined,
    ).value;
    expect(e).toMatchObject({ kubeconfig: '/k', clusterCIDR: '10.200.0.0/16', healthzBindAddress: '[::1]:10256', mode: 'iptables' });
  });
});

describe('KubeSchedulerConfiguration', () => {
  it("reads the lab's file; --leader-elect still applies over it, --kubeconfig does not", () => {
    const c = parseKubeSchedulerConfig(recorded('config/kube-scheduler.master.yaml'), 'ks.yaml');
    expect(c.problems).toEqual([]);
    expect(c.value).toMatchObject({ kubeconfig: '/var/lib/kubernetes/kube-scheduler/kube-scheduler.kubeconfig', leaderElect: true });
    const e = kubeSchedulerEffective(flagsOf('systemd/cat-kube-scheduler.master.txt'), c.value).value;
    expect(e).toMatchObject({
      kubeconfig: c.value.kubeconfig,
      leaderElect: true,
      leaseNamespace: 'kube-system',
      leaseName: 'kube-scheduler',
      securePort: 10259,
    });
    const o = kubeSchedulerEffective(
      parseFlags(['kube-scheduler', '--config=ks.yaml', '--kubeconfig=/other', '--leader-elect=false']).value,
      c.value,
    ).value;
    expect(o).toMatchObject({ kubeconfig: c.value.kubeconfig, leaderElect: false, ignoredFlags: ['kubeconfig'] });
  });
});

// Synthetic kubeconfig (made up here: the lab's embed keys and are never recorded).
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: default
clusters:
- name: kubernetes-the-hard-way
  cluster:
    certificate-authority-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64')}
    server: https://server.kubernetes.local:6443
- name: other
  cluster:
    certificate-authority: /var/lib/kubernetes/ca.crt
    server: https://10.0.0.1:6443
contexts:
- name: default
  context: { cluster: kubernetes-the-hard-way, user: system:node:node-0 }
- name: alt
  context: { cluster: other, user: file-user }
users:
- name: system:node:node-0
  user:
    client-certificate-data: ${Buffer.from('cert').toString('base64')}
    client-key-data: c2VjcmV0
- name: file-user
  user:
    client-certificate: /var/lib/kubelet/kubelet.crt
    token: not-a-real-token
`;

describe('kubeconfig', () => {
  it('follows current-context, says what is embedded without carrying keys or tokens', () => {
    const r = parseKubeconfig(KUBECONFIG, '/var/lib/kubelet/kubeconfig');
    expect(r.problems).toEqual([]);
    expect(r.value).toMatchObject({
      contextName: 'default',
      server: 'https://server.kubernetes.local:6443',
      userName: 'system:node:node-0',
      clientCertEmbedded: true,
      clientKeyEmbedded: true,
      tokenEmbedded: false,
    });
    expect(r.value.caPem).toContain('BEGIN CERTIFICATE');
    expect(JSON.stringify(r.value)).not.toContain('c2VjcmV0');
    const alt = parseKubeconfig(KUBECONFIG, 'k', { context: 'alt' });
    expect(alt.value).toMatchObject({
      server: 'https://10.0.0.1:6443',
      caFile: '/var/lib/kubernetes/ca.crt',
      clientCertFile: '/var/lib/kubelet/kubelet.crt',
      tokenEmbedded: true,
    });
    expect(JSON.stringify(alt.value)).not.toContain('not-a-real-token');
    expect(alt.problems.map((p) => p.message)).toEqual([expect.stringContaining('client certificate without a key')]);
    expect(parseKubeconfig(KUBECONFIG, 'k', { context: 'nope' }).problems.map((p) => p.message)).toEqual([
      'context nope is not in contexts:',
    ]);
  });
});
