// `conntrack -L [-d ADDR] [-p tcp]` lines: protocol name and number, timeout, a TCP state, the
// original tuple then the reply tuple (src= dst= sport= dport=, or type= code= id= for ICMP), and
// flags such as [ASSURED] or [UNREPLIED]. conntrack's summary line ("... flow entries have been
// shown.") goes to stderr but is skipped when mixed in.
import type { Parsed, ParseProblem } from '../discovery/parse/problem.ts';

export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP */
  type?: number;
  code?: number;
  id?: number;
}

export interface ConntrackEntry {
  proto: string;
  protoNum: number;
  timeout: number;
  state?: string;
  orig: Tuple;
  reply: Tuple;
  flags: string[];
  mark?: number;
  use?: number;
}

export function parseConntrack(output: string, source = 'conntrack -L'): Parsed<ConntrackEntry[]> {
  const problems: ParseProblem[] = [];
  const out: ConntrackEntry[] = [];
  output.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || /flow entries have been shown|^conntrack v/.test(line)) return;
    const words = line.split(/\s+/);
    const [proto, num, timeout] = words;
    if (!proto || !/^\d+$/.test(num ?? '') || !/^\d+$/.test(timeout ?? '')) {
      problems.push({ file: source, line: i + 1, message: `not a conntrack entry: ${line.slice(0, 100)}` });
      return;
    }
    const tuples: Partial<Record<string, string>>[] = [];
    const flags: string[] = [];
    let state: string | undefined;
    let mark: number | undefined;
    let use: number | undefined;
    for (const w of words.slice(3)) {
      const m = /^([a-z_]+)=(.*)$/.exec(w);
      if (/^\[.*\]$/.test(w)) flags.push(w.slice(1, -1));
      else if (!m) state = w;
      else if (m[1] === 'src') tuples.push({ src: m[2]! });
      else if (m[1] === 'mark') mark = Number(m[2]);
      else if (m[1] === 'use') use = Number(m[2]);
      else if (tuples.length) tuples[tuples.length - 1]![m[1]!] = m[2]!;
    }
    const tuple = (t: Partial<Record<string, string>> | undefined): Tuple | undefined => {
      if (!t?.src || !t.dst) return undefined;
      const num = (k: string) => (t[k] !== undefined ? { [k]: Number(t[k]) } : {});
      return { src: t.src, dst: t.dst, ...num('sport'), ...num('dport'), ...num('type'), ...num('code'), ...num('id') };
    };
    const orig = tuple(tuples[0]);
    const reply = tuple(tuples[1]);
    if (!orig || !reply) {
      problems.push({ file: source, line: i + 1, message: `conntrack entry without both tuples: ${line.slice(0, 100)}` });
      return;
    }
    out.push({
      proto,
      protoNum: Number(num),
      timeout: Number(timeout),
      ...(state ? { state } : {}),
      orig,
      reply,
      flags,
      ...(mark !== undefined ? { mark } : {}),
      ...(use !== undefined ? { use } : {}),
    });
  });
  return { value: out, problems };
}

/** Backends a ClusterIP was translated to: the reply source of entries whose original dst is it. */
export function natBackends(entries: readonly ConntrackEntry[], clusterIP: string): string[] {
  return [...new Set(entries.filter((e) => e.orig.dst === clusterIP && e.reply.src !== clusterIP).map((e) => e.reply.src))];
}
