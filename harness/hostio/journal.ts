// Log tails and the kernel's OOM-kill evidence. `journalctl -o cat` / `tail` output is trimmed to
// its last non-empty lines, each cut to a width, for diagnoses. OOM kills show in the kernel log
// (`journalctl -k`, `dmesg`): "Out of memory: Killed process PID (NAME) ..." (global),
// "Memory cgroup out of memory: Killed process PID (NAME) ...", and since 4.19 the one-line summary
// "oom-kill:constraint=...,oom_memcg=...,task_memcg=...,task=NAME,pid=PID,uid=UID"; systemd then
// records Result=oom-kill on the unit (systemctl show -p Result,NRestarts).
import type { UnitShow } from './systemctl-show.ts';

/** The last `n` non-empty lines, each at most `width` characters. */
export function tailLines(output: string, n = 3, width = 200): string[] {
  const lines = output
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  return lines.slice(-n).map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

export interface OomKill {
  pid: number;
  process: string;
  /** "global" (the host ran out) or "cgroup" (a memory limit). */
  scope: 'global' | 'cgroup';
  /** The cgroup of the killed task, from the oom-kill: line ("/system.slice/kubelet.service"). */
  taskCgroup?: string;
  /** anon-rss at the kill, bytes. */
  anonRssBytes?: number;
  /** The line as logged (timestamp prefix included). */
  line: string;
}

/** Every OOM kill in a kernel log; the "Killed process" and "oom-kill:" lines of one kill merge. */
export function parseOomKills(log: string): OomKill[] {
  const out: OomKill[] = [];
  const byPid = new Map<number, OomKill>();
  for (const line of log.split('\n')) {
    const killed = /(Memory cgroup out of memory|Out of memory)[^:]*: Killed process (\d+) \(([^)]*)\)(.*)$/.exec(line);
    if (killed) {
      const pid = Number(killed[2]);
      const anon = /anon-rss:(\d+)kB/.exec(killed[4]!);
      const k: OomKill = byPid.get(pid) ?? {
        pid,
        process: killed[3]!,
        scope: killed[1]!.startsWith('Memory cgroup') ? 'cgroup' : 'global',
        line,
      };
      k.process = killed[3]!;
      k.scope = killed[1]!.startsWith('Memory cgroup') ? 'cgroup' : 'global';
      if (anon) k.anonRssBytes = Number(anon[1]) * 1024;
      if (!byPid.has(pid)) {
        byPid.set(pid, k);
        out.push(k);
      }
      continue;
    }
    const summary = /oom-kill:(\S+)/.exec(line);
    if (summary) {
      const f = Object.fromEntries(
        summary[1]!.split(',').map((kv) => {
          const i = kv.indexOf('=');
          return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
        }),
      );
      const pid = Number(f.pid);
      if (!Number.isFinite(pid)) continue;
      const k = byPid.get(pid) ?? { pid, process: f.task ?? '', scope: f.constraint === 'CONSTRAINT_MEMCG' ? 'cgroup' : 'global', line };
      if (f.task_memcg) k.taskCgroup = f.task_memcg;
      if (!byPid.has(pid)) {
        byPid.set(pid, k);
        out.push(k);
      }
    }
  }
  return out;
}

/** Kills of a unit's processes: by its cgroup when the log names it, else by process name. */
export function oomKillsOf(kills: readonly OomKill[], unit: { cgroup?: string; processName?: string }): OomKill[] {
  return kills.filter((k) =>
    unit.cgroup && k.taskCgroup
      ? k.taskCgroup === unit.cgroup || k.taskCgroup.startsWith(`${unit.cgroup}/`)
      : unit.processName !== undefined && k.process === unit.processName,
  );
}

/** systemd's own record: the last run ended by the OOM killer, and how often it was restarted. */
export function unitOomEvidence(u: UnitShow): { oomKilled: boolean; restarts?: number } {
  return { oomKilled: u.result === 'oom-kill', ...(u.nRestarts !== undefined ? { restarts: u.nRestarts } : {}) };
}
