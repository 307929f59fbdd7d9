// Memory figures of a process or cgroup: a cgroup's memory.stat (v2 "anon"; v1 "total_rss",
// hierarchical, else "rss") and /proc/<pid>/status VmRSS (kB). Anonymous memory is what the
// component itself allocated; RSS also counts its mapped binary, the cgroup's usage its page cache.
import type { Parsed, ParseProblem } from '../discovery/parse/problem.ts';

export interface MemoryStat {
  values: Record<string, number>;
  /** Bytes of anonymous memory, and which key gave it. */
  anonBytes?: number;
  anonKey?: 'anon' | 'total_rss' | 'rss';
  cgroupVersion?: 1 | 2;
}

export function parseMemoryStat(text: string, source = 'memory.stat'): Parsed<MemoryStat> {
  const problems: ParseProblem[] = [];
  const values: Record<string, number> = {};
  text.split('\n').forEach((l, i) => {
    const t = l.trim();
    if (!t) return;
    const m = /^([a-z_0-9]+) (\d+)$/.exec(t);
    if (!m) problems.push({ file: source, line: i + 1, message: `not "key bytes": ${t.slice(0, 80)}` });
    else values[m[1]!] = Number(m[2]);
  });
  const v: MemoryStat = { values };
  const key = (['anon', 'total_rss', 'rss'] as const).find((k) => values[k] !== undefined);
  if (key) {
    v.anonKey = key;
    v.anonBytes = values[key]!;
    v.cgroupVersion = key === 'anon' ? 2 : 1;
  } else if (Object.keys(values).length)
    problems.push({ file: source, message: 'memory.stat has neither anon (cgroup v2) nor rss/total_rss (cgroup v1)' });
  else problems.push({ file: source, message: 'empty memory.stat' });
  return { value: v, problems };
}

export interface ProcStatus {
  name?: string;
  pid?: number;
  state?: string;
  vmRssBytes?: number;
  /** Kernel threads and zombies have no VmRSS. */
  fields: Record<string, string>;
}

export function parseProcStatus(text: string, source = '/proc/<pid>/status'): Parsed<ProcStatus> {
  const fields: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const i = l.indexOf(':');
    if (i > 0) fields[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  const problems: ParseProblem[] = [];
  if (!Object.keys(fields).length) problems.push({ file: source, message: 'empty or not a /proc status file' });
  const rss = /^(\d+) kB$/.exec(fields.VmRSS ?? '');
  return {
    value: {
      ...(fields.Name ? { name: fields.Name } : {}),
      ...(fields.Pid ? { pid: Number(fields.Pid) } : {}),
      ...(fields.State ? { state: fields.State } : {}),
      ...(rss ? { vmRssBytes: Number(rss[1]) * 1024 } : {}),
      fields,
    },
    problems,
  };
}
