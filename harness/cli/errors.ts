// Errors a user can fix: printed as their message alone (no stack), exit code 2.
// Recognised by name, not by instanceof: importing every module that defines one would load the
// YAML parser, the PKI and more before `hardway --help` could print a line.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Any error whose message is the whole story for the user. */
export class UserFacingError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserFacingError';
    this.exitCode = exitCode;
  }
}

/** Names of the error classes whose message is a complete, fixable diagnosis (bad input). */
const USER_FACING = new Set([
  'UsageError',
  'ModelError',
  'TargetError',
  'UserFacingError',
  'ImageBuildError',
  'PkiError',
  'OutDirError',
  'SshError',
]);

export function isUserFacing(e: unknown): e is Error & { exitCode?: number } {
  if (!(e instanceof Error)) return false;
  if (e instanceof UsageError || e instanceof UserFacingError) return true;
  for (let p: object | null = Object.getPrototypeOf(e); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if (USER_FACING.has((p as { constructor: { name: string } }).constructor.name)) return true;
  }
  return USER_FACING.has(e.name);
}
