// A systemd service as systemd itself reads it: the fragment, then its drop-ins in order
// (`systemctl cat` prints them so, each under a "# /path" header), line continuations, comments
// inside continued lines skipped, empty assignments resetting lists (the drop-in idiom
// "ExecStart=" then a new "ExecStart=..."), ExecStart prefixes (- @ : + ! !!), "%" specifiers,
// and at resolve time Environment= and EnvironmentFile= (optional with "-") feeding $VAR/${VAR}.
import { parseEnvFile } from './env-file.ts';
import { type Parsed, type ParseProblem, Problems } from './problem.ts';
import { type SpecifierContext, expandArgv, expandSpecifiers, isEnvName, splitWords } from './systemd-words.ts';

export interface UnitFile {
  path: string;
  text: string;
}

export interface UnitEntry {
  section: string;
  key: string;
  value: string;
  file: string;
  line: number;
}

export interface ExecCommand {
  /** The executable as written (absolute, or a bare name systemd looks up in its fixed path). */
  path: string;
  /** argv as the process gets it, before $VAR expansion: argv[0] is the path unless "@" gave one. */
  argv: string[];
  /** "-": a failing exit status is not a failure. */
  ignoreFailure: boolean;
  /** ":": no environment variable substitution. */
  noEnvExpansion: boolean;
  /** "@": argv[0] given separately. */
  argv0Given: boolean;
  /** "+", "!" or "!!": privilege handling. */
  privilege?: '+' | '!' | '!!';
  file: string;
  line: number;
}

export interface ServiceUnit {
  /** Every file read, fragment first. */
  files: string[];
  entries: UnitEntry[];
  /** Type=, systemd's default "simple" when unset. */
  type: string;
  /** Restart=, systemd's default "no" when unset. */
  restart: string;
  execStart: ExecCommand[];
  execStartPre: ExecCommand[];
  execStartPost: ExecCommand[];
  /** Environment= assignments in effect, in order (a later one wins). */
  environment: { name: string; value: string; file: string; line: number }[];
  /** EnvironmentFile= entries in effect, in order. */
  environmentFiles: { path: string; optional: boolean; file: string; line: number }[];
}

const UNIT_SUFFIX = /\.(service|socket|target|timer|mount|path|slice|scope|swap|device|automount|conf)$/;

/**
 * `systemctl cat <unit>` output into its files. Each file starts with a "# /path" line; systemctl
 * also prints "# Warning: ... changed on disk" lines, which are not part of any file.
 */
export function splitSystemctlCat(output: string, source = 'systemctl cat'): Parsed<UnitFile[]> {
  const p = new Problems(source);
  const files: UnitFile[] = [];
  let current: { path: string; lines: string[] } | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const header = /^# (\/\S+)$/.exec(line);
    if (header && (UNIT_SUFFIX.test(header[1]!) || header[1] === '/dev/null')) {
      if (current) files.push({ path: current.path, text: current.lines.join('\n') });
      current = { path: header[1]!, lines: [] };
      continue;
    }
    if (/^# Warning: /.test(line)) {
      p.add(line.slice(2));
      continue;
    }
    if (!current) {
      if (line.trim()) p.add(`text before the first "# /path" header: ${line.slice(0, 80)}`);
      continue;
    }
    current.lines.push(line);
  }
  if (current) files.push({ path: current.path, text: current.lines.join('\n') });
  if (files.length === 0) p.add('no unit file in the output (unit not found?)');
  return { value: files, problems: p.list };
}

/**
 * Drop-in files in the order systemd applies them: sorted by file name across all directories; a
 * name in an earlier directory of the search path (/etc before /run before /usr/lib) hides the same
 * name in later ones. `paths` are full paths of *.conf files under <unit>.d/ directories.
 */
export function dropInOrder(paths: readonly string[]): string[] {
  const rank = (p: string) => {
    const dirs = [
      '/etc/systemd/system',
      '/run/systemd/system',
      '/usr/local/lib/systemd/system',
      '/usr/lib/systemd/system',
      '/lib/systemd/system',
    ];
    const i = dirs.findIndex((d) => p.startsWith(`${d}/`));
    return i < 0 ? dirs.length : i;
  };
  const byName = new Map<string, string>();
  for (const p of paths) {
    const name = p.slice(p.lastIndexOf('/') + 1);
    const had = byName.get(name);
    if (!had || rank(p) < rank(had)) byName.set(name, p);
  }
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

/** One unit file into section/key/value entries, with systemd.syntax's line rules. */
export function parseUnitText(file: UnitFile): Parsed<UnitEntry[]> {
  const p = new Problems(file.path);
  const entries: UnitEntry[] = [];
  const lines = file.text.split('\n');
  let section = '';
  let buf: string | undefined;
  let bufLine = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    const trimmed = line.trimStart();
    if (buf !== undefined) {
      // Comment lines inside a continued line are skipped (systemd.syntax).
      if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    } else if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    let text = buf === undefined ? line : buf + line;
    if (buf === undefined) bufLine = n + 1;
    const trailing = /\\+$/.exec(text)?.[0].length ?? 0;
    if (trailing % 2 === 1) {
      buf = `${text.slice(0, -1)} `;
      if (n < lines.length - 1) continue;
      text = buf;
    }
    buf = undefined;
    const t = text.trim();
    if (t.startsWith('[')) {
      if (!t.endsWith(']')) p.add(`bad section header ${t}`, bufLine);
      else section = t.slice(1, -1);
      continue;
    }
    const eq = t.indexOf('=');
    if (eq < 0) {
      p.add(`missing "=", systemd ignores the line: ${t.slice(0, 80)}`, bufLine);
      continue;
    }
    if (!section) {
      p.add(`assignment outside any section: ${t.slice(0, 80)}`, bufLine);
      continue;
    }
    entries.push({ section, key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), file: file.path, line: bufLine });
  }
  return { value: entries, problems: p.list };
}

function parseExec(e: UnitEntry, ctx: SpecifierContext, p: Problems): ExecCommand[] {
  const errors: string[] = [];
  const value = expandSpecifiers(e.value, ctx, errors);
  const split = splitWords(value);
  errors.push(...split.errors);
  for (const m of errors) p.add(`${e.key}=: ${m}`, e.line, e.file);
  const out: ExecCommand[] = [];
  const words = split.words;
  let i = 0;
  while (i < words.length) {
    let first = words[i++]!.text;
    let ignoreFailure = false,
      noEnvExpansion = false,
      argv0Given = false;
    let privilege: ExecCommand['privilege'];
    for (;;) {
      if (first.startsWith('!!')) (privilege = '!!'), (first = first.slice(2));
      else if (first[0] === '-') (ignoreFailure = true), (first = first.slice(1));
      else if (first[0] === '@') (argv0Given = true), (first = first.slice(1));
      else if (first[0] === ':') (noEnvExpansion = true), (first = first.slice(1));
      else if (first[0] === '+') (privilege = '+'), (first = first.slice(1));
      else if (first[0] === '!') (privilege = '!'), (first = first.slice(1));
      else if (first[0] === '|') {
        p.add(`${e.key}=: the "|" prefix (run through a shell) is not modelled; read as a plain command`, e.line, e.file);
        first = first.slice(1);
      } else break;
    }
    const argv: string[] = [];
    if (argv0Given) {
      const a0 = words[i++];
      if (!a0) {
        p.add(`${e.key}=: "@" without an argv[0]`, e.line, e.file);
        break;
      }
      argv.push(a0.text);
    } else argv.push(first);
    while (i < words.length) {
      const w = words[i++]!;
      if (w.raw === ';') break;
      argv.push(w.raw === '\\;' ? ';' : w.text);
    }
    if (!first) {
      p.add(`${e.key}=: empty executable path, systemd ignores the command`, e.line, e.file);
      continue;
    }
    if (first.includes('/') && !first.startsWith('/')) {
      p.add(`${e.key}=: executable path "${first}" is neither absolute nor a plain name, systemd ignores the command`, e.line, e.file);
      continue;
    }
    out.push({
      path: first,
      argv,
      ignoreFailure,
      noEnvExpansion,
      argv0Given,
      ...(privilege ? { privilege } : {}),
      file: e.file,
      line: e.line,
    });
  }
  return out;
}

/** Reads a service from its files, fragment first then drop-ins in applied order. */
export function parseService(files: readonly UnitFile[], ctx: SpecifierContext = {}): Parsed<ServiceUnit> {
  const problems: ParseProblem[] = [];
  const unit: ServiceUnit = {
    files: files.map((f) => f.path),
    entries: [],
    type: 'simple',
    restart: 'no',
    execStart: [],
    execStartPre: [],
    execStartPost: [],
    environment: [],
    environmentFiles: [],
  };
  for (const f of files) {
    const r = parseUnitText(f);
    problems.push(...r.problems);
    unit.entries.push(...r.value);
  }
  const p = new Problems(files[0]?.path ?? 'unit');
  for (const e of unit.entries) {
    if (e.section !== 'Service') continue;
    switch (e.key) {
      case 'ExecStart':
      case 'ExecStartPre':
      case 'ExecStartPost': {
        const list = e.key === 'ExecStart' ? 'execStart' : e.key === 'ExecStartPre' ? 'execStartPre' : 'execStartPost';
        if (e.value === '') unit[list] = [];
        else unit[list].push(...parseExec(e, ctx, p));
        break;
      }
      case 'Environment': {
        if (e.value === '') {
          unit.environment = [];
          break;
        }
        const errors: string[] = [];
        const split = splitWords(expandSpecifiers(e.value, ctx, errors));
        for (const m of [...errors, ...split.errors]) p.add(`Environment=: ${m}`, e.line, e.file);
        for (const w of split.words) {
          const eq = w.text.indexOf('=');
          const name = eq > 0 ? w.text.slice(0, eq) : '';
          if (!isEnvName(name)) p.add(`Environment=: "${w.text}" is not NAME=value, systemd ignores it`, e.line, e.file);
          else unit.environment.push({ name, value: w.text.slice(eq + 1), file: e.file, line: e.line });
        }
        break;
      }
      case 'EnvironmentFile': {
        if (e.value === '') {
          unit.environmentFiles = [];
          break;
        }
        const errors: string[] = [];
        let path = expandSpecifiers(e.value, ctx, errors);
        for (const m of errors) p.add(`EnvironmentFile=: ${m}`, e.line, e.file);
        const optional = path.startsWith('-');
        if (optional) path = path.slice(1);
        if (!path.startsWith('/')) p.add(`EnvironmentFile=${e.value}: not an absolute path, systemd ignores it`, e.line, e.file);
        else unit.environmentFiles.push({ path, optional, file: e.file, line: e.line });
        break;
      }
      case 'Type':
        unit.type = e.value || 'simple';
        break;
      case 'Restart':
        unit.restart = e.value || 'no';
        break;
    }
  }
  if (unit.execStart.length > 1 && unit.type !== 'oneshot') {
    const last = unit.execStart[unit.execStart.length - 1]!;
    p.add(
      `${unit.execStart.length} ExecStart= commands with Type=${unit.type}: systemd refuses to start the service (only Type=oneshot may have several; a drop-in must reset with an empty "ExecStart=" first)`,
      last.line,
      last.file,
    );
  }
  if (unit.execStart.length === 0 && unit.type !== 'oneshot') p.add('no ExecStart=: systemd refuses to start the service');
  problems.push(...p.list);
  return { value: unit, problems };
}

/** `systemctl cat` output straight to a service. */
export function parseSystemctlCat(output: string, ctx: SpecifierContext = {}): Parsed<ServiceUnit> {
  const files = splitSystemctlCat(output);
  const svc = parseService(files.value, ctx);
  return { value: svc.value, problems: [...files.problems, ...svc.problems] };
}

export interface ResolvedCommand {
  path: string;
  /** The argv the process gets, $VAR and ${VAR} expanded. */
  argv: string[];
  /** The service's environment from Environment= and EnvironmentFile= (not the manager's own). */
  env: Record<string, string>;
  /** Environment files that were read, in order. */
  envFilesRead: string[];
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The main command as systemd runs it. `files` holds the environment files the caller could read
 * (path -> text); a path absent from it is missing on the host.
 */
export function resolveExecStart(unit: ServiceUnit, files: Readonly<Record<string, string>> = {}): Parsed<ResolvedCommand | undefined> {
  const problems: ParseProblem[] = [];
  const p = new Problems(unit.files[0] ?? 'unit');
  const env = new Map<string, string>();
  for (const a of unit.environment) env.set(a.name, a.value);
  const read: string[] = [];
  for (const ef of unit.environmentFiles) {
    const matches = /[*?[]/.test(ef.path)
      ? Object.keys(files)
          .filter((k) => globToRegExp(ef.path).test(k))
          .sort()
      : ef.path in files
        ? [ef.path]
        : [];
    if (matches.length === 0) {
      if (!ef.optional)
        p.add(
          `EnvironmentFile=${ef.path} does not exist: systemd fails the start ("Failed to load environment files"); prefix it with "-" to make it optional`,
          ef.line,
          ef.file,
        );
      continue;
    }
    for (const m of matches) {
      const r = parseEnvFile(files[m]!, m);
      problems.push(...r.problems);
      for (const a of r.value) env.set(a.name, a.value);
      read.push(m);
    }
  }
  const cmd = unit.execStart[unit.execStart.length - 1];
  problems.push(...p.list);
  if (!cmd) return { value: undefined, problems };
  let argv = cmd.argv;
  if (!cmd.noEnvExpansion) {
    const [a0, ...rest] = cmd.argv;
    const x = expandArgv(rest, env);
    argv = [a0!, ...x.argv];
    for (const name of x.unset)
      problems.push({
        file: cmd.file,
        line: cmd.line,
        message: `ExecStart= references $${name}, which no Environment= or EnvironmentFile= sets: it expands to nothing`,
      });
  }
  return { value: { path: cmd.path, argv, env: Object.fromEntries(env), envFilesRead: read }, problems };
}

/** The same service read from `systemctl show` (harness/hostio/systemctl-show.ts) instead of its files. */
export function serviceFromShow(show: {
  fragmentPath?: string;
  dropInPaths: string[];
  type?: string;
  restart?: string;
  execStart: { path: string; argv: string[]; ignoreErrors: boolean; flags?: string[] }[];
  environment: string[];
  environmentFiles: { path: string; optional: boolean }[];
}): ServiceUnit {
  const file = show.fragmentPath ?? 'systemctl show';
  return {
    files: [...(show.fragmentPath ? [show.fragmentPath] : []), ...show.dropInPaths],
    entries: [],
    type: show.type || 'simple',
    restart: show.restart || 'no',
    execStart: show.execStart.map((e) => ({
      path: e.path,
      argv: e.argv,
      ignoreFailure: e.ignoreErrors,
      noEnvExpansion: e.flags?.includes('no-env-expand') ?? false,
      argv0Given: e.argv[0] !== e.path,
      ...(e.flags?.includes('privileged')
        ? { privilege: '+' as const }
        : e.flags?.includes('ambient')
          ? { privilege: '!!' as const }
          : e.flags?.includes('no-setuid')
            ? { privilege: '!' as const }
            : {}),
      file,
      line: 0,
    })),
    execStartPre: [],
    execStartPost: [],
    environment: show.environment.flatMap((a) => {
      const eq = a.indexOf('=');
      return eq > 0 ? [{ name: a.slice(0, eq), value: a.slice(eq + 1), file, line: 0 }] : [];
    }),
    environmentFiles: show.environmentFiles.map((f) => ({ ...f, file, line: 0 })),
  };
}
