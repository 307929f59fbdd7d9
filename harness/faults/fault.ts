// A fault: one thing an operator breaks in practice, how to break it, how to repair it, and the
// findings that must then appear: exactly these checks fail, each with these codes. A verifier is
// only as good as the faults it catches: every check is proven by at least one fault, kept beside
// its suite (suites/<name>/faults.ts). Two places to break things, one type:
//   lab   the running lab, over SSH, as an operator breaks a VPS (inject, then repair)
//   tree  a rendered tree, offline (inject edits files in a copy of the rendering)
// Hosts are chosen by role from the model ("the first worker"), never by literal names.
import type { Cluster, LayoutName } from '../model/cluster.ts';
import type { InitSystem } from '../system/init-system.ts';
import type { Remote } from '../installer/remote.ts';
import type { VerifyOptions } from '../verify/check.ts';

/** The hosts of a cluster by role: what a fault names instead of literal host names. */
export interface Roles {
  cluster: Cluster;
  /** The first master. */
  master: string;
  /** Workers in model order (workers[0] "the first worker", workers.at(-1) "the last"). */
  workers: string[];
}

export interface FaultEnv extends Roles {
  /** A host driven over SSH (lab faults). */
  host(name: string): Remote;
  /** The init system's commands for a host. */
  init(name: string): InitSystem;
  /** The rendering the installer used (DIR/<host>/<path>, DIR/_pki): for lab repairs; for tree
   * faults, the copy being broken. */
  renderedDir: string;
  /** A temp folder for this fault's files (removed afterwards). */
  tmp: string;
  progress(line: string): void;
}

/** One check that must fail, on one host (omitted for cluster checks), with these codes. */
export interface Expected {
  check: string;
  host?: string;
  /** Every one of these codes must be among the check's findings. */
  codes: string[];
  /** At least one of these must be (where what the check sees depends on when pods started). */
  oneOf?: string[];
}

export interface Fault {
  id: string;
  title: string;
  on: 'lab' | 'tree';
  /** The layouts whose lab it breaks (default: the seed's): what it touches must exist there. */
  layouts?: LayoutName[];
  /** Why it does not apply to the other layouts (docs/fault-catalogue.md says it). */
  layoutsWhy?: string;
  /** The fault this one mirrors (the same break at the other end of the worker list). */
  mirrorOf?: string;
  /** Why it never shares a batch with other faults (it breaks what every host's checks lean on);
   * see batches.ts for what batches faults otherwise. */
  alone?: string;
  /** It changes a file or a setting and restarts nothing: it may share a host with a fault judged
   * in other suites (batches.ts). */
  sharesHost?: boolean;
  /** The hosts it changes or reads besides the hosts of its expectations (its footprint). */
  touches?(r: Roles): string[];
  /** Checks that must fail, exactly these. */
  expect(r: Roles): Expected[];
  /** Checks that must pass with a warning carrying these codes. */
  warn?(r: Roles): Expected[];
  /** Verify options for this fault's run (a budget file, ...). */
  options?(env: FaultEnv): Partial<VerifyOptions>;
  inject(env: FaultEnv): Promise<void>;
  /** Waits until the fault has taken effect (a lease expired, a node NotReady): the exact signal. */
  effect?(env: FaultEnv): Promise<void>;
  /** Puts the lab back as the installer left it and waits for the repaired part's own health
   * signal (lab faults). */
  repair?(env: FaultEnv): Promise<void>;
}

export interface FaultResult {
  id: string;
  title: string;
  expected: string[];
  failed: string[];
  caught: boolean;
  /** Why it was not caught: missing or unexpected checks, missing codes, a failed repair. */
  reasons: string[];
  durationMs: number;
  /** The other faults broken at the same time (its batch), when it did not run alone. */
  batch?: string[];
  /** Why it ran alone after its batch was not caught exactly. */
  rerunAlone?: string;
  /** Where the time went, in seconds' order: inject, effect, run, repair, proof. */
  phases?: Partial<Record<FaultPhase, number>>;
}

export type FaultPhase = 'inject' | 'effect' | 'run' | 'repair' | 'proof';

export const appliesTo = (f: Fault, layout: LayoutName): boolean => (f.layouts ?? ['seed']).includes(layout);

export const keyOf = (e: { check: string; host?: string }): string => (e.host ? `${e.check}@${e.host}` : e.check);

export function rolesOf(cluster: Cluster): Roles {
  return { cluster, master: cluster.masters[0]!.host, workers: cluster.workers.map((w) => w.host) };
}

/**
 * The same fault at the other end of the worker list: where it names "the last worker" its mirror
 * breaks the first one, and the other way round (the roles it sees have the workers reversed).
 * The seed's lab has node-1 on systemd and node-2 on OpenRC, so a service fault and its mirror
 * break that service under both init systems.
 */
export function mirrored(f: Fault): Fault {
  const flip = <R extends Roles>(r: R): R => ({ ...r, workers: [...r.workers].reverse() });
  const last = /\blast worker\b/.test(f.title);
  if (!last && !/\bfirst worker\b/.test(f.title))
    throw new Error(`fault ${f.id}: a mirror needs a title naming "the first worker" or "the last worker"`);
  return {
    ...f,
    // KTHW's workers both run systemd: there a mirror would break nothing new.
    layouts: (f.layouts ?? ['seed']).filter((l) => l === 'seed'),
    layoutsWhy: `${f.layoutsWhy ? `${f.layoutsWhy}; ` : ''}a mirror: the seed's lab has one worker of each init system, KTHW's workers both run systemd`,
    id: `${f.id}-${last ? 'first' : 'last'}-worker`,
    mirrorOf: f.id,
    title: f.title.replace(/\b(first|last) worker\b/g, (_, end: string) => `${end === 'last' ? 'first' : 'last'} worker`),
    expect: (r) => f.expect(flip(r)),
    ...(f.warn ? { warn: (r: Roles) => f.warn!(flip(r)) } : {}),
    ...(f.touches ? { touches: (r: Roles) => f.touches!(flip(r)) } : {}),
    ...(f.options ? { options: (e: FaultEnv) => f.options!(flip(e)) } : {}),
    inject: (e) => f.inject(flip(e)),
    ...(f.effect ? { effect: (e: FaultEnv) => f.effect!(flip(e)) } : {}),
    ...(f.repair ? { repair: (e: FaultEnv) => f.repair!(flip(e)) } : {}),
  };
}

/** A worker-service fault and its mirror: the service broken on the first and on the last worker. */
export const onBothEnds = (f: Fault): Fault[] => [f, mirrored(f)];
