import { describe, expect, it } from 'vitest';
import { parseEnvFile } from './env-file.ts';
import {
  dropInOrder,
  parseService,
  parseSystemctlCat,
  parseUnitText,
  resolveExecStart,
  serviceFromShow,
  splitSystemctlCat,
} from './systemd-unit.ts';
import { expandArgv, splitWords } from './systemd-words.ts';
import { parseSystemctlShow } from '../../hostio/systemctl-show.ts';
import { recorded } from './testing.ts';

describe('systemctl cat (recorded on the lab)', () => {
  it("reads kube-apiserver's continued ExecStart into its argv", () => {
    const r = parseSystemctlCat(recorded('systemd/cat-kube-apiserver.master.txt'), { unitName: 'kube-apiserver.service' });
    expect(r.problems).toEqual([]);
    const cmd = resolveExecStart(r.value).value!;
    expect(cmd.path).toBe('/usr/local/bin/kube-apiserver');
    expect(cmd.argv[0]).toBe('/usr/local/bin/kube-apiserver');
    expect(cmd.argv).toContain('--authorization-mode=Node,RBAC');
    expect(cmd.argv).toContain('--token-auth-file=/var/lib/kubernetes/token.csv');
    expect(cmd.argv.every((a) => !a.includes('\\') && a.trim() === a && a !== '')).toBe(true);
    expect(r.value.restart).toBe('on-failure');
    expect(r.value.files).toEqual(['/etc/systemd/system/kube-apiserver.service']);
  });

  it('reads etcd (Type=notify, bare boolean flags)', () => {
    const r = parseSystemctlCat(recorded('systemd/cat-etcd.master.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value.type).toBe('notify');
    const argv = resolveExecStart(r.value).value!.argv;
    expect(argv.slice(0, 3)).toEqual(['/usr/bin/etcd', '--name=master', '--cert-file=/var/lib/kubernetes/kubernetes.pem']);
    expect(argv).toContain('--client-cert-auth');
    expect(argv).toHaveLength(18);
  });

  it('reads coredns, whose -conf value is on its own continued line', () => {
    const argv = resolveExecStart(parseSystemctlCat(recorded('systemd/cat-coredns.node-1.txt')).value).value!.argv;
    expect(argv).toEqual(['/usr/local/bin/coredns', '-conf', '/etc/coredns/Corefile']);
  });

  it('applies a drop-in that resets ExecStartPre= and reads the optional EnvironmentFile', () => {
    const out = recorded('systemd/cat-ssh-dropin.master.txt');
    const files = splitSystemctlCat(out).value;
    expect(files.map((f) => f.path)).toEqual([
      '/usr/lib/systemd/system/ssh.service',
      '/etc/systemd/system/ssh.service.d/hardway-hostkeys.conf',
    ]);
    const r = parseService(files, { unitName: 'ssh.service' });
    expect(r.problems).toEqual([]);
    expect(r.value.execStartPre.map((c) => c.argv)).toEqual([
      ['/usr/bin/ssh-keygen', '-A'],
      ['/usr/sbin/sshd', '-t'],
    ]);
    expect(r.value.environmentFiles).toEqual([expect.objectContaining({ path: '/etc/default/ssh', optional: true })]);
    // /etc/default/ssh absent: optional, so no problem; $SSHD_OPTS unset expands to no word.
    const missing = resolveExecStart(r.value, {});
    expect(missing.value!.argv).toEqual(['/usr/sbin/sshd', '-D']);
    expect(missing.problems.map((p) => p.message)).toEqual([expect.stringContaining('$SSHD_OPTS')]);
    const withFile = resolveExecStart(r.value, { '/etc/default/ssh': '# options\nSSHD_OPTS="-o \'LogLevel VERBOSE\' -p 2222"\n' });
    expect(withFile.value!.argv).toEqual(['/usr/sbin/sshd', '-D', '-o', 'LogLevel VERBOSE', '-p', '2222']);
    expect(withFile.value!.envFilesRead).toEqual(['/etc/default/ssh']);
  });
});

describe('systemctl show (recorded) agrees with systemctl cat', () => {
  it('gives the same argv for every master unit', () => {
    const shows = parseSystemctlShow(recorded('systemd/show-master.txt'));
    expect(shows.problems).toEqual([]);
    for (const u of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const show = shows.value.find((s) => s.id === `${u}.service`)!;
      const fromShow = resolveExecStart(serviceFromShow(show)).value!.argv;
      const fromCat = resolveExecStart(parseSystemctlCat(recorded(`systemd/cat-${u}.master.txt`)).value).value!.argv;
      expect(fromShow).toEqual(fromCat);
    }
  });

  it("keeps ssh's EnvironmentFiles= and drop-in path", () => {
    const ssh = parseSystemctlShow(recorded('systemd/show-master.txt')).value.find((s) => s.id === 'ssh.service')!;
    expect(ssh.environmentFiles).toEqual([{ path: '/etc/default/ssh', optional: true }]);
    expect(ssh.dropInPaths).toEqual(['/etc/systemd/system/ssh.service.d/hardway-hostkeys.conf']);
    expect(serviceFromShow(ssh).execStart[0]!.argv).toEqual(['/usr/sbin/sshd', '-D', '$SSHD_OPTS']);
  });
});

// KTHW-shaped units (its units use "--flag value" and a bare ExecStart=/bin/containerd); written here,
// not copied.
const KTHW_ETCD = `[Unit]
Description=etcd

[Service]
Type=notify
ExecStart=/usr/local/bin/etcd \\
  --name controller \\
  --initial-cluster-state new \\
  --data-dir=/var/lib/etcd
Restart=on-failure
`;

describe('unit syntax (synthetic shapes)', () => {
  it('keeps "--flag value" pairs as separate words', () => {
    const argv = resolveExecStart(parseService([{ path: '/etc/systemd/system/etcd.service', text: KTHW_ETCD }]).value).value!.argv;
    expect(argv).toEqual(['/usr/local/bin/etcd', '--name', 'controller', '--initial-cluster-state', 'new', '--data-dir=/var/lib/etcd']);
  });

  it('replaces ExecStart= through a drop-in that resets it, and refuses two without a reset', () => {
    const base = {
      path: '/etc/systemd/system/kubelet.service',
      text: '[Service]\nExecStartPre=/sbin/modprobe overlay\nExecStart=/usr/local/bin/kubelet --v=2\n',
    };
    const reset = {
      path: '/etc/systemd/system/kubelet.service.d/10-args.conf',
      text: '[Service]\nExecStart=\nExecStart=/usr/local/bin/kubelet --v=4 --node-ip=10.0.0.5\n',
    };
    const r = parseService([base, reset]);
    expect(r.problems).toEqual([]);
    expect(r.value.execStart.map((c) => c.argv)).toEqual([['/usr/local/bin/kubelet', '--v=4', '--node-ip=10.0.0.5']]);
    expect(r.value.execStartPre[0]!.argv).toEqual(['/sbin/modprobe', 'overlay']);
    const noReset = parseService([base, { ...reset, text: '[Service]\nExecStart=/usr/local/bin/kubelet --v=4\n' }]);
    expect(noReset.problems).toEqual([
      expect.objectContaining({ file: reset.path, line: 2, message: expect.stringContaining('2 ExecStart= commands with Type=simple') }),
    ]);
  });

  it('reads prefixes, quoting, C escapes, specifiers and "${VAR}" inside a word', () => {
    const text = `[Service]
Environment="NODE=node 1" DOMAIN=cluster.local
Environment=ARGS='--a=1 --b="two words"'
# a comment
ExecStart=-@/usr/local/bin/kubelet kubelet --hostname-override=\${NODE} \\
# a comment inside the continuation is skipped
  "--cluster-domain=\${DOMAIN}" --x=$DOMAIN $ARGS --tab=a\\tb --unit=%n --pct=100%% --dollar=$$HOME
`;
    const r = parseService([{ path: '/etc/systemd/system/kubelet.service', text }], { unitName: 'kubelet.service' });
    expect(r.problems).toEqual([]);
    const c = r.value.execStart[0]!;
    expect(c).toMatchObject({ path: '/usr/local/bin/kubelet', ignoreFailure: true, argv0Given: true, line: 5 });
    expect(resolveExecStart(r.value).value!.argv).toEqual([
      'kubelet',
      '--hostname-override=node 1',
      '--cluster-domain=cluster.local',
      '--x=$DOMAIN',
      '--a=1',
      '--b=two words',
      '--tab=a\tb',
      '--unit=kubelet.service',
      '--pct=100%',
      '--dollar=$HOME',
    ]);
  });

  it('takes EnvironmentFile= over Environment=, in order, and fails on a missing required file', () => {
    const text =
      '[Service]\nEnvironment=V=2 EXTRA=\nEnvironmentFile=/etc/default/kubelet\nEnvironmentFile=-/etc/default/missing\nEnvironmentFile=/etc/kubelet.d/*.env\nExecStart=/usr/local/bin/kubelet --v=${V} $KUBELET_ARGS $EXTRA\n';
    const unit = parseService([{ path: '/etc/systemd/system/kubelet.service', text }]).value;
    const ok = resolveExecStart(unit, {
      '/etc/default/kubelet': 'V=3\nKUBELET_ARGS=--node-ip=10.0.0.5 \\\n  --max-pods=50\n',
      '/etc/kubelet.d/b.env': 'V=5\n',
      '/etc/kubelet.d/a.env': 'V=4\n',
    });
    expect(ok.problems).toEqual([]);
    expect(ok.value!.argv).toEqual(['/usr/local/bin/kubelet', '--v=5', '--node-ip=10.0.0.5', '--max-pods=50']);
    expect(ok.value!.envFilesRead).toEqual(['/etc/default/kubelet', '/etc/kubelet.d/a.env', '/etc/kubelet.d/b.env']);
    const bad = resolveExecStart(unit, {});
    expect(bad.problems.map((p) => p.message)).toContainEqual(
      expect.stringContaining('EnvironmentFile=/etc/default/kubelet does not exist'),
    );
  });

  it('reports lines systemd ignores, never throws', () => {
    const r = parseUnitText({
      path: '/x.service',
      text: 'ExecStart=/bin/true\n[Service]\nnot an assignment\nExecStart="/bin/unbalanced\n',
    });
    expect(r.problems.map((p) => [p.line, p.message.split(':')[0]])).toEqual([
      [1, 'assignment outside any section'],
      [3, 'missing "=", systemd ignores the line'],
    ]);
    const s = parseService([{ path: '/x.service', text: '[Service]\nExecStart=relative/path --x\n' }]);
    expect(s.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('neither absolute nor a plain name'),
      expect.stringContaining('no ExecStart='),
    ]);
    expect(splitWords('"/bin/unbalanced').errors).toEqual([expect.stringContaining('unbalanced quoting')]);
  });

  it('orders drop-ins by file name, /etc hiding /usr/lib', () => {
    expect(
      dropInOrder([
        '/usr/lib/systemd/system/kubelet.service.d/10-a.conf',
        '/etc/systemd/system/kubelet.service.d/20-b.conf',
        '/etc/systemd/system/kubelet.service.d/10-a.conf',
        '/run/systemd/system/kubelet.service.d/05-c.conf',
      ]),
    ).toEqual([
      '/run/systemd/system/kubelet.service.d/05-c.conf',
      '/etc/systemd/system/kubelet.service.d/10-a.conf',
      '/etc/systemd/system/kubelet.service.d/20-b.conf',
    ]);
  });

  it('expands a bare $VAR into words and ${VAR:-default}', () => {
    const env = new Map([
      ['A', 'x "y z"'],
      ['E', ''],
    ]);
    expect(expandArgv(['$A', '${E:-d}', '${A:+set}', '$UNSET', '${UNSET}'], env)).toEqual({
      argv: ['x', 'y z', 'd', 'set', ''],
      unset: ['UNSET'],
    });
  });
});

describe('EnvironmentFile= format', () => {
  it("reads systemd's quoting and comment rules", () => {
    const r = parseEnvFile(
      '# c\n; c\nA=1\n  B = two words  \nC="q \\"x\\" \\n"\nD=\'lit $x\'\nexport E=1\nF\nG=a\\\nb\n',
      '/etc/default/x',
    );
    expect(r.value.map((a) => [a.name, a.value])).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'q "x" \\n'],
      ['D', 'lit $x'],
      ['G', 'ab'],
    ]);
    expect(r.problems.map((p) => p.line)).toEqual([7, 8]);
  });
});
