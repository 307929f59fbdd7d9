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
  /** Copies a local file to the host (live targets). */
  upload?(localPath: string, remotePath: string, mode?: number): Promise<void>;
  /** A local port whose connections reach host:port as this host sees it (live targets); closed
   * with the target. */
  tunnel?(host: string, port: number): Promise<number>;
}

export interface Target {
  /** As given on the command line: "dir:/path", "lab", "prod". */
  readonly name: string;
  /** The cluster model: the one given (an inventory's cluster:, --config, the lab's), or, when
   * `modelGiven` is false, what discovery found (set by verify once it has read the hosts). */
  cluster: Cluster;
  readonly modelGiven: boolean;
  /** The rendering hardway installed this cluster from (the lab's), for the drift suite. */
  readonly renderedDir?: string;
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
  /** Images the cluster can pull for hardway's test workloads (the inventory's `images:`);
   * absent: hardway brings its own to every worker. */
  readonly images?: { toolbox: string; demoApp: string };
  /** A name outside the cluster its DNS must resolve (the inventory's `probeName:`). */
  readonly probeName?: string;
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
