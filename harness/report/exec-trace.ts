// Every command hardway runs on a host (SSH) or in a pod (an exec through the apiserver), when
// and for how long, appended as a JSON line to the file $HARDWAY_TRACE names: to audit what a
// read-only run ran on a live cluster, and to see where a run's time goes (docs/lab.md,
// "Where a verification's time goes"). The command is redacted; its stdin and output are never
// written, only the output's length.
import { appendFileSync } from 'node:fs';
import { redact } from './redact.ts';

export interface TracedExec {
  /** The host's name, or "pod <namespace>/<name>". */
  where: string;
  at: string;
  ms: number;
  /** The command's exit code (in a pod: when its exec ran). */
  code?: number;
  /** Pods: whether the command ran (the exec's status; false when the exec itself failed). */
  ran?: boolean;
  outBytes?: number;
  command: string;
}

/** Appends one command to the trace, when $HARDWAY_TRACE names a file; a trace never fails a run. */
export function traceExec(
  where: string,
  startedAt: number,
  command: string,
  result: { code?: number; ran?: boolean; outBytes?: number },
): void {
  const file = process.env.HARDWAY_TRACE;
  if (!file) return;
  const line: TracedExec = {
    where,
    at: new Date(startedAt).toISOString(),
    ms: Date.now() - startedAt,
    ...result,
    command: redact(command).slice(0, 500),
  };
  try {
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  } catch {
    /* a trace that cannot be written is not the run's failure */
  }
}
