// OpenRC's real output, recorded on the lab's node-2 (sysvinit + OpenRC 0.56, supervise-daemon):
// fixtures/recorded/openrc/. The oracle for the script parser is OpenRC itself: the argv
// supervise-daemon was given, and the running process's /proc/<pid>/cmdline.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRcServiceStatus, parseRcStatus, parseRcUpdateShow } from '../../hostio/openrc-status.ts';
import { parseOpenrcService } from './openrc.ts';

const DIR = join(import.meta.dirname, '../../../fixtures/recorded/openrc');
const rec = (f: string) => readFileSync(join(DIR, f), 'utf8');
const SERVICES = ['containerd', 'flanneld', 'kubelet', 'kube-proxy', 'coredns'];

describe('OpenRC service scripts as OpenRC ran them (node-2)', () => {
  for (const name of SERVICES) {
    it(`${name}: the parsed argv is the running process's cmdline`, () => {
      const svc = parseOpenrcService({ path: `/etc/init.d/${name}`, text: rec(`init.d-${name}.node-2.txt`) });
      expect(svc.problems).toEqual([]);
      const cmdline = rec(`cmdline-${name}.node-2.txt`).replace(/\n$/, '').split('\n');
      expect(svc.value.argv).toEqual(cmdline);
      expect(svc.value.supervisor).toBe('supervise-daemon');
      expect(svc.value.respawn).toBe(true);
    });
  }

  it("the parsed argv is what supervise-daemon was told to run (its own command line, after '--')", () => {
    const lines = rec('ps-supervise-daemon.node-2.txt').trim().split('\n');
    expect(lines).toHaveLength(SERVICES.length);
    for (const line of lines) {
      // supervise-daemon <name> --start ... <command> -- <args...>
      const [, name, rest] = /^supervise-daemon (\S+) --start (.*)$/.exec(line)!;
      const svc = parseOpenrcService({ path: `/etc/init.d/${name}`, text: rec(`init.d-${name}.node-2.txt`) });
      const [opts, args] = rest!.split(' -- ');
      const command = opts!.split(' ').at(-1);
      expect([command, ...(args ? args.split(' ') : [])], name).toEqual(svc.value.argv);
      expect(opts, name).toContain(`--stdout ${svc.value.outputLog}`);
    }
  });
});

describe("OpenRC's status commands (node-2)", () => {
  it('rc-status default: every service with its state, uptime and respawn count', () => {
    const r = parseRcStatus(rec('rc-status-default.node-2.txt'));
    expect(r.problems).toEqual([]);
    const byName = new Map(r.value.map((e) => [e.service, e]));
    for (const s of SERVICES) {
      expect(byName.get(s)?.state, s).toBe('started');
      expect(byName.get(s)?.respawns, s).toBe(0);
      expect(byName.get(s)?.uptime, s).toMatch(/^\d\d:\d\d:\d\d$/);
    }
    expect(byName.get('ssh')).toEqual({ service: 'ssh', runlevel: 'default', state: 'started' });
  });

  it("rc-status default after a script changed: OpenRC's dependency-cache message is not a service", () => {
    const r = parseRcStatus(rec('rc-status-default-deptree-stale.node-2.txt'));
    expect(r.problems).toEqual([]);
    expect(r.value.filter((e) => SERVICES.includes(e.service)).map((e) => e.state)).toEqual(SERVICES.map(() => 'started'));
  });

  it('rc-status default with kube-proxy stopped, and rc-service status', () => {
    const text = rec('rc-status-default-kube-proxy-stopped.node-2.txt');
    const [table, status] = [text.slice(0, text.lastIndexOf(' * status:')), text.slice(text.lastIndexOf(' * status:'))];
    const r = parseRcStatus(table);
    expect(r.problems).toEqual([]);
    expect(r.value.find((e) => e.service === 'kube-proxy')?.state).toBe('stopped');
    expect(r.value.find((e) => e.service === 'kubelet')?.state).toBe('started');
    expect(parseRcServiceStatus(status)).toBe('stopped');
    expect(parseRcServiceStatus(rec('rc-service-kubelet-status.node-2.txt'))).toBe('started');
  });

  it('rc-update show -v: the services added to default, and the ones in no runlevel', () => {
    const r = parseRcUpdateShow(rec('rc-update-show-v.node-2.txt'));
    expect(r.problems).toEqual([]);
    for (const s of SERVICES) expect(r.value[s], s).toEqual(['default']);
    expect(r.value.agetty).toEqual([]);
    expect(r.value.bootlogs).toEqual(['default', 'recovery']);
  });
});
