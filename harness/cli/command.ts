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

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs' own messages quote unevenly ("as in '-- "--x""); say it in our words instead. */
function usageMessage(e: Error & { code?: string }, argv: string[], options: Options): string {
  const q = (s: string) => JSON.stringify(s);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const known = new Set(Object.keys(options));
    const shorts = new Set(
      Object.values(options)
        .map((o) => o.short)
        .filter(Boolean),
    );
    const dash = argv.indexOf('--');
    const bad = (dash >= 0 ? argv.slice(0, dash) : argv).find((a) =>
      a.startsWith('--')
        ? a.length > 2 && !known.has(a.slice(2).split('=')[0]!)
        : a.startsWith('-') && a.length > 1 && [...a.slice(1)].some((c) => !shorts.has(c)),
    );
    const name = bad ? (bad.startsWith('--') ? bad.split('=')[0]! : bad) : 'an option';
    return `unknown option ${bad ? q(name) : name}`;
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const m = /^Unexpected argument '(.*)'\. This command/.exec(e.message);
    return `unexpected argument${m ? ` ${q(m[1]!)}` : ''}: this command takes options only`;
  }
  const missing = /^Option '(-\S+)(?:, (--\S+))? <value>' argument missing/.exec(e.message);
  if (missing) return `${missing[2] ?? missing[1]} needs a value`;
  const noArg = /^Option '(-\S+)(?:, (--\S+))?' does not take an argument/.exec(e.message);
  if (noArg) return `${noArg[2] ?? noArg[1]} takes no value`;
  return e.message.split('\n')[0]!.replace(/'/g, '"');
}

export function parse<T extends Options>(cmd: string, argv: string[], options: T, allowPositionals = false) {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as T & { help: { type: 'boolean'; short: 'h' } };
  try {
    return parseArgs({ args: argv, options: all, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`hardway ${cmd}: ${usageMessage(e as Error, argv, all)} (see: hardway ${cmd} --help)`);
  }
}

export function need<T>(cmd: string, value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`hardway ${cmd}: ${flag} is required (see: hardway ${cmd} --help)`);
  return value;
}
