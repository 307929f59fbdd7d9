// `systemctl show -p Id,ActiveState,SubState,UnitFileState,Restart,NRestarts,MainPID,ControlGroup,
// ExecStart,FragmentPath,DropInPaths,Result,... <unit>...`: one block of Key=value lines per unit,
// blocks separated by a blank line. ExecStart= is printed as "{ path=... ; argv[]=... ; ... }",
// once per command; string lists (Environment=, DropInPaths=) are space separated and each item
// is shell-quoted when it needs it; EnvironmentFiles= is one "path (ignore_errors=yes|no)" per line.
import type { Parsed, ParseProblem } from '../discovery/parse/problem.ts';

export interface ShowExec {
  path: string;
  /** argv as systemd joined it with spaces: an argument holding a space cannot be told apart. */
  argv: string[];
  ignoreErrors: boolean;
  /** ExecStartEx= form: flags such as "ignore-failure", "no-env-expand". */
  flags?: string[];
  pid?: number;
  code?: string;
  status?: string;
}

export interface UnitShow {
  /** Every property as printed (a repeated one: its last value). */
  props: Record<string, string>;
  id?: string;
  activeState?: string;
  subState?: string;
  unitFileState?: string;
  /** "success", "oom-kill", "exit-code", "signal", ...: why the last run ended. */
  result?: string;
  restart?: string;
  type?: string;
  nRestarts?: number;
  /** 0 when not running. */
  mainPID?: number;
  controlGroup?: string;
  fragmentPath?: string;
  dropInPaths: string[];
  execStart: ShowExec[];
  /** Environment= as NAME=value strings. */
  environment: string[];
  environmentFiles: { path: string; optional: boolean }[];
  memoryCurrent?: number;
}

/** Splits a shell_maybe_quote()d, space-joined list: "a" "b c" -> [a, b c]. */
export function splitQuotedList(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    let w = '';
    let q: string | undefined;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (q) {
        if (c === q) q = undefined;
        else if (c === '\\' && q === '"' && i + 1 < s.length) w += s[++i];
        else w += c;
      } else if (c === '"' || c === "'") q = c;
      else if (c === ' ') break;
      else if (c === '\\' && i + 1 < s.length) w += s[++i];
      else w += c;
    }
    out.push(w);
  }
  return out;
}

/** "{ path=/usr/bin/x ; argv[]=/usr/bin/x -a ; ignore_errors=no ; ... }" */
export function parseShowExec(value: string): ShowExec | undefined {
  const m = /^\{ path=(.*?) ; argv\[\]=(.*?) ; (ignore_errors|flags)=(.*?) ; (.*)\}$/.exec(value.trim());
  if (!m) return undefined;
  const [, path, argv, kind, flagValue, rest] = m as unknown as [string, string, string, string, string, string];
  const field = (k: string) => new RegExp(`(?:^| )${k}=([^ ;]*)`).exec(rest)?.[1];
  const pid = Number(field('pid'));
  const flags = kind === 'flags' ? flagValue.split(' ').filter(Boolean) : undefined;
  return {
    path,
    argv: argv.split(' ').filter((a) => a !== ''),
    ignoreErrors: kind === 'flags' ? (flags ?? []).includes('ignore-failure') : flagValue === 'yes',
    ...(flags ? { flags } : {}),
    ...(Number.isFinite(pid) && field('pid') !== undefined ? { pid } : {}),
    ...(field('code') !== undefined ? { code: field('code')! } : {}),
    ...(field('status') !== undefined ? { status: field('status')! } : {}),
  };
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

export function parseSystemctlShow(output: string, source = 'systemctl show'): Parsed<UnitShow[]> {
  const problems: ParseProblem[] = [];
  const units: UnitShow[] = [];
  const blocks = output.replace(/\r/g, '').split(/\n\s*\n/);
  let lineNo = 1;
  for (const block of blocks) {
    const lines = block.split('\n');
    const startLine = lineNo;
    lineNo += lines.length + 1;
    if (!block.trim()) continue;
    const u: UnitShow = { props: {}, dropInPaths: [], execStart: [], environment: [], environmentFiles: [] };
    lines.forEach((l, k) => {
      if (!l.trim()) return;
      const eq = l.indexOf('=');
      if (eq <= 0) {
        problems.push({ file: source, line: startLine + k, message: `not Key=value: ${l.slice(0, 80)}` });
        return;
      }
      const key = l.slice(0, eq);
      const v = l.slice(eq + 1);
      u.props[key] = v;
      if (key === 'ExecStart' || key === 'ExecStartEx') {
        if (v === '') return;
        const e = parseShowExec(v);
        if (e) u.execStart.push(e);
        else
          problems.push({
            file: source,
            line: startLine + k,
            message: `${key}= not in systemd's "{ path=... ; argv[]=... }" form: ${v.slice(0, 80)}`,
          });
      } else if (key === 'EnvironmentFiles') {
        const m = /^(.*?) \(ignore_errors=(yes|no)\)$/.exec(v);
        if (m) u.environmentFiles.push({ path: m[1]!, optional: m[2] === 'yes' });
        else if (v) u.environmentFiles.push({ path: v, optional: false });
      } else if (key === 'Environment') u.environment = splitQuotedList(v);
      else if (key === 'DropInPaths') u.dropInPaths = splitQuotedList(v);
    });
    const p = u.props;
    const set = <K extends keyof UnitShow>(k: K, v: UnitShow[K] | undefined) => {
      if (v !== undefined && v !== '') u[k] = v;
    };
    set('id', p.Id);
    set('activeState', p.ActiveState);
    set('subState', p.SubState);
    set('unitFileState', p.UnitFileState);
    set('result', p.Result);
    set('restart', p.Restart);
    set('type', p.Type);
    set('nRestarts', num(p.NRestarts));
    set('mainPID', num(p.MainPID));
    set('controlGroup', p.ControlGroup);
    set('fragmentPath', p.FragmentPath);
    set('memoryCurrent', num(p.MemoryCurrent));
    units.push(u);
  }
  return { value: units, problems };
}
