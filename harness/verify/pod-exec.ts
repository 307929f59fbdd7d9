// Runs a command in a pod through the apiserver (kubectl exec in code) and returns its exit
// status and output; used by checks that look at the network from inside a pod.
import { Writable } from 'node:stream';
import { type Kube, apiError } from './kube.ts';

export interface PodExecResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** The apiserver's status message for a non-zero exit or a failed call. */
  status: string;
}

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
  return new Promise<PodExecResult>((resolve) => {
    let settled = false;
    // The exec's websocket: closed when the call ends (on a timeout it would stay open).
    let ws: { close(): void } | undefined;
    const finish = (ok: boolean, status: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      setTimeout(() => ws?.close(), 50);
      // The status frame can arrive before the last output frame: give it a moment.
      setTimeout(() => resolve({ ok, stdout, stderr, status }), 50);
    };
    const timer = setTimeout(() => finish(false, `no answer within ${timeoutMs / 1000} s`), timeoutMs);
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
        (s) => finish(s.status === 'Success', s.message ?? s.status ?? ''),
      )
      .then((socket) => {
        ws = socket;
        if (settled) setTimeout(() => socket.close(), 50);
      })
      .catch((e: unknown) => finish(false, e instanceof Error ? e.message : apiError(e)));
  });
}
