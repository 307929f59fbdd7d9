import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePingSweep, pingSweepScript } from './ping-sweep.ts';

describe('ping sweep', () => {
  it('refuses what is not an address (the script is run by a shell)', () => {
    expect(() => pingSweepScript(['10.200.1.2; rm -rf /'])).toThrow(/not an IP address/);
  });

  it('reads each target, in any order, and leaves an unnamed one unknown', () => {
    // Recorded from the script in a toolbox pod on the lab's node-1 (busybox sh), pinging node-2's
    // pod subnet gateway and an address of that subnet no pod has; the same lines came from node-1's
    // own /bin/sh (dash). Lines come as the pings end.
    const out = '10.200.63.1 ok\n10.200.63.250 fail\n';
    const r = parsePingSweep(out, ['10.200.63.250', '10.200.63.1', '10.200.63.9']);
    expect([...r]).toEqual([
      ['10.200.63.250', 'fail'],
      ['10.200.63.1', 'ok'],
      ['10.200.63.9', 'unknown'],
    ]);
  });

  it('runs in a real POSIX shell, a line per target whether its ping succeeds or fails', () => {
    // `true` and `false` stand in for ping (no traffic, and CI machines may lack ping).
    const script = pingSweepScript(['127.0.0.1']);
    const out = execFileSync('sh', ['-c', script.replaceAll('ping ', 'true ')], { encoding: 'utf8' });
    expect(parsePingSweep(out, ['127.0.0.1']).get('127.0.0.1')).toBe('ok');
    const failing = execFileSync('sh', ['-c', script.replaceAll('ping ', 'false ')], { encoding: 'utf8' });
    expect(parsePingSweep(failing, ['127.0.0.1']).get('127.0.0.1')).toBe('fail');
  });
});
