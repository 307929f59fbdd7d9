// The OpenRC script parser against OpenRC itself, on the lab's OpenRC worker: a distribution-style
// script (conf.d variables, ${RC_SVCNAME}, defaults, quotes, continued lines) is installed and
// started by real openrc-run under supervise-daemon; what the parser says it runs must be the
// argv of the process OpenRC started. Removed afterwards.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadCluster } from '../../model/load.ts';
import { readLabState } from '../../providers/lab/lab.ts';
import { SshSession } from '../../ssh/session.ts';
import { parseOpenrcService } from './openrc.ts';

const cluster = loadCluster(inject('labConfig'));
const worker = cluster.workers.find((w) => w.init === 'openrc');
const NAME = 'hardway-probe-svc';

const INIT = `#!/sbin/openrc-run
# A distribution-style script: its arguments come from /etc/conf.d/${NAME}.
description="hardway's parser probe"
: \${probe_mode:=default-mode}
command="/bin/sh"
command_args="-c 'while :; do sleep 60; done' \${RC_SVCNAME} \${PROBE_ARGS} \\
	--mode=\${probe_mode} \\"sp ace\\""
supervisor=supervise-daemon
respawn_delay=2
output_log="/var/log/\${RC_SVCNAME}.log"

depend() { use net; }
`;
const CONFD = `# conf.d: the operator's settings
PROBE_ARGS="--node-ip=10.240.0.22 --flag"
probe_mode="from-confd"
`;

describe.runIf(worker)('the OpenRC script parser against real openrc-run', () => {
  let s: SshSession;
  beforeAll(async () => {
    s = await SshSession.connect(readLabState(cluster.name)!.hosts.find((h) => h.name === worker!.host)!.ssh);
    await s.writeFile(`/etc/init.d/${NAME}`, INIT, 0o755);
    await s.writeFile(`/etc/conf.d/${NAME}`, CONFD, 0o644);
  });
  afterAll(async () => {
    await s.exec(`rc-service ${NAME} stop; rm -f /etc/init.d/${NAME} /etc/conf.d/${NAME} /var/log/${NAME}.log`);
    s.close();
  });

  it('gives the argv of the process OpenRC started (conf.d, ${RC_SVCNAME}, quotes, continued lines)', async () => {
    const started = await s.exec(`rc-service ${NAME} start`);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    // supervise-daemon forks the daemon: its child is the process whose argv OpenRC computed.
    const r = await s.exec(
      `for i in $(seq 50); do p=$(pgrep -P "$(pgrep -f '^supervise-daemon ${NAME} ' | head -n1)" | head -n1); [ -n "$p" ] && break; sleep 0.1; done; tr '\\0' '\\n' < /proc/$p/cmdline`,
    );
    const real = r.stdout.replace(/\n$/, '').split('\n');
    const parsed = parseOpenrcService({ path: `/etc/init.d/${NAME}`, text: INIT }, { path: `/etc/conf.d/${NAME}`, text: CONFD });
    expect(parsed.problems).toEqual([]);
    expect(real).toEqual([
      '/bin/sh',
      '-c',
      'while :; do sleep 60; done',
      NAME,
      '--node-ip=10.240.0.22',
      '--flag',
      '--mode=from-confd',
      'sp ace',
    ]);
    expect(parsed.value.argv).toEqual(real);
    expect(parsed.value.outputLog).toBe(`/var/log/${NAME}.log`);
    expect(parsed.value.respawn).toBe(true);
  });
});
