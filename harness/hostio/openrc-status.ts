// OpenRC's answers: `rc-service X status` (" * status: started", also stopped, crashed, starting,
// stopping, inactive; colour codes possible), `rc-status [-a]` (services per runlevel:
// " kubelet   [  started  ]", supervise-daemon adds uptime and respawn count
// "[  started 01:02:03 (2) ]") and `rc-update show [-v]` (" kubelet | default boot").
import type { Parsed, ParseProblem } from '../discovery/parse/problem.ts';

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

/** The state word of `rc-service X status`, or undefined when the output has none. */
export function parseRcServiceStatus(output: string): string | undefined {
  return /status:\s*([a-z]+)/.exec(stripAnsi(output))?.[1];
}

export interface RcStatusEntry {
  service: string;
  runlevel: string;
  state: string;
  /** supervise-daemon: time since start and how often it was respawned. */
  uptime?: string;
  respawns?: number;
}

export function parseRcStatus(output: string, source = 'rc-status'): Parsed<RcStatusEntry[]> {
  const problems: ParseProblem[] = [];
  const out: RcStatusEntry[] = [];
  let runlevel = '';
  stripAnsi(output)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trimEnd();
      if (!line.trim()) return;
      // OpenRC's own messages (einfo/ewarn: " * Caching service dependencies ... [ ok ]" when
      // its dependency cache is stale) come before the table: not services.
      if (/^\s*\* /.test(line)) return;
      const rl = /^(?:Runlevel|Dynamic Runlevel):\s*(.+)$/.exec(line.trim());
      if (rl) {
        runlevel = rl[1]!.trim();
        return;
      }
      const m = /^\s*(\S+)\s+\[\s*([a-z]+)(?:\s+(\d[0-9:d ]*?)\s*(?:\((\d+)\))?)?\s*\]$/.exec(line);
      if (!m) {
        problems.push({ file: source, line: i + 1, message: `not a service line: ${line.slice(0, 100)}` });
        return;
      }
      out.push({ service: m[1]!, runlevel, state: m[2]!, ...(m[3] ? { uptime: m[3] } : {}), ...(m[4] ? { respawns: Number(m[4]) } : {}) });
    });
  return { value: out, problems };
}

/** `rc-update show [-v]`: service -> runlevels it is added to (empty: in none). */
export function parseRcUpdateShow(output: string, source = 'rc-update show'): Parsed<Record<string, string[]>> {
  const problems: ParseProblem[] = [];
  const out: Record<string, string[]> = {};
  stripAnsi(output)
    .split('\n')
    .forEach((raw, i) => {
      if (!raw.trim()) return;
      const m = /^\s*(\S+)\s*\|\s*(.*)$/.exec(raw);
      if (!m) problems.push({ file: source, line: i + 1, message: `not "service | runlevels": ${raw.slice(0, 100)}` });
      else out[m[1]!] = m[2]!.trim().split(/\s+/).filter(Boolean);
    });
  return { value: out, problems };
}
