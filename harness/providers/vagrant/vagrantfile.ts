// Running vagrant on hardway's checked-in Vagrantfile (vagrant/Vagrantfile) for one lab: the
// environment that points vagrant at it, at the lab's spec and at a dotfile folder inside the
// lab's folder, and the readers of vagrant's machine-readable output.
import { join } from 'node:path';

/** The checked-in Vagrantfile (top-level vagrant/). */
export const VAGRANTFILE = join(import.meta.dirname, '../../../vagrant/Vagrantfile');

export interface VagrantPaths {
  /** The lab's folder: vagrant's cwd (its root_path). */
  dir: string;
  /** The spec the Vagrantfile reads. */
  spec: string;
}

export function vagrantPaths(labFolder: string): VagrantPaths {
  return { dir: labFolder, spec: join(labFolder, 'vagrant-spec.json') };
}

export function vagrantEnv(p: VagrantPaths, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    VAGRANT_VAGRANTFILE: VAGRANTFILE,
    VAGRANT_DOTFILE_PATH: join(p.dir, 'vagrant'),
    HARDWAY_VAGRANT_SPEC: p.spec,
    VAGRANT_NO_COLOR: '1',
    // No calls home (Debian's vagrant lacks the checkpoint library anyway) and no box update checks.
    VAGRANT_CHECKPOINT_DISABLE: '1',
    VAGRANT_BOX_UPDATE_CHECK_DISABLE: '1',
  };
}

/** `vagrant status --machine-readable` lines: timestamp,target,type,data. */
export function parseStatus(text: string): { name: string; state: string }[] {
  return text
    .split('\n')
    .map((l) => l.split(','))
    .filter((f) => f[2] === 'state' && f[1])
    .map((f) => ({ name: f[1]!, state: f[3] ?? 'unknown' }));
}

/** The machines and their providers in `vagrant status --machine-readable` (provider-name lines). */
export function parseProviders(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .map((l) => l.split(','))
      .filter((f) => f[2] === 'provider-name' && f[1])
      .map((f) => [f[1]!, f[3] ?? ''] as const),
  );
}

/** A line of a Ruby backtrace (vagrant's crash output): never a user's business. */
export const RUBY_TRACE = /^\s*(from )?\/\S+\.rb:\d+:in /;

/** The lines of vagrant's output that say what went wrong (not its progress, backtraces or blank lines). */
export function meaningfulLines(out: string, n = 3): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(
      (l) =>
        l && !RUBY_TRACE.test(l) && !/^(==> )?[\w-]+:\s+(Creating|Image|Volume|Port|Name|Cmd|Waiting|Starting|Container created)/.test(l),
    )
    .slice(-n);
}
