// Errors a user can fix: printed as their message alone (no stack), exit code 2.
import { ModelError } from '../model/load.ts';
import { TargetError } from '../targets/target.ts';

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

export function isUserFacing(e: unknown): e is Error & { exitCode?: number } {
  return e instanceof UsageError || e instanceof ModelError || e instanceof TargetError || e instanceof UserFacingError;
}
