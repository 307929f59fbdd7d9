// Runs a command in a pod through the apiserver (kubectl exec in code) and returns its exit
// status and output; used by checks that look at the network from inside a pod.
import { Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { traceExec } from '../report/exec-trace.ts';
import { type Kube, apiError } from './kube.ts';

export interface PodExecResult {
  /** The command ran and exited 0. */
  ok: boolean;
  /** The command ran in the pod (whatever its exit code). False when the exec itself failed: the
   * apiserver could not reach the kubelet, the pod or container is gone; or no answer in time
   * (then whether it ran is not known). A check must not read either as what the command saw. */
  ran: boolean;
  /** The command's exit code, when it ran. */
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** The apiserver's status message for a non-zero exit or a failed call. */
  status: string;
}

/** What the exec's closing status frame says (the kubelet writes it after the command ends). */
export function execStatus(s: V1Status): Pick<PodExecResult, 'ok' | 'ran' | 'exitCode' | 'status'> {
  const status = s.message ?? s.status ?? '';
  if (s.status === 'Success') return { ok: true, ran: true, exitCode: 0, status };
  if (s.reason === 'NonZeroExitCode') {
    const code = Number(s.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
    return { ok: false, ran: true, ...(Number.isInteger(code) ? { exitCode: code } : {}), status };
  }
  return { ok: false, ran: false, status };
}

/** Why a check cannot read what `r` (an exec that did not run) would have seen in `pod`. */
export const execFailed = (pod: string, r: PodExecResult): string => `the exec into ${pod} failed (${r.status})`;

export async function podExec(k: Kube, ns: string, pod: string, argv: string[], timeoutMs = 20_000): Promise<PodExecResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _e, cb) {
        append(chunk.toString());
        cb();
      },
    });
  const startedAt = Date.now();
  return new Promise<PodExecResult>((resolve) => {
    let settled = false;
    // The exec's websocket: closed when the call ends (on a timeout it would stay open).
    let ws: { close(): void } | undefined;
    const finish = (r: Pick<PodExecResult, 'ok' | 'ran' | 'exitCode' | 'status'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setTimeout(() => ws?.close(), 50);
      // The status frame can arrive before the last output frame: give it a moment.
      setTimeout(() => {
        traceExec(`pod ${ns}/${pod}`, startedAt, argv.join(' '), {
          ran: r.ran,
          ...(r.exitCode !== undefined ? { code: r.exitCode } : {}),
          outBytes: Buffer.byteLength(stdout),
        });
        resolve({ ...r, stdout, stderr });
      }, 50);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          ran: false,
          status: `the exec did not finish within ${timeoutMs / 1000} s (whether the command ran is not known)`,
        }),
      timeoutMs,
    );
    k.exec
      .exec(
        ns,
        pod,
        'main',
        argv,
        sink((s) => (stdout += s)),
        sink((s) => (stderr += s)),
        null,
        false,
        (s) => finish(execStatus(s)),
      )
      .then((socket) => {
        ws = socket;
        if (settled) setTimeout(() => socket.close(), 50);
      })
      .catch((e: unknown) => finish({ ok: false, ran: false, status: e instanceof Error ? e.message : apiError(e) }));
  });
}
