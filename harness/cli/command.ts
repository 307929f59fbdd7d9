// The shape of a CLI command and the argument parsing they share (node:util parseArgs, with
// unknown options reported as usage errors naming the command's --help).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

export interface Command {
  name: string;
  summary: string;
  /** Full help text, printed by `hardway <name> --help`. */
  help: string;
  run(argv: string[]): Promise<number>;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(cmd: string, argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`hardway ${cmd}: ${(e as Error).message.split('\n')[0]} (see: hardway ${cmd} --help)`);
  }
}

export function need<T>(cmd: string, value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`hardway ${cmd}: ${flag} is required (see: hardway ${cmd} --help)`);
  return value;
}
