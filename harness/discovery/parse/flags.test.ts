import { describe, expect, it } from 'vitest';
import { FLAG_TABLES } from './flag-tables.ts';
import { identifyComponent, parseFlags, withEnvironmentFlags } from './flags.ts';
import { parsePflagHelp, tableFromPflagHelp } from './pflag-help.ts';
import { parseSystemctlCat, resolveExecStart } from './systemd-unit.ts';
import { recorded } from './testing.ts';

const argvOf = (file: string) => resolveExecStart(parseSystemctlCat(recorded(file)).value).value!.argv;

describe("flag tables against the binaries' recorded --help (v1.34.4)", () => {
  for (const b of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const) {
    it(`${b}: the no-value flags are exactly those --help shows without a value`, () => {
      const help = tableFromPflagHelp(recorded(`help/${b}.txt`));
      expect([...FLAG_TABLES[b].noValue].sort()).toEqual([...help.noValue].sort());
      expect(FLAG_TABLES[b].shorthands).toEqual(help.shorthands);
    });
  }

  it('reads pflag usage lines: bools, typed flags, NoOptDefVal', () => {
    const f = parsePflagHelp(recorded('help/kube-apiserver.txt'));
    expect(f.find((x) => x.name === 'allow-privileged')).toEqual({ name: 'allow-privileged', noValue: 'true' });
    expect(f.find((x) => x.name === 'etcd-servers')).toEqual({ name: 'etcd-servers', type: 'strings' });
    expect(f.find((x) => x.name === 'version')).toEqual({ name: 'version', type: 'version', noValue: 'true' });
    expect(f.find((x) => x.name === 'v')).toEqual({ name: 'v', shorthand: 'v', type: 'Level' });
    expect(f.find((x) => x.name === 'vmodule')?.type).toBe('pattern=N,...');
  });
});

describe('components by their binary', () => {
  it('names the component from argv[0] whatever the path', () => {
    expect(identifyComponent(['/usr/bin/etcd'])).toBe('etcd');
    expect(identifyComponent(['/opt/etcd-v3.5.16/etcd', '--name', 'x'])).toBe('etcd');
    expect(identifyComponent(['kubelet'])).toBe('kubelet');
    expect(identifyComponent(['/usr/local/bin/flanneld'])).toBe('flanneld');
    expect(identifyComponent(['/opt/bin/flannel'])).toBe('flanneld');
    expect(identifyComponent(['/usr/local/bin/hyperkube', 'kube-proxy'])).toBe('kube-proxy');
    expect(identifyComponent(['/usr/sbin/sshd'])).toBeUndefined();
  });
});

describe('flags of the recorded lab units', () => {
  it('kube-apiserver: --name=value, comma lists, repeated flags', () => {
    const f = parseFlags(argvOf('systemd/cat-kube-apiserver.master.txt'));
    expect(f.problems).toEqual([]);
    expect(f.value.component).toBe('kube-apiserver');
    expect(f.value.list('authorization-mode')).toEqual(['Node', 'RBAC']);
    expect(f.value.get('secure-port') ?? '6443').toBe('6443');
    expect(f.value.bool('allow-privileged')).toBe(true);
    expect(f.value.get('etcd-servers')).toBe('https://10.240.0.10:2379');
    expect(f.value.positional).toEqual([]);
  });

  it('etcd: bare booleans do not eat the next flag', () => {
    const f = parseFlags(argvOf('systemd/cat-etcd.master.txt'));
    expect(f.problems).toEqual([]);
    expect(f.value.bool('client-cert-auth')).toBe(true);
    expect(f.value.bool('peer-client-cert-auth')).toBe(true);
    expect(f.value.get('initial-advertise-peer-urls')).toBe('https://10.240.0.10:2380');
    expect(f.value.list('listen-client-urls')).toEqual(['https://10.240.0.10:2379', 'https://127.0.0.1:2379']);
  });

  it('flanneld: single-dash long flags and a final bare bool', () => {
    const f = parseFlags(argvOf('systemd/cat-flanneld.node-1.txt'));
    expect(f.problems).toEqual([]);
    expect(f.value.get('etcd-endpoints')).toBe('https://10.240.0.10:2379');
    expect(f.value.all('iface')).toEqual(['10.240.0.21']);
    expect(f.value.bool('ip-masq')).toBe(true);
  });

  it('coredns: "-conf FILE" as two words', () => {
    const f = parseFlags(argvOf('systemd/cat-coredns.node-1.txt'));
    expect(f.value.get('conf')).toBe('/etc/coredns/Corefile');
  });

  it('containerd: --config and its -c shorthand, subcommands as positional', () => {
    expect(parseFlags(argvOf('systemd/cat-containerd.node-1.txt')).value.get('config')).toBe('/etc/containerd/config.toml');
    const dump = parseFlags(['/usr/bin/containerd', '-c', '/etc/containerd/alt.toml', 'config', 'dump']);
    expect(dump.value.get('config')).toBe('/etc/containerd/alt.toml');
    expect(dump.value.positional).toEqual(['config', 'dump']);
    expect(dump.problems).toEqual([]);
  });
});

describe('flag syntax (synthetic)', () => {
  it('pflag: "--name value", bools followed by flags, -v shorthand, "--" and repeats', () => {
    const f = parseFlags([
      '/usr/local/bin/kube-apiserver',
      '--allow-privileged',
      '--service-account-key-file',
      '/a.pem',
      '--service-account-key-file=/b.pem',
      '--anonymous-auth=false',
      '-v',
      '2',
      '--profiling',
      'extra',
      '--',
      '--not-a-flag',
    ]);
    expect(f.problems).toEqual([]);
    expect(f.value.all('service-account-key-file')).toEqual(['/a.pem', '/b.pem']);
    expect(f.value.bool('allow-privileged')).toBe(true);
    expect(f.value.bool('anonymous-auth')).toBe(false);
    expect(f.value.get('v')).toBe('2');
    expect(f.value.positional).toEqual(['extra', '--not-a-flag']);
  });

  it('pflag: a value-taking flag last on the line is a problem; an unknown single dash too', () => {
    expect(parseFlags(['kubelet', '--config']).problems.map((p) => p.message)).toEqual([expect.stringContaining('needs a value')]);
    expect(parseFlags(['kubelet', '-config=/x']).problems.map((p) => p.message)).toEqual([
      expect.stringContaining('unknown shorthand flag -config=/x'),
    ]);
  });

  it('Go flag: -name and --name alike, stops at the first positional, knows the whole flag set', () => {
    const f = parseFlags(['etcd', '-name', 'controller', '--data-dir', '/var/lib/etcd', '-client-cert-auth=false', 'stray', '--name=late']);
    expect(f.value.get('name')).toBe('controller');
    expect(f.value.bool('client-cert-auth')).toBe(false);
    expect(f.value.positional).toEqual(['stray', '--name=late']);
    expect(f.problems.map((p) => p.message)).toEqual([expect.stringContaining('etcd refuses to start: "is not a valid flag"')]);
    expect(parseFlags(['etcd', '--listen-client-url=x']).problems.map((p) => p.message)).toEqual([
      expect.stringContaining('etcd has no flag --listen-client-url'),
    ]);
  });

  it('etcd reads ETCD_* behind the command line and refuses a conflict', () => {
    const f = parseFlags(['/usr/bin/etcd', '--name=m1']).value;
    const ok = withEnvironmentFlags(f, {
      ETCD_DATA_DIR: '/srv/etcd',
      ETCD_LISTEN_CLIENT_URLS: 'https://10.0.0.1:2379',
      ETCD_UNSAFE_NO_FSYNC: '',
      ETCDCTL_API: '3',
      PATH: '/bin',
    });
    expect(ok.problems).toEqual([]);
    expect(ok.value.get('data-dir')).toBe('/srv/etcd');
    expect(ok.value.get('listen-client-urls')).toBe('https://10.0.0.1:2379');
    expect(ok.value.has('unsafe-no-fsync')).toBe(false);
    const bad = withEnvironmentFlags(f, { ETCD_NAME: 'm2', ETCD_LISTEN_CLIENT_URL: 'x', ETCD_CONFIG_FILE: '/etc/etcd/etcd.yaml' });
    const msgs = bad.problems.map((p) => p.message);
    expect(msgs).toHaveLength(3);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringContaining('etcd reads its configuration from /etc/etcd/etcd.yaml: every other flag and ETCD_* variable is ignored'),
        expect.stringContaining('ETCD_LISTEN_CLIENT_URL matches no etcd flag'),
        expect.stringContaining('ETCD_NAME is set and --name is on the command line: etcd refuses to start'),
      ]),
    );
    expect(bad.value.get('name')).toBe('m1');
  });

  it('flanneld reads FLANNELD_* where the command line is silent', () => {
    const f = parseFlags(['/usr/local/bin/flanneld', '-iface=eth1']).value;
    const r = withEnvironmentFlags(f, { FLANNELD_IFACE: 'eth9', FLANNELD_ETCD_PREFIX: '/x/network', FLANNELD_KUBE_SUBNET_MGR: 'true' });
    expect(r.value.all('iface')).toEqual(['eth1']);
    expect(r.value.get('etcd-prefix')).toBe('/x/network');
    expect(r.value.bool('kube-subnet-mgr')).toBe(true);
  });
});
