import { describe, expect, it } from 'vitest';
import { execStatus } from './pod-exec.ts';

// Status frames as the kubelet writes them at the end of an exec (kubectl exec shows the same:
// "command terminated with exit code 1").
describe('execStatus', () => {
  it('a command that exited 0', () => {
    expect(execStatus({ metadata: {}, status: 'Success' })).toEqual({ ok: true, ran: true, exitCode: 0, status: 'Success' });
  });

  it('a command that ran and failed carries its exit code', () => {
    const r = execStatus({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [ping -c 2 10.200.2.5], exit code 1',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '1' }] },
    });
    expect(r).toMatchObject({ ok: false, ran: true, exitCode: 1 });
  });

  it('a command that could not start did not run', () => {
    const r = execStatus({
      metadata: {},
      status: 'Failure',
      message:
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH',
      reason: 'InternalError',
    });
    expect(r).toMatchObject({ ok: false, ran: false });
    expect(r.status).toMatch(/executable file not found/);
  });
});
