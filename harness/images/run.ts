// Running the host tools the image builds need (tar, gcc, go, apt-get, dpkg-deb). Failures become one
// line that says what is missing and how to get it, because the user can fix those, not hardway.
import { execFile } from 'node:child_process';
import { UserFacingError } from '../cli/errors.ts';

export class ImageBuildError extends UserFacingError {
  constructor(message: string) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

/** How to get each tool, for the "not found" message. */
const FIX_OF: Record<string, string> = {
  tar: 'apt-get install tar',
  gcc: 'apt-get install gcc libc6-dev',
  // Debian 12's golang-go is 1.19, older than the demo app's go.mod asks for.
  go: 'put a Go toolchain >= 1.22 on PATH (Debian 12 golang-go is 1.19, too old)',
  'apt-get': 'apt-get install apt',
  'dpkg-deb': 'apt-get install dpkg',
};

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Names the step in error messages, e.g. "compiling pause.c". */
  what?: string;
}

/** Runs `cmd args`, resolves with stdout; rejects with an ImageBuildError carrying stderr's gist. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new ImageBuildError(`${cmd} not found: ${FIX_OF[cmd] ?? `install ${cmd}`}`));
      }
      reject(new ImageBuildError(`${opts.what ?? cmd} failed: ${gist(stderr || err.message)}`));
    });
  });
}

/** The most telling line of a tool's stderr (the first error line, else the last line), shortened. */
export function gist(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => /error|cannot|not found|no such/i.test(l)) ?? lines.at(-1) ?? 'no output';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
