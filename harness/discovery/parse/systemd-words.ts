// systemd's own quoting rules for unit settings (systemd.syntax "Quoting", systemd.service
// "Command lines"): words split at whitespace, single and double quotes anywhere in a word,
// C-style escapes (\n, \t, \s, \x41, \101, \u263A ...), an unknown escape kept verbatim with a
// warning, unbalanced quotes refused. Also the "%" specifiers and "$VAR"/"${VAR}" expansion done at
// exec time (replace_env_argv), which follow their own, narrower rules.

export interface Word {
  text: string;
  /** The word as written, before unquoting: `;` separates commands only when written bare. */
  raw: string;
}

export interface SplitResult {
  words: Word[];
  /** Problems found (unbalanced quoting, unknown escapes); the words are systemd's best reading. */
  errors: string[];
}

const WS = ' \t\n\r';

function cunescapeOne(s: string, i: number): { text: string; len: number } | undefined {
  const c = s[i];
  const simple: Record<string, string> = {
    a: '\x07',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
    '"': '"',
    "'": "'",
    s: ' ',
  };
  if (c === undefined) return undefined;
  if (simple[c] !== undefined) return { text: simple[c], len: 1 };
  const hex = (n: number) =>
    /^[0-9a-fA-F]+$/.test(s.slice(i + 1, i + 1 + n)) && s.length >= i + 1 + n ? parseInt(s.slice(i + 1, i + 1 + n), 16) : undefined;
  if (c === 'x') {
    const v = hex(2);
    return v === undefined || v === 0 ? undefined : { text: String.fromCharCode(v), len: 3 };
  }
  if (c === 'u' || c === 'U') {
    const n = c === 'u' ? 4 : 8;
    const v = hex(n);
    return v === undefined || v === 0 || v > 0x10ffff ? undefined : { text: String.fromCodePoint(v), len: n + 1 };
  }
  if (/[0-7]/.test(c)) {
    const o = s.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(o)) return undefined;
    const v = parseInt(o, 8);
    return v === 0 || v > 255 ? undefined : { text: String.fromCharCode(v), len: 3 };
  }
  return undefined;
}

/**
 * extract_first_word() over a whole value. `cunescape`: C escapes (ExecStart=, Environment=);
 * without it a backslash just protects the next character (how "$VAR" values are re-split).
 * `relax`: unbalanced quotes end the word instead of failing.
 */
export function splitWords(s: string, opts: { cunescape?: boolean; relax?: boolean } = {}): SplitResult {
  const words: Word[] = [];
  const errors: string[] = [];
  const cunescape = opts.cunescape ?? true;
  let i = 0;
  while (i < s.length) {
    while (i < s.length && WS.includes(s[i]!)) i++;
    if (i >= s.length) break;
    const start = i;
    let text = '';
    let quote: string | undefined;
    let done = false;
    while (!done) {
      const c = s[i];
      if (c === undefined) {
        if (quote && !opts.relax) errors.push(`unbalanced quoting in ${JSON.stringify(s.slice(start))}`);
        break;
      }
      if (c === '\\') {
        const next = s[i + 1];
        if (next === undefined) {
          // A trailing backslash: systemd refuses the word; keep it verbatim and say so.
          errors.push(`trailing backslash in ${JSON.stringify(s.slice(start))}`);
          text += '\\';
          i++;
          continue;
        }
        if (cunescape) {
          const u = cunescapeOne(s, i + 1);
          if (u) {
            text += u.text;
            i += 1 + u.len;
          } else {
            errors.push(`unknown escape sequence \\${next} kept verbatim`);
            text += `\\${next}`;
            i += 2;
          }
        } else {
          text += next;
          i += 2;
        }
        continue;
      }
      if (quote) {
        if (c === quote) quote = undefined;
        else text += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (WS.includes(c)) {
        done = true;
        continue;
      }
      text += c;
      i++;
    }
    words.push({ text, raw: s.slice(start, i) });
  }
  return { words, errors };
}

/** What the "%" specifiers of a unit resolve to; the ones left unknown stay as written. */
export interface SpecifierContext {
  /** The unit's full name, "kubelet.service", "getty@tty1.service". */
  unitName?: string;
  hostname?: string;
}

function unescapeUnitName(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/-/g, '/');
}

/** Resolves %-specifiers (systemd.unit "Specifiers") that an offline reader can know. */
export function expandSpecifiers(value: string, ctx: SpecifierContext, errors: string[]): string {
  if (!value.includes('%')) return value;
  const full = ctx.unitName;
  const base = full?.replace(/\.[a-z]+$/, '');
  const at = base?.indexOf('@') ?? -1;
  const prefix = base && at >= 0 ? base.slice(0, at) : base;
  const instance = base && at >= 0 ? base.slice(at + 1) : undefined;
  const known: Record<string, string | undefined> = {
    '%': '%',
    n: full,
    N: base,
    p: prefix,
    P: prefix && unescapeUnitName(prefix),
    i: instance ?? '',
    I: instance !== undefined ? unescapeUnitName(instance) : '',
    j: prefix?.split('-').pop(),
    f: instance !== undefined ? `/${unescapeUnitName(instance)}` : prefix && `/${unescapeUnitName(prefix)}`,
    // The system manager's directories (a system unit: hardway reads only those).
    t: '/run',
    S: '/var/lib',
    C: '/var/cache',
    L: '/var/log',
    E: '/etc',
    T: '/tmp',
    V: '/var/tmp',
    h: '/root',
    u: 'root',
    U: '0',
    g: 'root',
    G: '0',
    s: '/bin/sh',
    H: ctx.hostname,
    l: ctx.hostname?.split('.')[0],
  };
  return value.replace(/%(.)/g, (m, c: string) => {
    const v = known[c];
    if (v === undefined) {
      errors.push(`specifier ${m} cannot be resolved here, kept as written`);
      return m;
    }
    return v;
  });
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(s: string): boolean {
  return ENV_NAME.test(s);
}

/**
 * systemd's replace_env() on one word: ${VAR}, ${VAR:-default}, ${VAR:+alternate}, "$$" for a
 * dollar; a "$" not followed by "{" stays as written (systemd only expands a bare $VAR when it is
 * a word of its own, see expandArgv).
 */
export function replaceEnv(word: string, env: ReadonlyMap<string, string>, unset: Set<string>): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const n = word[i + 1];
    if (n === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (n !== '{') {
      out += '$';
      i++;
      continue;
    }
    const close = matchingBrace(word, i + 1);
    if (close < 0) {
      out += word.slice(i);
      break;
    }
    const inner = word.slice(i + 2, close);
    const op = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(inner);
    if (!op) {
      out += word.slice(i, close + 1);
    } else {
      const [, name, kind, arg] = op as unknown as [string, string, string | undefined, string | undefined];
      const v = env.get(name);
      if (kind === '-') out += v ? v : replaceEnv(arg ?? '', env, unset);
      else if (kind === '+') out += v ? replaceEnv(arg ?? '', env, unset) : '';
      else {
        if (v === undefined) unset.add(name);
        out += v ?? '';
      }
    }
    i = close + 1;
  }
  return out;
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * replace_env_argv(): a word that is exactly "$VAR" becomes the variable's value split at
 * whitespace (quotes honoured, zero words when unset or empty); every other word gets replaceEnv.
 */
export function expandArgv(words: readonly string[], env: ReadonlyMap<string, string>): { argv: string[]; unset: string[] } {
  const argv: string[] = [];
  const unset = new Set<string>();
  for (const w of words) {
    if (w.startsWith('$') && !w.startsWith('${') && isEnvName(w.slice(1))) {
      const v = env.get(w.slice(1));
      if (v === undefined) unset.add(w.slice(1));
      else argv.push(...splitWords(v, { cunescape: false, relax: true }).words.map((x) => x.text));
      continue;
    }
    argv.push(replaceEnv(w, env, unset));
  }
  return { argv, unset: [...unset] };
}
