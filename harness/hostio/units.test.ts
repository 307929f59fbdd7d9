import { describe, expect, it } from 'vitest';
import { recorded } from '../discovery/parse/testing.ts';
import { oomKillsOf, parseOomKills, tailLines, unitOomEvidence } from './journal.ts';
import { parseRcServiceStatus, parseRcStatus, parseRcUpdateShow } from './openrc-status.ts';
import { parseShowExec, parseSystemctlShow, splitQuotedList } from './systemctl-show.ts';

describe('systemctl show (recorded)', () => {
  it('several units at once, blank-line separated', () => {
    const r = parseSystemctlShow(recorded('systemd/show-node-1.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value.map((u) => u.id)).toEqual([
      'kubelet.service',
      'kube-proxy.service',
      'flanneld.service',
      'coredns.service',
      'containerd.service',
    ]);
    const k = r.value[0]!;
    expect(k).toMatchObject({
      activeState: 'active',
      subState: 'running',
      unitFileState: 'enabled',
      restart: 'on-failure',
      nRestarts: 0,
      result: 'success',
      controlGroup: '/system.slice/kubelet.service',
      fragmentPath: '/etc/systemd/system/kubelet.service',
      dropInPaths: [],
      environment: [],
    });
    expect(k.mainPID).toBeGreaterThan(0);
    expect(k.memoryCurrent).toBeGreaterThan(0);
    expect(k.execStart[0]).toMatchObject({ path: '/usr/local/bin/kubelet', ignoreErrors: false, code: '(null)' });
    expect(k.execStart[0]!.argv).toContain('--hostname-override=node-1');
    expect(r.value.find((u) => u.id === 'containerd.service')!.restart).toBe('always');
    expect(r.value.find((u) => u.id === 'flanneld.service')!.type).toBe('notify');
  });

  it('ExecStartEx= with flags=', () => {
    const r = parseSystemctlShow(recorded('systemd/show-execstartex-node-1.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value[1]!.execStart).toEqual([
      {
        path: '/usr/bin/containerd',
        argv: ['/usr/bin/containerd', '--config=/etc/containerd/config.toml'],
        ignoreErrors: false,
        flags: [],
        pid: 0,
        code: '(null)',
        status: '0/0',
      },
    ]);
    expect(
      parseShowExec(
        '{ path=/bin/x ; argv[]=x -a ; flags=ignore-failure no-env-expand ; start_time=[Mon 2026-12-01 10:00:00 UTC] ; stop_time=[n/a] ; pid=42 ; code=exited ; status=1 }',
      ),
    ).toEqual({
      path: '/bin/x',
      argv: ['x', '-a'],
      ignoreErrors: true,
      flags: ['ignore-failure', 'no-env-expand'],
      pid: 42,
      code: 'exited',
      status: '1',
    });
  });

  it('shell-quoted lists, a failed unit, garbage lines (synthetic)', () => {
    expect(splitQuotedList('A=1 "B=two words" "C=\\"q\\""')).toEqual(['A=1', 'B=two words', 'C="q"']);
    const r = parseSystemctlShow(
      'Id=kube-apiserver.service\nActiveState=failed\nSubState=failed\nResult=oom-kill\nNRestarts=3\nMainPID=0\nExecStart=\nnonsense\n',
    );
    expect(r.value[0]).toMatchObject({ activeState: 'failed', result: 'oom-kill', nRestarts: 3, mainPID: 0, execStart: [] });
    expect(r.problems).toEqual([{ file: 'systemctl show', line: 8, message: 'not Key=value: nonsense' }]);
    expect(unitOomEvidence(r.value[0]!)).toEqual({ oomKilled: true, restarts: 3 });
  });
});

describe('OpenRC status output (synthetic: the lab has no OpenRC host)', () => {
  it('rc-service status, with colour codes', () => {
    expect(parseRcServiceStatus(' \x1b[32;01m*\x1b[0m status: started\n')).toBe('started');
    expect(parseRcServiceStatus(' * status: crashed\n')).toBe('crashed');
    expect(parseRcServiceStatus("rc-service: service `kubelet' does not exist\n")).toBeUndefined();
  });

  it('rc-status with supervise-daemon uptime and respawns', () => {
    const r = parseRcStatus(
      'Runlevel: default\n kubelet                 [  started 01:02:03 (2) ]\n containerd              [  started  ]\n flanneld                [  stopped  ]\nDynamic Runlevel: hotplugged\nDynamic Runlevel: needed/wanted\n sysfs                   [  started  ]\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual([
      { service: 'kubelet', runlevel: 'default', state: 'started', uptime: '01:02:03', respawns: 2 },
      { service: 'containerd', runlevel: 'default', state: 'started' },
      { service: 'flanneld', runlevel: 'default', state: 'stopped' },
      { service: 'sysfs', runlevel: 'needed/wanted', state: 'started' },
    ]);
  });

  it('rc-update show [-v]', () => {
    expect(parseRcUpdateShow('          containerd | default\n             kubelet | default boot\n              sshd |\n').value).toEqual({
      containerd: ['default'],
      kubelet: ['default', 'boot'],
      sshd: [],
    });
  });
});

describe('journal tails and OOM evidence', () => {
  it('tails the recorded kubelet journal to its last lines, cut to a width', () => {
    const t = tailLines(recorded('journal/kubelet-tail.node-1.txt'), 3, 80);
    expect(t).toHaveLength(3);
    expect(t.every((l) => l.length <= 80)).toBe(true);
    expect(tailLines('\n\n a \n\n')).toEqual([' a']);
  });

  it("finds no OOM kill in the lab's recorded kernel log", () => {
    expect(parseOomKills(recorded('journal/kernel.node-1.txt'))).toEqual([]);
  });

  it('merges the kernel\'s "Killed process" and "oom-kill:" lines of one kill (synthetic)', () => {
    const log = [
      'Dec 01 10:00:01 master kernel: kube-apiserver invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
      'Dec 01 10:00:01 master kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/kube-apiserver.service,task_memcg=/system.slice/kube-apiserver.service,task=kube-apiserver,pid=531,uid=0',
      'Dec 01 10:00:01 master kernel: Memory cgroup out of memory: Killed process 531 (kube-apiserver) total-vm:1893220kB, anon-rss:512000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1400kB oom_score_adj:0',
      '[86400.123456] Out of memory: Killed process 915 (etcd) total-vm:11000000kB, anon-rss:900000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2000kB oom_score_adj:-999',
    ].join('\n');
    const kills = parseOomKills(log);
    expect(kills.map(({ line: _l, ...k }) => k)).toEqual([
      {
        pid: 531,
        process: 'kube-apiserver',
        scope: 'cgroup',
        taskCgroup: '/system.slice/kube-apiserver.service',
        anonRssBytes: 512000 * 1024,
      },
      { pid: 915, process: 'etcd', scope: 'global', anonRssBytes: 900000 * 1024 },
    ]);
    expect(oomKillsOf(kills, { cgroup: '/system.slice/kube-apiserver.service' }).map((k) => k.pid)).toEqual([531]);
    expect(oomKillsOf(kills, { cgroup: '/system.slice/etcd.service', processName: 'etcd' }).map((k) => k.pid)).toEqual([915]);
  });
});
