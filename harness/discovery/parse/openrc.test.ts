import { describe, expect, it } from 'vitest';
import { parseOpenrcService } from './openrc.ts';
import { parseFlags } from './flags.ts';

// OpenRC scripts as hardway renders them for OpenRC hosts (harness/render/init.ts) and as
// distributions write them; written here (the lab has no OpenRC host).
const HARDWAY_STYLE = `#!/sbin/openrc-run
description="Kubernetes Kubelet"
command="/usr/local/bin/kubelet"
command_args="--config=/var/lib/kubernetes/kubelet/kubelet-config.yaml --kubeconfig=/var/lib/kubernetes/kubelet/node-2.kubeconfig 'sp ace'"
supervisor=supervise-daemon
respawn_delay=5
respawn_max=0
output_log="/var/log/kubelet.log"
error_log="/var/log/kubelet.log"

depend() {
    need net containerd
    after containerd
}
`;

const DISTRO_STYLE = `#!/sbin/openrc-run
# Copyright: a distribution-style kubelet script
name="Kubelet"
description="Kubernetes node agent"

: \${command_user:=root}
command="/usr/bin/\${RC_SVCNAME}"
command_args="\${command_args:-\${KUBELET_ARGS}} \\
	--node-ip=\${NODE_IP}"
command_args_background="--log-file=/var/log/\${RC_SVCNAME}.log"
pidfile="\${pidfile:-/run/\${RC_SVCNAME}.pid}"
: \${output_log:=/var/log/\${RC_SVCNAME}/\${RC_SVCNAME}.log}
command_background=true
export GODEBUG=x509sha1=1

depend() { need net; }

start_pre() {
	checkpath -d -m 0755 /var/log/\${RC_SVCNAME}
	if [ -z "$NODE_IP" ]; then
		eerror "NODE_IP not set"
	fi
}
`;

describe('OpenRC init scripts', () => {
  it("hardway's own shape: command_args re-read as words, supervise-daemon restarts", () => {
    const r = parseOpenrcService({ path: '/etc/init.d/kubelet', text: HARDWAY_STYLE });
    expect(r.problems).toEqual([]);
    expect(r.value).toMatchObject({
      name: 'kubelet',
      command: '/usr/local/bin/kubelet',
      supervisor: 'supervise-daemon',
      respawn: true,
      outputLog: '/var/log/kubelet.log',
      customStart: false,
    });
    expect(r.value.argv).toEqual([
      '/usr/local/bin/kubelet',
      '--config=/var/lib/kubernetes/kubelet/kubelet-config.yaml',
      '--kubeconfig=/var/lib/kubernetes/kubelet/node-2.kubeconfig',
      'sp ace',
    ]);
    expect(parseFlags(r.value.argv).value.get('kubeconfig')).toBe('/var/lib/kubernetes/kubelet/node-2.kubeconfig');
  });

  it("a distribution's shape with conf.d: defaults, multi-line args, RC_SVCNAME, start-stop-daemon extras", () => {
    const confd = {
      path: '/etc/conf.d/kubelet',
      text: '# kubelet options\nKUBELET_ARGS="--config=/etc/kubernetes/kubelet.yaml --v=2"\nNODE_IP=10.0.0.12\noutput_log=/var/log/kubelet.out\n',
    };
    const r = parseOpenrcService({ path: '/etc/init.d/kubelet', text: DISTRO_STYLE }, confd);
    expect(r.value.argv).toEqual([
      '/usr/bin/kubelet',
      '--config=/etc/kubernetes/kubelet.yaml',
      '--v=2',
      '--node-ip=10.0.0.12',
      '--log-file=/var/log/kubelet.log',
    ]);
    expect(r.value).toMatchObject({ pidfile: '/run/kubelet.pid', outputLog: '/var/log/kubelet.out', respawn: false, customStart: false });
    expect(r.value.vars.command_user).toBe('root');
    expect(r.problems.map((p) => p.message)).toEqual([]);
  });

  it('conf.d cannot override a plain assignment in the script (it is read first): said so', () => {
    const r = parseOpenrcService(
      { path: '/etc/init.d/kubelet', text: HARDWAY_STYLE },
      { path: '/etc/conf.d/kubelet', text: 'command_args="--v=9"\nsupervisor=\n' },
    );
    expect(r.value.argv.slice(1, 2)).toEqual(['--config=/var/lib/kubernetes/kubelet/kubelet-config.yaml']);
    expect(r.problems.map((p) => p.message)).toEqual([
      '/etc/conf.d/kubelet sets command_args, but /etc/init.d/kubelet assigns it again and wins (conf.d is read first)',
      '/etc/conf.d/kubelet sets supervisor, but /etc/init.d/kubelet assigns it again and wins (conf.d is read first)',
    ]);
  });

  it('a custom start(), command substitution and control flow are reported, not guessed', () => {
    const text =
      '#!/sbin/openrc-run\ncommand=/usr/bin/etcd\ncommand_args="--name=$(hostname)"\nif [ -f /etc/etcd.env ]; then\n  command_args="--x"\nfi\nstart() {\n  ebegin "Starting"\n}\n';
    const r = parseOpenrcService({ path: '/etc/init.d/etcd', text });
    expect(r.value.argv).toEqual(['/usr/bin/etcd', '--name=']);
    expect(r.value.customStart).toBe(true);
    expect(r.problems.map((p) => p.message.split(':')[0])).toEqual([
      'command substitution $(...) is not evaluated',
      '"if [ -f /etc/etcd.env ]"',
      'the script defines its own start()',
    ]);
    expect(parseOpenrcService({ path: '/etc/init.d/x', text: 'echo hi\n' }).problems.map((p) => p.message)).toEqual([
      'no "#!/sbin/openrc-run" line: not an OpenRC service script',
      '"echo hi" is not evaluated',
      'no command= and no start(): OpenRC has nothing to start',
    ]);
  });
});
