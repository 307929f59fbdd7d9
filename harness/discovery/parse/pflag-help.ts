// A Kubernetes binary's `--help` (pflag's FlagUsages) read back into a flag table: every flag,
// its shorthand, and which take no value ("--name" with neither a type nor "[=...]" is a bool;
// "--name type[=x]" has a NoOptDefVal). Used to check flag-tables.ts against the recorded help of
// the pinned binaries, and usable on a host that runs another version (`kubelet --help`).
import type { FlagTable } from './flag-tables.ts';

export interface HelpFlag {
  name: string;
  shorthand?: string;
  /** pflag's type name ("string", "strings", "int32", "Level"...); absent for a bool. */
  type?: string;
  /** The NoOptDefVal when the flag can be given bare; "true" for a bool. */
  noValue?: string;
}

const LINE = /^(?: {2}-([A-Za-z0-9]), | {6})--([A-Za-z0-9][A-Za-z0-9._-]*)(?: (?!\[=)(\S+?))?(?:\[=("?)(.*?)\4\])?(?: {2,}.*| *)$/;

export function parsePflagHelp(text: string): HelpFlag[] {
  const out: HelpFlag[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const [, shorthand, name, type, , noOpt] = m;
    const f: HelpFlag = { name: name! };
    if (shorthand) f.shorthand = shorthand;
    if (type) f.type = type;
    if (!type) f.noValue = 'true';
    else if (noOpt !== undefined) f.noValue = noOpt;
    out.push(f);
  }
  return out;
}

export function tableFromPflagHelp(text: string): FlagTable {
  const flags = parsePflagHelp(text);
  const noValueDefault: Record<string, string> = {};
  for (const f of flags) if (f.noValue !== undefined && f.noValue !== 'true') noValueDefault[f.name] = f.noValue;
  return {
    dialect: 'pflag',
    noValue: new Set(flags.filter((f) => f.noValue !== undefined).map((f) => f.name)),
    ...(Object.keys(noValueDefault).length ? { noValueDefault } : {}),
    shorthands: Object.fromEntries(flags.filter((f) => f.shorthand).map((f) => [f.shorthand!, f.name])),
  };
}
