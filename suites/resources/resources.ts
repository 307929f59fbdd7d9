// The resources suite: each component's memory, judged by two rules (README: "resources"):
//   - over its budget (fixtures/budgets.yaml, the seed's measurements): a warning. The budget is
//     held against the anonymous memory of the unit's cgroup (memory.stat total_rss on cgroup v1,
//     anon on v2): what the component allocated, not the page cache nor its mapped binary.
//   - dangerous, a failure: the OOM killer struck inside a component's cgroup (memory.oom_control /
//     memory.events oom_kill: the counter lives as long as the unit's cgroup, which outlives
//     automatic restarts and systemctl restart; a stop removes it), or the host's available memory is below
//     what its components use together (they could not all start again).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import {
  type CheckContext,
  type Finding,
  type HostView,
  type Suite,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
} from '../../harness/verify/check.ts';

export const DEFAULT_BUDGETS = resolve(import.meta.dirname, '../../fixtures/budgets.yaml');

export function readBudgets(file: string): Record<string, number> {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(doc ?? {})) {
    if (typeof v !== 'number' || v <= 0) throw new Error(`${file}: ${k}: expected a positive number of MiB, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

export interface UnitMemory {
  unit: string;
  /** Anonymous memory of the unit's cgroup (or the main process's RSS), bytes; undefined: not running. */
  bytes?: number;
  /** systemd's MemoryCurrent (with page cache), bytes. */
  systemdBytes?: number;
  /** OOM kills inside the unit's cgroup since it was started; undefined when not measurable. */
  oomKills?: number;
}

export interface HostMemory {
  units: UnitMemory[];
  availableBytes?: number;
  totalBytes?: number;
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) && Number(s) < 2 ** 62 ? Number(s) : undefined);

/** Parses the measurement script's lines: `unit anon memcurrent rss oomkills` and `meminfo total avail`. */
export function parseMemory(out: string): HostMemory {
  const m: HostMemory = { units: [] };
  for (const line of out.trim().split('\n')) {
    const [u = '', a = '', b = '', c = '', d = ''] = line.trim().split(/\s+/);
    if (u === 'meminfo') {
      const total = num(a);
      const avail = num(b);
      if (total !== undefined) m.totalBytes = total * 1024;
      if (avail !== undefined) m.availableBytes = avail * 1024;
      continue;
    }
    if (!u) continue;
    const running = num(c) !== undefined;
    const bytes = !running ? undefined : (num(a) ?? num(c));
    m.units.push({
      unit: u,
      ...(bytes !== undefined ? { bytes } : {}),
      ...(num(b) !== undefined ? { systemdBytes: num(b)! } : {}),
      ...(num(d) !== undefined ? { oomKills: num(d)! } : {}),
    });
  }
  return m;
}

function script(h: HostView, units: string[]): string {
  // Every field is printed, "x" when absent, so that the columns never shift.
  const perUnit = units.map((u) =>
    h.init.kind === 'openrc'
      ? `p=$(pidof ${u} | cut -d' ' -f1); r=$(awk '/^RssAnon:/{print $2*1024}' /proc/$p/status 2>/dev/null); echo "${u} x x \${r:-x} x"`
      : `cg=$(systemctl show -p ControlGroup --value ${u} 2>/dev/null); ` +
        `a=$(cat /sys/fs/cgroup/memory$cg/memory.stat /sys/fs/cgroup$cg/memory.stat 2>/dev/null | awk '/^(total_rss|anon) /{print $2; exit}'); ` +
        `o=$(cat /sys/fs/cgroup/memory$cg/memory.oom_control /sys/fs/cgroup$cg/memory.events 2>/dev/null | awk '/^oom_kill /{print $2; exit}'); ` +
        `c=$(systemctl show -p MemoryCurrent --value ${u} 2>/dev/null | tr -dc 0-9); ` +
        `r=$(awk '/VmRSS/{print $2*1024}' /proc/$(systemctl show -p MainPID --value ${u} 2>/dev/null)/status 2>/dev/null); ` +
        `[ -n "$cg" ] || o=; echo "${u} \${a:-x} \${c:-x} \${r:-x} \${o:-x}"`,
  );
  return [
    ...perUnit,
    `echo "meminfo $(awk '/^MemTotal:/{print $2}' /proc/meminfo) $(awk '/^MemAvailable:/{print $2}' /proc/meminfo)"`,
  ].join('\n');
}

const MiB = 1048576;
const mib = (b: number) => (b / MiB).toFixed(0);

const memory = hostCheck({
  id: 'resources.memory',
  title: "each component's memory: no OOM kill, enough available memory; over the seed's budget warns",
  on: {},
  needs: ['live'],
  codes: {
    'oom-killed': 'the OOM killer struck in a component since it was started',
    'memory-exhausted': "the host's available memory is below what its components use",
    'over-budget': "a component uses more than the seed's budget (a warning)",
  },
  async run(ctx: CheckContext, h) {
    const budgets = readBudgets(ctx.options.budgetsFile ?? DEFAULT_BUDGETS);
    const comps = h.facts.components;
    if (!comps.length) return notApplicable(`discovery found no Kubernetes component on ${h.name}`);
    const units = comps.map((c) => c.unit);
    const kindOf = new Map(comps.map((c) => [c.unit, c.kind as string]));
    const r = await h.access.exec!(script(h, units), { timeoutMs: 20_000 });
    const m = parseMemory(r.stdout);
    const findings: Finding[] = [];
    const warnings: Finding[] = [];
    const notes: string[] = [];
    let examined = 0;
    let used = 0;
    for (const u of m.units) {
      if (u.oomKills) {
        findings.push({
          code: 'oom-killed',
          host: h.name,
          subject: u.unit,
          message: `the OOM killer killed ${u.oomKills} process${u.oomKills > 1 ? 'es' : ''} in its cgroup (it restarts, and loses its work, each time; the kernel counts for as long as the cgroup exists, restarts included)`,
          fix: `give ${h.name} more memory or lower what runs there; read the kernel log (${h.init.kind === 'openrc' ? 'dmesg' : 'journalctl -k'} | grep -i oom) and ${h.init.logsHint(u.unit)}; once fixed, the count goes with the cgroup: stop the unit, then start it (a restart keeps the cgroup)`,
        });
      }
      if (u.bytes === undefined) {
        notes.push(`${u.unit}: not running, no measurement`);
        continue;
      }
      examined++;
      used += u.bytes;
      const budget = budgets[kindOf.get(u.unit) ?? u.unit];
      notes.push(
        `${u.unit}: ${mib(u.bytes)} MiB${budget ? ` of ${budget}` : ''}${u.systemdBytes !== undefined ? ` (systemd: ${mib(u.systemdBytes)} MiB with page cache)` : ''}`,
      );
      if (budget && u.bytes > budget * MiB) {
        warnings.push({
          code: 'over-budget',
          host: h.name,
          subject: u.unit,
          message: `uses ${mib(u.bytes)} MiB, over its budget of ${budget} MiB (the seed measured ${budget} MiB at most)`,
          fix: "plan the host's memory accordingly or raise the budget",
        });
      }
    }
    // OpenRC gives a service no cgroup of its own here, so the kernel's per-cgroup OOM counter
    // cannot be read: said, not passed over in silence (the main process's anonymous memory is
    // measured instead of the cgroup's).
    if (h.init.kind === 'openrc')
      notes.push(
        `${h.name} runs OpenRC: OOM kills are not counted per service (no per-service cgroup); memory is each main process's RssAnon`,
      );
    if (m.availableBytes !== undefined) {
      notes.push(`available ${mib(m.availableBytes)} MiB of ${mib(m.totalBytes ?? 0)} MiB; components use ${mib(used)} MiB`);
      if (examined && m.availableBytes < used) {
        findings.push({
          code: 'memory-exhausted',
          host: h.name,
          subject: '/proc/meminfo',
          message: `MemAvailable is ${mib(m.availableBytes)} MiB, less than the ${mib(used)} MiB its components use: after a restart they may not all fit, and the OOM killer is near`,
          fix: `add memory (or swap) to ${h.name}, or move work off it`,
        });
      }
    }
    if (!examined && !findings.length)
      return inconclusive(`no component of ${h.name} could be measured (${r.stderr.trim().slice(0, 120) || 'none is running'})`);
    return outcome(findings, examined, { notes, ...(warnings.length ? { warnings } : {}) });
  },
});

export const resourcesSuite: Suite = {
  name: 'resources',
  title: "Resources: OOM kills and available memory fail; memory over the seed's budgets warns",
  dependsOn: [],
  checks: [memory],
};
