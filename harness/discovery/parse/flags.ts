// One flag parser for every component's argv. Which flags take no value decides how
// "--name value" reads, so each binary has its table (flag-tables.ts, read from the binaries' own
// flag definitions). Two parsing dialects:
//   pflag (Kubernetes): --name=value, --name value, --name for no-value flags, -v shorthand,
//     flags and positional arguments interspersed, "--" ends flags;
//   Go's flag package (etcd, flanneld, coredns; containerd's urfave/cli is built on it): -name or
//     --name alike, a bool flag takes a value only as -name=false, parsing stops at the first
//     positional argument.
// Repeated flags keep every occurrence: a scalar flag's last one wins, list flags append.
import { type Parsed, Problems } from './problem.ts';
import { FLAG_TABLES, type FlagTable } from './flag-tables.ts';

export type Component =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kube-proxy'
  | 'etcd'
  | 'flanneld'
  | 'coredns'
  | 'containerd';

export const COMPONENTS: readonly Component[] = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'etcd',
  'flanneld',
  'coredns',
  'containerd',
];

/** Basenames a component's binary goes by besides its own name. */
const ALIASES: Record<string, Component> = { flannel: 'flanneld' };

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Which component a command runs, by its binary's basename, whatever the unit is called
 * (/usr/bin/etcd, /opt/etcd/bin/etcd and /usr/local/bin/etcd are all etcd). A "hyperkube <name>"
 * command is the component it names.
 */
export function identifyComponent(argv: readonly string[]): Component | undefined {
  const b = basename(argv[0] ?? '');
  if (b === 'hyperkube' && argv[1]) return identifyComponent([argv[1]]);
  if ((COMPONENTS as readonly string[]).includes(b)) return b as Component;
  return ALIASES[b];
}

export interface FlagOccurrence {
  /** Canonical name, without dashes; a shorthand is given its long name (-c -> config). */
  name: string;
  /** "true" for a no-value flag written bare. */
  value: string;
  /** Index in argv of the flag itself. */
  index: number;
  /** How it was written. */
  written: string;
}

export class FlagSet {
  readonly component: Component | undefined;
  readonly occurrences: FlagOccurrence[];
  /** Arguments that are not flags, in order (subcommands such as "config dump"). */
  readonly positional: string[];

  constructor(component: Component | undefined, occurrences: FlagOccurrence[], positional: string[]) {
    this.component = component;
    this.occurrences = occurrences;
    this.positional = positional;
  }

  has(name: string): boolean {
    return this.occurrences.some((o) => o.name === name);
  }

  /** The value in effect for a scalar flag: its last occurrence. */
  get(name: string): string | undefined {
    for (let i = this.occurrences.length - 1; i >= 0; i--) if (this.occurrences[i]!.name === name) return this.occurrences[i]!.value;
    return undefined;
  }

  /** Every occurrence's value, in order (string-array flags such as --service-account-key-file). */
  all(name: string): string[] {
    return this.occurrences.filter((o) => o.name === name).map((o) => o.value);
  }

  /** Every occurrence split at commas (string-slice flags: --authorization-mode=Node,RBAC). */
  list(name: string): string[] {
    return this.all(name)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
  }

  /** A boolean flag as Go's strconv.ParseBool reads it; undefined when unset or not a bool. */
  bool(name: string): boolean | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    return undefined;
  }

  /** name -> value in effect, for printing and comparing. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const o of this.occurrences) out[o.name] = o.value;
    return out;
  }
}

function parsePflag(args: readonly string[], t: FlagTable, p: Problems): { occ: FlagOccurrence[]; pos: string[] } {
  const occ: FlagOccurrence[] = [];
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const index = i + 1;
    if (a === '--') {
      pos.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (eq >= 0) occ.push({ name, value: a.slice(eq + 1), index, written: a });
      else if (t.noValue.has(name)) occ.push({ name, value: t.noValueDefault?.[name] ?? 'true', index, written: a });
      else if (i + 1 < args.length) occ.push({ name, value: args[++i]!, index, written: `${a} ${args[i]}` });
      else p.add(`flag ${a} needs a value and is last on the command line: the binary refuses to start`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // pflag shorthand: -v=2, -v 2, -v2 (only the shorthands the binary defines).
      const letter = a[1]!;
      const long = t.shorthands?.[letter];
      if (!long) {
        p.add(
          `unknown shorthand flag ${a}: the binary refuses to start (a single dash needs pflag's one-letter form; long flags take "--")`,
        );
        continue;
      }
      const rest = a.slice(2);
      if (rest.startsWith('=')) occ.push({ name: long, value: rest.slice(1), index, written: a });
      else if (rest) occ.push({ name: long, value: rest, index, written: a });
      else if (t.noValue.has(long)) occ.push({ name: long, value: 'true', index, written: a });
      else if (i + 1 < args.length) occ.push({ name: long, value: args[++i]!, index, written: `${a} ${args[i]}` });
      else p.add(`flag ${a} needs a value`);
      continue;
    }
    pos.push(a);
  }
  return { occ, pos };
}

function parseGoFlag(args: readonly string[], t: FlagTable, p: Problems): { occ: FlagOccurrence[]; pos: string[] } {
  const occ: FlagOccurrence[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const index = i + 1;
    if (a === '--') return { occ, pos: args.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { occ, pos: args.slice(i) };
    const body = a.startsWith('--') ? a.slice(2) : a.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      p.add(`bad flag syntax: ${a}`);
      return { occ, pos: args.slice(i) };
    }
    const eq = body.indexOf('=');
    const rawName = eq < 0 ? body : body.slice(0, eq);
    const name = t.shorthands?.[rawName] ?? rawName;
    if (eq >= 0) occ.push({ name, value: body.slice(eq + 1), index, written: a });
    else if (t.noValue.has(name)) occ.push({ name, value: 'true', index, written: a });
    else if (i + 1 < args.length) occ.push({ name, value: args[++i]!, index, written: `${a} ${args[i]}` });
    else p.add(`flag ${a} needs a value and is last on the command line: the binary refuses to start`);
  }
  return { occ, pos: [] };
}

/**
 * Parses a component's argv (argv[0] included). `component` overrides identification by the
 * binary's name; an unknown binary is parsed as pflag with no no-value flags known.
 */
export function parseFlags(argv: readonly string[], opts: { component?: Component; source?: string } = {}): Parsed<FlagSet> {
  const p = new Problems(opts.source ?? 'argv');
  const component = opts.component ?? identifyComponent(argv);
  let args = argv.slice(1);
  if (basename(argv[0] ?? '') === 'hyperkube') args = args.slice(1);
  const t: FlagTable = component ? FLAG_TABLES[component] : { dialect: 'pflag', noValue: new Set() };
  const { occ, pos } = t.dialect === 'pflag' ? parsePflag(args, t, p) : parseGoFlag(args, t, p);
  if (t.known) {
    for (const o of occ) {
      if (!t.known.has(o.name)) p.add(`${component} has no flag --${o.name} (${o.written}): it refuses to start`);
    }
  }
  if (t.dialect === 'goflag' && pos.length && component !== 'containerd') {
    // Go's flag package stops at the first positional argument: what follows is not read as flags.
    p.add(
      `${component} stops reading flags at "${pos[0]}": ${pos.length} argument(s) from there on are not flags${component === 'etcd' ? ' (etcd refuses to start: "is not a valid flag")' : ''}`,
    );
  }
  return { value: new FlagSet(component, occ, pos), problems: p.list };
}

/** ETCD_FOO_BAR -> foo-bar, etcd's FlagToEnv read backwards. */
function envToFlag(prefix: string, key: string): string {
  return key
    .slice(prefix.length + 1)
    .toLowerCase()
    .replace(/_/g, '-');
}

/**
 * Flags a Go program takes from the environment (etcd: ETCD_*, flanneld: FLANNELD_*), merged
 * behind the command line the way each does it. etcd: a variable for a flag also given on the
 * command line is fatal ("conflicting environment variable is shadowed"), an empty one is unset,
 * an unknown ETCD_* is warned about, ETCD_CONFIG_FILE (or --config-file) makes etcd ignore every
 * other flag and variable. flanneld: the command line wins silently.
 */
export function withEnvironmentFlags(flags: FlagSet, env: Readonly<Record<string, string>>, source = 'environment'): Parsed<FlagSet> {
  const p = new Problems(source);
  const c = flags.component;
  const prefix = c === 'etcd' ? 'ETCD' : c === 'flanneld' ? 'FLANNELD' : undefined;
  if (!prefix) return { value: flags, problems: [] };
  const t = FLAG_TABLES[c!];
  const extra: FlagOccurrence[] = [];
  for (const [key, value] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!key.startsWith(`${prefix}_`)) continue;
    const name = envToFlag(prefix, key);
    if (c === 'etcd' && key === 'ETCD_VERSION') {
      p.add('ETCD_VERSION is reserved: etcd unsets it and warns');
      continue;
    }
    if (t.known && !t.known.has(name)) {
      p.add(`${key} matches no ${c} flag: ${c === 'etcd' ? 'etcd warns "unrecognized environment variable" and ignores it' : 'ignored'}`);
      continue;
    }
    if (flags.has(name)) {
      if (c === 'etcd')
        p.add(
          `${key} is set and --${name} is on the command line: etcd refuses to start ("conflicting environment variable is shadowed by corresponding command-line flag")`,
        );
      continue;
    }
    if (value === '') continue;
    extra.push({ name, value, index: -1, written: `${key}=${value}` });
  }
  const merged = new FlagSet(c, [...flags.occurrences, ...extra], flags.positional);
  if (c === 'etcd') {
    const cfg = merged.get('config-file');
    if (cfg) p.add(`etcd reads its configuration from ${cfg}: every other flag and ETCD_* variable is ignored`);
  }
  return { value: merged, problems: p.list };
}
