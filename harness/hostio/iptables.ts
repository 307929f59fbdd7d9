// `iptables -S [CHAIN]` / `iptables -t nat -S` (iptables-save syntax): "-P CHAIN POLICY",
// "-N CHAIN", "-A CHAIN <match...> -j TARGET". Arguments are quoted as iptables-save does it
// (double quotes, \" inside), which --comment "..." needs. iptables-nft's "# Warning: ..." lines are
// kept as warnings.
import type { Parsed, ParseProblem } from '../discovery/parse/problem.ts';

export interface IptablesRule {
  chain: string;
  /** Everything after "-A CHAIN", unquoted. */
  args: string[];
  target?: string;
  /** --comment text. */
  comment?: string;
  /** Option -> value for single-valued options: "-d" -> "10.32.0.1/32", "--dport" -> "443". */
  options: Record<string, string>;
  line: number;
}

export interface IptablesTable {
  policies: Record<string, string>;
  /** Chains in order of appearance (-P and -N). */
  chains: string[];
  rules: IptablesRule[];
  warnings: string[];
}

export function splitIptablesArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    let w = '';
    let q = false;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (q) {
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) w += s[++i];
        else if (c === '"') q = false;
        else w += c;
      } else if (c === '"') q = true;
      else if (c === ' ') break;
      else w += c;
    }
    out.push(w);
  }
  return out;
}

export function parseIptablesS(output: string, source = 'iptables -S'): Parsed<IptablesTable> {
  const problems: ParseProblem[] = [];
  const t: IptablesTable = { policies: {}, chains: [], rules: [], warnings: [] };
  output.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    if (line.startsWith('#')) {
      t.warnings.push(line.replace(/^#\s*/, ''));
      return;
    }
    const a = splitIptablesArgs(line);
    if (a[0] === '-P' && a[1] && a[2]) {
      t.policies[a[1]] = a[2];
      if (!t.chains.includes(a[1])) t.chains.push(a[1]);
    } else if (a[0] === '-N' && a[1]) {
      if (!t.chains.includes(a[1])) t.chains.push(a[1]);
    } else if (a[0] === '-A' && a[1]) {
      const args = a.slice(2);
      const options: Record<string, string> = {};
      let target: string | undefined;
      let comment: string | undefined;
      for (let k = 0; k < args.length; k++) {
        const o = args[k]!;
        const neg = o === '!';
        const name = neg ? args[++k] : o;
        if (!name?.startsWith('-')) continue;
        const v = args[k + 1];
        if (v === undefined || (v.startsWith('-') && !/^-\d/.test(v))) continue;
        k++;
        if (name === '-j' || name === '--jump') target = v;
        else if (name === '--comment') comment = v;
        else options[neg ? `!${name}` : name] = v;
      }
      t.rules.push({
        chain: a[1],
        args,
        ...(target ? { target } : {}),
        ...(comment !== undefined ? { comment } : {}),
        options,
        line: i + 1,
      });
    } else if (/^(iptables|ip6tables)[:\s]|No chain|doesn't exist|Permission denied|can't initialize/i.test(line)) {
      problems.push({ file: source, line: i + 1, message: line.slice(0, 160) });
    } else problems.push({ file: source, line: i + 1, message: `not iptables-save syntax: ${line.slice(0, 100)}` });
  });
  return { value: t, problems };
}

/** Rules of a chain, in order. */
export function rulesOf(t: IptablesTable, chain: string): IptablesRule[] {
  return t.rules.filter((r) => r.chain === chain);
}
