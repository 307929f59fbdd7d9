import { describe, expect, it } from 'vitest';
import { selectCniConfig, parseCniConfig } from './cni.ts';
import { parseContainerdConfig } from './containerd-config.ts';
import { flannelOptions, parseFlannelNetConf, parseSubnetEnv } from './flannel.ts';
import { parseFlags, withEnvironmentFlags } from './flags.ts';
import { parseSystemctlCat, resolveExecStart } from './systemd-unit.ts';
import { recorded } from './testing.ts';

describe('containerd config', () => {
  it("reads the lab's version 2 config.toml", () => {
    const r = parseContainerdConfig(recorded('containerd/config.toml.node-1'), '/etc/containerd/config.toml');
    expect(r.problems).toEqual([]);
    expect(r.value).toMatchObject({
      version: 2,
      sandboxImage: 'hardway.local/pause:1.0',
      snapshotter: 'overlayfs',
      systemdCgroup: true,
      cniBinDirs: ['/opt/cni/bin'],
      cniConfDir: '/etc/cni/net.d',
      enableTlsStreaming: false,
      restrictOomScoreAdj: true,
      grpcAddress: '/run/containerd/containerd.sock',
      defaultRuntime: 'runc',
    });
    expect(r.value!.source.grpcAddress).toBe('default');
    expect(r.value!.source.sandboxImage).toBe('file');
  });

  it('reads `containerd config dump` to the same values, with every field from the file', () => {
    const dump = parseContainerdConfig(recorded('containerd/config-dump.node-1.toml'), 'containerd config dump');
    const file = parseContainerdConfig(recorded('containerd/config.toml.node-1'), 'config.toml');
    expect(dump.problems).toEqual([]);
    const pick = (v: typeof dump.value) => ({ ...v!, source: undefined, raw: undefined, imports: undefined });
    expect(pick(dump.value)).toEqual(pick(file.value));
    expect(Object.values(dump.value!.source).every((s) => s === 'file')).toBe(true);
    expect(dump.value!.imports).toEqual(['/etc/containerd/config.toml']);
  });

  it('reads version 3 (containerd 2.x) and flags version 2 sections in it', () => {
    const v3 = `version = 3
[grpc]
  address = '/run/containerd/containerd.sock'
[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = 'registry.k8s.io/pause:3.10'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      SystemdCgroup = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/opt/cni/bin', '/usr/lib/cni']
    conf_dir = '/etc/cni/net.d'
[plugins.'io.containerd.grpc.v1.cri']
  enable_tls_streaming = true
`;
    const r = parseContainerdConfig(v3, 'config.toml');
    expect(r.problems).toEqual([]);
    expect(r.value).toMatchObject({
      version: 3,
      sandboxImage: 'registry.k8s.io/pause:3.10',
      systemdCgroup: true,
      cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
      enableTlsStreaming: true,
      restrictOomScoreAdj: true,
    });
    const mixed = parseContainerdConfig(
      `version = 3\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "x"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n`,
      'config.toml',
    );
    expect(mixed.value).toMatchObject({ sandboxImage: 'registry.k8s.io/pause:3.10', systemdCgroup: false });
    expect(mixed.problems).toHaveLength(2);
  });

  it('an unparseable file is a problem with its line, and defaults apply to an empty one', () => {
    const bad = parseContainerdConfig('version = 2\n[plugins\nx = 1\n', 'config.toml');
    expect(bad.value).toBeUndefined();
    expect(bad.problems).toEqual([{ file: 'config.toml', line: 2, message: expect.stringContaining('not valid TOML') }]);
    expect(parseContainerdConfig('', 'config.toml').value).toMatchObject({
      version: 1,
      systemdCgroup: false,
      sandboxImage: 'registry.k8s.io/pause:3.8',
    });
  });
});

describe('CNI configs', () => {
  const lab = {
    '/etc/cni/net.d/10-flannel.conflist': recorded('cni/10-flannel.conflist.node-1'),
    '/etc/cni/net.d/99-loopback.conf': recorded('cni/99-loopback.conf.node-1'),
  };

  it("the lab: flannel's conflist is first and is used", () => {
    const r = selectCniConfig(lab);
    expect(r.problems).toEqual([]);
    expect(r.value.containerd).toMatchObject({ name: 'cbr0', types: ['flannel', 'portmap'], isList: true });
    expect(r.value.containerd!.plugins[0]!.delegate).toEqual({ hairpinMode: true, isDefaultGateway: true });
    expect(r.value.files.map((f) => f.path)).toEqual(['/etc/cni/net.d/10-flannel.conflist', '/etc/cni/net.d/99-loopback.conf']);
  });

  it('KTHW-shaped bridge conf: bridge name, ranges and routes', () => {
    const bridge = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'bridge',
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.200.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
    });
    const r = parseCniConfig(bridge, '/etc/cni/net.d/10-bridge.conf');
    expect(r.problems).toEqual([]);
    expect(r.value!.plugins[0]).toMatchObject({
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipam: { type: 'host-local', subnets: ['10.200.0.0/24'], routes: [{ dst: '0.0.0.0/0' }] },
    });
  });

  it('containerd takes the first file even when it is invalid; others skip to the first valid', () => {
    const r = selectCniConfig({
      ...lab,
      '/etc/cni/net.d/05-broken.conflist': '{"name":"x","plugins":[]}',
      '/etc/cni/net.d/README': 'not a config',
    });
    expect(r.value.containerd).toBeUndefined();
    expect(r.value.firstValid?.name).toBe('cbr0');
    expect(r.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('empty list'),
      expect.stringContaining('containerd does not fall back'),
    ]);
    expect(selectCniConfig({}).problems[0]!.message).toContain('no network config');
    expect(parseCniConfig(recorded('cni/10-flannel.conflist.node-1'), '/etc/cni/net.d/10-flannel.conf').problems[0]!.message).toContain(
      'a plugin list in a file not named *.conflist',
    );
  });
});

describe('flannel', () => {
  it("options from the lab's unit, with flannel's defaults for the rest", () => {
    const argv = resolveExecStart(parseSystemctlCat(recorded('systemd/cat-flanneld.node-1.txt')).value).value!.argv;
    const o = flannelOptions(parseFlags(argv).value);
    expect(o).toEqual({
      etcdEndpoints: ['https://10.240.0.10:2379'],
      etcdPrefix: '/coreos.com/network',
      etcdCAFile: '/var/lib/kubernetes/ca.pem',
      etcdCertFile: '/var/lib/kubernetes/kubernetes.pem',
      etcdKeyFile: '/var/lib/kubernetes/kubernetes-key.pem',
      kubeSubnetMgr: false,
      iface: ['10.240.0.21'],
      ifaceRegex: [],
      publicIP: '10.240.0.21',
      healthzIP: '127.0.0.1',
      healthzPort: 5678,
      subnetFile: '/run/flannel/subnet.env',
      netConfPath: '/etc/kube-flannel/net-conf.json',
      ipMasq: true,
    });
    const env = withEnvironmentFlags(parseFlags(['/usr/bin/flanneld', '--kube-subnet-mgr']).value, { FLANNELD_IFACE: 'eth1' }).value;
    expect(flannelOptions(env)).toMatchObject({
      kubeSubnetMgr: true,
      iface: ['eth1'],
      healthzPort: 0,
      etcdEndpoints: ['http://127.0.0.1:4001', 'http://127.0.0.1:2379'],
    });
  });

  it('net-conf.json and subnet.env of the lab', () => {
    const n = parseFlannelNetConf(recorded('flannel/net-conf.master.json'), 'net-conf.json');
    expect(n.problems).toEqual([]);
    expect(n.value).toMatchObject({
      Network: '10.200.0.0/16',
      SubnetLen: 24,
      Backend: { Type: 'vxlan', VNI: 1, Port: 8472 },
      vxlanDevice: 'flannel.1',
      vxlanPort: 8472,
    });
    const s = parseSubnetEnv(recorded('flannel/subnet.env.node-1'), '/run/flannel/subnet.env');
    expect(s).toEqual({ value: { network: '10.200.0.0/16', subnet: '10.200.85.1/24', mtu: 1450, ipMasq: true }, problems: [] });
  });

  it("flannel's defaults and Go's case-insensitive fields", () => {
    expect(parseFlannelNetConf('{"network":"10.5.0.0/23","backend":{"type":"vxlan","vni":4}}', 'x').value).toMatchObject({
      Network: '10.5.0.0/23',
      SubnetLen: 25,
      Backend: { Type: 'vxlan', VNI: 4 },
      vxlanDevice: 'flannel.4',
      vxlanPort: 8472,
    });
    expect(parseFlannelNetConf('{"Network":"10.1.0.0/16"}', 'x').value!.Backend.Type).toBe('udp');
    expect(parseFlannelNetConf('{"Network": 10', 'x').problems[0]!.message).toContain('not JSON');
    expect(parseFlannelNetConf('{"SubnetLen":24}', 'x').problems.map((p) => p.message)).toEqual([expect.stringContaining('no Network')]);
  });
});
