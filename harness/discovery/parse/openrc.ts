// An OpenRC service's command line, as openrc-run builds it: it sources /etc/conf.d/<name> first,
// then the init script (sh/openrc-run.sh), so the script's plain assignments win over conf.d and
// conf.d reaches the command through the variables the script reads (command_args="${X_OPTS}",
// ": ${command_args:=...}"). The default start() then runs
//   start-stop-daemon: eval ... --exec $command -- $command_args $command_args_background
//   supervise-daemon:  eval ... $command -- $command_args $command_args_foreground
// so command_args is re-read as shell words (its quotes count). This is a small evaluator of the
// shell subset init scripts use for that: assignments (also several per line, "export"), quoting,
// ${var}, ${var:-x}, ${var:=x}, ${var:+x}, ": ${var:=x}", functions skipped; anything else (if,
// case, command substitution, sourcing) is reported as not evaluated.
import { type Parsed, Problems } from './problem.ts';

export interface ShellFile {
  path: string;
  text: string;
}

export interface OpenrcService {
  name: string;
  command?: string;
  /** argv the supervisor starts: command first. */
  argv: string[];
  /** "supervise-daemon" (restarts the daemon), "s6", or undefined (start-stop-daemon). */
  supervisor?: string;
  /** supervise-daemon restarts a dead daemon: OpenRC's Restart=. */
  respawn: boolean;
  outputLog?: string;
  errorLog?: string;
  pidfile?: string;
  /** The script defines its own start(): the argv above is what the default start() would run. */
  customStart: boolean;
  /** Every variable after both files were read. */
  vars: Record<string, string>;
}

class Shell {
  readonly vars = new Map<string, string>();
  readonly p: Problems;
  file = '';
  line = 1;

  constructor(p: Problems) {
    this.p = p;
  }

  expandParam(inner: string): string {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=+?])(.*))?$/s.exec(inner);
    if (!m) {
      if (/^#[A-Za-z_]/.test(inner)) return String((this.vars.get(inner.slice(1)) ?? '').length);
      this.p.add(`\${${inner}} is not evaluated here`, this.line, this.file);
      return '';
    }
    const [, name, op, word = ''] = m as unknown as [string, string, string | undefined, string | undefined];
    const v = this.vars.get(name);
    const colon = op?.startsWith(':') ?? false;
    const unset = v === undefined || (colon && v === '');
    switch (op?.replace(':', '')) {
      case undefined:
        return v ?? '';
      case '-':
        return unset ? this.expandWordText(word) : v!;
      case '=': {
        if (!unset) return v!;
        const w = this.expandWordText(word);
        this.vars.set(name, w);
        return w;
      }
      case '+':
        return unset ? '' : this.expandWordText(word);
      case '?':
        return v ?? '';
    }
    return v ?? '';
  }

  /** Expands a word-text found inside ${x:-...} (quotes removed, no splitting). */
  expandWordText(s: string): string {
    return this.readWords(s, false)
      .map((w) => w.text)
      .join(' ');
  }

  /**
   * Shell words of s with expansions and quote removal. `split`: unquoted expansion results are
   * split at blanks (how eval reads "$command_args"); assignment values are not split.
   */
  readWords(s: string, split: boolean): { text: string; quotedAny: boolean }[] {
    const out: { text: string; quotedAny: boolean }[] = [];
    let cur = '';
    let has = false;
    let quotedAny = false;
    const flush = () => {
      if (has) out.push({ text: cur, quotedAny });
      cur = '';
      has = false;
      quotedAny = false;
    };
    const dollar = (i: number): { text: string; next: number } => {
      const n = s[i + 1];
      if (n === '{') {
        let depth = 0;
        let j = i + 1;
        for (; j < s.length; j++) {
          if (s[j] === '{') depth++;
          else if (s[j] === '}' && --depth === 0) break;
        }
        return { text: this.expandParam(s.slice(i + 2, j)), next: j + 1 };
      }
      if (n === '(' || n === undefined) {
        if (n === '(') {
          this.p.add('command substitution $(...) is not evaluated: taken as empty', this.line, this.file);
          let depth = 0;
          let j = i + 1;
          for (; j < s.length; j++) {
            if (s[j] === '(') depth++;
            else if (s[j] === ')' && --depth === 0) break;
          }
          return { text: '', next: j + 1 };
        }
        return { text: '$', next: i + 1 };
      }
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
      if (m) return { text: this.vars.get(m[0]) ?? '', next: i + 1 + m[0].length };
      if (/[0-9@*#?$!-]/.test(n)) return { text: '', next: i + 2 };
      return { text: '$', next: i + 1 };
    };
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c === ' ' || c === '\t' || c === '\n') {
        flush();
        i++;
        continue;
      }
      if (c === '\\') {
        if (s[i + 1] === '\n') i += 2;
        else {
          cur += s[i + 1] ?? '';
          has = true;
          i += 2;
        }
        continue;
      }
      if (c === "'") {
        const j = s.indexOf("'", i + 1);
        const end = j < 0 ? s.length : j;
        if (j < 0) this.p.add('unterminated single quote', this.line, this.file);
        cur += s.slice(i + 1, end);
        has = true;
        quotedAny = true;
        i = end + 1;
        continue;
      }
      if (c === '"') {
        has = true;
        quotedAny = true;
        i++;
        while (i < s.length && s[i] !== '"') {
          const d = s[i]!;
          if (d === '\\' && i + 1 < s.length) {
            const e = s[i + 1]!;
            if (e === '\n') i += 2;
            else if ('$`"\\'.includes(e)) {
              cur += e;
              i += 2;
            } else {
              cur += `\\${e}`;
              i += 2;
            }
            continue;
          }
          if (d === '$') {
            const r = dollar(i);
            cur += r.text;
            i = r.next;
            continue;
          }
          if (d === '`') {
            this.p.add('command substitution `...` is not evaluated: taken as empty', this.line, this.file);
            const j = s.indexOf('`', i + 1);
            i = j < 0 ? s.length : j + 1;
            continue;
          }
          cur += d;
          i++;
        }
        if (i >= s.length) this.p.add('unterminated double quote', this.line, this.file);
        i++;
        continue;
      }
      if (c === '$') {
        const r = dollar(i);
        i = r.next;
        if (split) {
          const parts = r.text.split(/[ \t\n]+/);
          parts.forEach((part, k) => {
            if (k > 0) flush();
            if (part !== '') {
              cur += part;
              has = true;
            }
          });
        } else {
          cur += r.text;
          has = true;
        }
        continue;
      }
      if (c === '`') {
        this.p.add('command substitution `...` is not evaluated: taken as empty', this.line, this.file);
        const j = s.indexOf('`', i + 1);
        i = j < 0 ? s.length : j + 1;
        continue;
      }
      cur += c;
      has = true;
      i++;
    }
    flush();
    return out;
  }
}

/** Splits a script into statements: text up to a newline or ";" outside quotes, continuations joined. */
function statements(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let cur = '';
  let start = 1;
  let line = 1;
  let q: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (q) {
      if (c === '\\' && q === '"' && i + 1 < text.length) {
        cur += c + text[++i];
        if (text[i] === '\n') line++;
        continue;
      }
      if (c === q) q = undefined;
      cur += c;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      i++;
      line++;
      cur += ' ';
      continue;
    }
    if (c === '#' && (cur === '' || /\s$/.test(cur))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    if (c === '\n' || c === ';') {
      if (cur.trim()) out.push({ text: cur.trim(), line: start });
      cur = '';
      start = line;
      continue;
    }
    if (!cur.trim()) start = line;
    cur += c;
  }
  if (cur.trim()) out.push({ text: cur.trim(), line: start });
  return out;
}

const ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)=/;

function run(sh: Shell, f: ShellFile, assigned: Set<string>, funcs: Set<string>): void {
  sh.file = f.path;
  const st = statements(f.text);
  let depth = 0;
  let block: 'function' | 'control' | undefined;
  for (const s of st) {
    sh.line = s.line;
    const t = s.text;
    if (block) {
      // Inside a function body or a control block: track braces / keywords only.
      if (block === 'function') {
        depth += (t.match(/(^|\s)\{(\s|$)/g) ?? []).length - (t.match(/(^|\s)\}(\s|$)|^\}$/g) ?? []).length;
        if (/^\}/.test(t) && depth <= 0) block = undefined;
      } else {
        if (/^(if|case|for|while|until)\b/.test(t)) depth++;
        if (/^(fi|esac|done)\b/.test(t) && --depth === 0) block = undefined;
      }
      continue;
    }
    const fn = /^(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)\s*(\{)?/.exec(t);
    if (fn) {
      funcs.add(fn[1]!);
      const rest = t.slice(fn[0].length);
      if (fn[2] && /\}\s*$/.test(rest)) continue; // one-line body
      block = 'function';
      depth = fn[2] ? 1 : 0;
      continue;
    }
    if (t === '{') {
      depth++;
      continue;
    }
    if (/^(if|case|for|while|until)\b/.test(t)) {
      sh.p.add(`"${t.slice(0, 60)}": conditional or loop not evaluated; assignments inside it are ignored`, s.line, f.path);
      block = 'control';
      depth = 1;
      continue;
    }
    let body = t.replace(/^export\s+/, '');
    if (/^:\s/.test(body)) {
      sh.readWords(body.slice(2), false);
      continue;
    }
    if (!ASSIGN.test(body)) {
      if (!/^(#!|set\s|depend\b|extra_(started_|stopped_)?commands=)/.test(body))
        sh.p.add(`"${body.slice(0, 60)}" is not evaluated`, s.line, f.path);
      continue;
    }
    // One or more assignments: name=word [name=word ...]
    while (body) {
      const m = ASSIGN.exec(body);
      if (!m) {
        sh.p.add(`"${body.slice(0, 60)}" after the assignments is not evaluated`, s.line, f.path);
        break;
      }
      const name = m[1]!;
      const { word, rest } = takeWord(body.slice(m[0].length));
      const value = sh
        .readWords(word, false)
        .map((w) => w.text)
        .join('');
      sh.vars.set(name, value);
      assigned.add(name);
      body = rest.trimStart();
    }
  }
}

/** One shell word (quotes kept) from the start of s; the rest after it. */
function takeWord(s: string): { word: string; rest: string } {
  let i = 0;
  let q: string | undefined;
  let braces = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '\\' && q === '"') i++;
      else if (c === q) q = undefined;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '{') braces++;
    else if (c === '}') braces--;
    else if ((c === ' ' || c === '\t') && braces <= 0) break;
  }
  return { word: s.slice(0, i), rest: s.slice(i) };
}

/**
 * The service started by an init script (/etc/init.d/<name>) with its /etc/conf.d/<name>.
 * `name` defaults to the script's file name (RC_SVCNAME).
 */
export function parseOpenrcService(init: ShellFile, confd?: ShellFile, opts: { name?: string } = {}): Parsed<OpenrcService> {
  const p = new Problems(init.path);
  const name = opts.name ?? init.path.slice(init.path.lastIndexOf('/') + 1);
  const sh = new Shell(p);
  sh.vars.set('RC_SVCNAME', name);
  sh.vars.set('SVCNAME', name);
  const fromConfd = new Set<string>();
  const fromInit = new Set<string>();
  const funcs = new Set<string>();
  if (!/^#!\s*\/(sbin|usr\/sbin|usr\/bin|bin)\/openrc-run/.test(init.text))
    p.add('no "#!/sbin/openrc-run" line: not an OpenRC service script');
  if (confd) run(sh, confd, fromConfd, new Set());
  const confdValues = new Map([...fromConfd].map((k) => [k, sh.vars.get(k)]));
  run(sh, init, fromInit, funcs);
  for (const k of fromConfd) {
    if (fromInit.has(k) && sh.vars.get(k) !== confdValues.get(k)) {
      p.add(`${confd!.path} sets ${k}, but ${init.path} assigns it again and wins (conf.d is read first)`);
    }
  }
  const v = (k: string) => sh.vars.get(k) || undefined;
  const supervisor = v('supervisor');
  const command = v('command');
  const extra = supervisor === 'supervise-daemon' ? 'command_args_foreground' : 'command_args_background';
  const argv: string[] = [];
  if (command) {
    sh.file = init.path;
    const cmdWords = sh.readWords(command, true).map((w) => w.text);
    const args = sh.readWords(`${sh.vars.get('command_args') ?? ''} ${sh.vars.get(extra) ?? ''}`, true).map((w) => w.text);
    argv.push(...cmdWords, ...args);
  } else if (!funcs.has('start')) p.add('no command= and no start(): OpenRC has nothing to start');
  if (supervisor && !['supervise-daemon', 's6', 'start-stop-daemon'].includes(supervisor))
    p.add(`supervisor=${supervisor} is not one OpenRC knows: it falls back to start-stop-daemon`);
  const customStart = funcs.has('start');
  if (customStart) p.add('the script defines its own start(): what it runs may differ from command/command_args');
  const out: OpenrcService = {
    name,
    argv,
    respawn: supervisor === 'supervise-daemon',
    customStart,
    vars: Object.fromEntries(sh.vars),
    ...(command ? { command } : {}),
    ...(supervisor ? { supervisor } : {}),
    ...(v('output_log') ? { outputLog: v('output_log')! } : {}),
    ...(v('error_log') ? { errorLog: v('error_log')! } : {}),
    ...(v('pidfile') ? { pidfile: v('pidfile')! } : {}),
  };
  return { value: out, problems: p.list };
}
