// What `hardway verify` hands to the Playwright runner and its workers: one JSON document in an
// environment variable (never secrets: only paths and names; workers open the target themselves).
import type { VerifyOptions } from './check.ts';

export interface RunContext {
  /** Target spec as given: "dir:/path", "lab", "prod", "./targets/x.yaml". */
  target: string;
  /** Absolute path of the cluster model (for dir: targets; others carry their own). */
  config?: string;
  /** The folder `hardway verify` ran in: relative target specs (targets/prod.yaml) resolve there. */
  cwd?: string;
  options: VerifyOptions;
  /** Folder this run's reports are written to. */
  runDir: string;
  /** "console" prints progress; "json" prints only the JSON document to stdout. */
  reporter: 'console' | 'json';
}

export const CONTEXT_ENV = 'HARDWAY_RUN_CONTEXT';

export function readRunContext(): RunContext {
  const raw = process.env[CONTEXT_ENV];
  if (!raw) throw new Error(`${CONTEXT_ENV} is not set: run the suites through "hardway verify", not "playwright test"`);
  return JSON.parse(raw) as RunContext;
}
