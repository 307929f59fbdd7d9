// A target is a cluster to verify: its model plus a way to look at each host. Suites only use this
// interface, so the same checks run against a rendered folder, the lab, or real hosts over SSH.
import type { Cluster } from '../model/cluster.ts';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostAccess {
  readonly host: string;
  /** File contents, or undefined when the file does not exist. */
  readFile(path: string): Promise<string | undefined>;
  /** Regular files below `dir`, recursively, as absolute paths on the host ([] if `dir` is missing). */
  listFiles(dir: string): Promise<string[]>;
  /** Runs a shell command on the host; absent on offline targets (a rendered folder). */
  exec?(command: string, opts?: { timeoutMs?: number; stdin?: string }): Promise<ExecResult>;
}

export interface Target {
  /** As given on the command line: "dir:/path", "lab", "prod". */
  readonly name: string;
  readonly cluster: Cluster;
  /** True when hosts can run commands (live hosts), false for offline trees. */
  readonly live: boolean;
  /** True when hardway created the hosts (the lab): only then may faults be injected. */
  readonly ownedByHardway: boolean;
  host(name: string): HostAccess;
  /** An admin kubeconfig the target's owner supplies; otherwise checks read the master's. */
  kubeconfig?(): Promise<string | undefined>;
  /** The apiserver's static debugging token as recorded at install (or from a secret store):
   * the apiserver suite proves this token still works, not merely whatever token.csv holds now. */
  apiserverToken?(): Promise<string | undefined>;
  /** Security findings the target's owner keeps deliberately (the inventory's `accept:`): the
   * security suite reports them as warnings instead of failures. */
  readonly accepted?: readonly string[];
  /** Public names the cluster serves (the inventory's `domains:`). */
  readonly domains?: readonly string[];
  /** Connects to every host once, before any check runs: a wrong address, user, key or host key
   * is then one line per host (bad input, exit code 2) instead of a failed check per host. */
  preflight?(): Promise<void>;
  close(): Promise<void>;
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}
