// A fault: one thing an operator can break on a seed-style cluster, how to break it on the lab,
// how to repair it, and which checks must then fail with a diagnosis that names the cause.
// A verifier is only as good as the faults it catches: the catalogue proves each check.
import type { Cluster } from '../model/cluster.ts';
import type { Remote } from '../installer/remote.ts';
import type { VerifyOptions } from '../verify/check.ts';

export interface FaultEnv {
  cluster: Cluster;
  /** A host of the lab, driven over SSH. */
  host(name: string): Remote;
  /** The lab's rendered tree (the installer's source of truth), for repairs: DIR/<host>/<path>. */
  renderedDir: string;
  /** A temp folder for this fault's files (removed afterwards). */
  tmp: string;
  progress(line: string): void;
}

export interface Fault {
  id: string;
  title: string;
  /** Checks expected to fail, as "check.id@host" — exactly these, no more, no fewer. */
  expected: string[];
  /** Checks expected to pass with a warning (memory over budget). */
  expectedWarnings?: string[];
  /** Words the diagnosis (or warning) of a given check must contain: the cause, named. */
  mentions: Record<string, string[]>;
  /** Verify options for this fault's run (a budget file, ...). */
  options?(env: FaultEnv): Partial<VerifyOptions>;
  /** Seconds to let the fault take effect before verifying (leases to expire, nodes to go NotReady). */
  settleSeconds?: number;
  inject(env: FaultEnv): Promise<void>;
  /** Puts the lab back as the installer left it, and waits until it is healthy again. */
  repair(env: FaultEnv): Promise<void>;
}

export interface FaultResult {
  id: string;
  title: string;
  expected: string[];
  failed: string[];
  caught: boolean;
  /** Why it was not caught: missing or unexpected checks, a diagnosis not naming the cause. */
  reasons: string[];
  durationMs: number;
}
