// A batch's judgement becomes each member's verdict (pure logic; the lab test runs real batches).
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../verify/check.ts';
import { loadCluster } from '../model/load.ts';
import { type Fault, rolesOf } from './fault.ts';
import { judge, verdicts } from './run.ts';

const roles = rolesOf(loadCluster('fixtures/lab/cluster.yaml'));
const fault = (id: string, host: string, check: string): Fault => ({
  id,
  title: id,
  on: 'lab',
  expect: () => [{ check, host, codes: ['x'] }],
  inject: async () => undefined,
});
const failed = (id: string, host: string): CheckResult => ({
  id,
  title: id,
  status: 'failed',
  host,
  examined: 1,
  findings: [{ code: 'x', subject: host, message: 'broken', fix: 'repair it', severity: 'error' }],
});
const passed = (id: string, host: string): CheckResult => ({ id, title: id, status: 'passed', host, examined: 1 });

const batch = [fault('a', 'node-1', 'hosts.sysctl'), fault('b', 'node-2', 'hosts.sysctl')];
const expected = batch.flatMap((f) => f.expect(roles));
const noErrors = () => new Map(batch.map((f) => [f.id, [] as string[]]));

describe('batch verdicts', () => {
  it('an exact union: every member caught, no reasons, each with its own failed checks and its batch', () => {
    const judged = judge(expected, [], [failed('hosts.sysctl', 'node-1'), failed('hosts.sysctl', 'node-2')]);
    const v = verdicts(batch, roles, judged, noErrors(), 9000, { run: 2000 });
    expect(v.map((r) => [r.id, r.caught, r.reasons, r.failed, r.batch])).toEqual([
      ['a', true, [], ['hosts.sysctl@node-1'], ['b']],
      ['b', true, [], ['hosts.sysctl@node-2'], ['a']],
    ]);
  });

  it('one expectation missing: no member caught, the reason on every member', () => {
    const judged = judge(expected, [], [failed('hosts.sysctl', 'node-1'), passed('hosts.sysctl', 'node-2')]);
    const v = verdicts(batch, roles, judged, noErrors(), 9000, undefined);
    expect(v.map((r) => r.caught)).toEqual([false, false]);
    expect(v[0]!.reasons).toEqual(['expected to fail but did not: hosts.sysctl@node-2']);
  });

  it("one member's injection failed: it says why, the other names it", () => {
    const errors = noErrors();
    errors.get('a')!.push('sysctl: permission denied');
    const v = verdicts(batch, roles, { failed: [], reasons: [] }, errors, 9000, undefined);
    expect(v.map((r) => [r.caught, r.reasons])).toEqual([
      [false, ['sysctl: permission denied']],
      [false, ['not judged: a: sysctl: permission denied']],
    ]);
  });

  it('an unexpected failure names its first finding', () => {
    const judged = judge(
      expected,
      [],
      [failed('hosts.sysctl', 'node-1'), failed('hosts.sysctl', 'node-2'), failed('hosts.listening', 'master')],
    );
    expect(judged.reasons).toEqual(['failed but not expected: hosts.listening@master [x] (master: broken)']);
  });
});
