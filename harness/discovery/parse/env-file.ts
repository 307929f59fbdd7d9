// systemd's EnvironmentFile= format (load_env_file): KEY=VALUE lines, "#" and ";" comments,
// single quotes literal, double quotes with backslash escapes of `"\$, a trailing backslash joins
// lines, unquoted values trimmed. A line that is not a valid assignment is ignored by systemd
// (here: a problem). No "export", no $VAR expansion: this is not a shell.
import { type Parsed, Problems } from './problem.ts';
import { isEnvName } from './systemd-words.ts';

export interface EnvAssignment {
  name: string;
  value: string;
  line: number;
}

const NEEDS_ESCAPE = '"\\`$';

export function parseEnvFile(text: string, file: string): Parsed<EnvAssignment[]> {
  const p = new Problems(file);
  const out: EnvAssignment[] = [];
  type State = 'preKey' | 'key' | 'preValue' | 'value' | 'valueEsc' | 'single' | 'double' | 'doubleEsc' | 'comment' | 'commentEsc';
  let state: State = 'preKey';
  let key = '';
  let value = '';
  let line = 1;
  let startLine = 1;
  // Index past the last non-blank character of an unquoted value (trailing blanks are cut).
  let valueEnd = -1;
  const push = () => {
    const k = key.trimEnd();
    if (!isEnvName(k)) p.add(`"${k}" is not a valid variable name: systemd ignores this assignment`, startLine);
    else out.push({ name: k, value, line: startLine });
    key = '';
    value = '';
  };
  for (const c of text) {
    const nl = c === '\n' || c === '\r';
    switch (state) {
      case 'preKey':
        if (c === '#' || c === ';') state = 'comment';
        else if (!/\s/.test(c)) {
          state = 'key';
          key = c;
          startLine = line;
        }
        break;
      case 'key':
        if (nl) {
          p.add(`"${key.trim()}" has no "=": ignored`, startLine);
          key = '';
          state = 'preKey';
        } else if (c === '=') {
          state = 'preValue';
          value = '';
        } else key += c;
        break;
      case 'preValue':
        if (nl) {
          push();
          state = 'preKey';
        } else if (c === "'") state = 'single';
        else if (c === '"') state = 'double';
        else if (c === '\\') state = 'valueEsc';
        else if (!/\s/.test(c)) {
          state = 'value';
          value += c;
          valueEnd = value.length;
        }
        break;
      case 'value':
        if (nl) {
          value = value.slice(0, valueEnd);
          push();
          state = 'preKey';
        } else if (c === '\\') state = 'valueEsc';
        else {
          value += c;
          if (!/\s/.test(c)) valueEnd = value.length;
        }
        break;
      case 'valueEsc':
        state = 'value';
        if (c !== '\n') {
          value += c;
          valueEnd = value.length;
        }
        break;
      case 'single':
        if (c === "'") state = 'preValue';
        else value += c;
        break;
      case 'double':
        if (c === '"') state = 'preValue';
        else if (c === '\\') state = 'doubleEsc';
        else value += c;
        break;
      case 'doubleEsc':
        state = 'double';
        if (NEEDS_ESCAPE.includes(c)) value += c;
        else if (c !== '\n') value += `\\${c}`;
        break;
      case 'comment':
        if (c === '\\') state = 'commentEsc';
        else if (nl) state = 'preKey';
        break;
      case 'commentEsc':
        state = nl ? 'preKey' : 'comment';
        break;
    }
    if (c === '\n') line++;
  }
  if (state === 'value' || state === 'valueEsc') {
    value = value.slice(0, valueEnd);
    push();
  } else if (state === 'preValue') push();
  else if (state === 'single' || state === 'double' || state === 'doubleEsc') {
    p.add('unterminated quote at the end of the file (systemd takes the value as read)', startLine);
    push();
  }
  return { value: out, problems: p.list };
}
