// The resources suite: each component's memory against the budget file (fixtures/budgets.yaml,
// the seed's measurements). The seed read systemd's figures; those include the page cache
// (containerd's grows by every image it unpacks) and a process's RSS counts its mapped binary, so
// the budget is held against the anonymous memory of the unit's cgroup (memory.stat total_rss on
// cgroup v1, anon on v2): what the component itself allocated. Over budget is a warning.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { type Cluster, allHosts, findHost } from '../../harness/model/cluster.ts';
import { componentsFor } from '../../harness/model/components.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';

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

async function memoryMiB(ctx: CheckContext, host: string, units: string[], systemd: Map<string, number>): Promise<Map<string, number | undefined>> {
  const h = findHost(ctx.cluster, host)!;
  // One line per unit: name, anonymous bytes of its cgroup, systemd's MemoryCurrent, main PID's RSS.
  const script = units.map((u) => h.init === 'openrc'
    ? `p=$(pidof ${u} | cut -d' ' -f1); echo "${u} x x $(awk '/VmRSS/{print $2*1024}' /proc/$p/status 2>/dev/null)"`
    : `cg=$(systemctl show -p ControlGroup --value ${u} 2>/dev/null); a=$(cat /sys/fs/cgroup/memory$cg/memory.stat /sys/fs/cgroup$cg/memory.stat 2>/dev/null | awk '/^(total_rss|anon) /{print $2; exit}'); ` +
      `echo "${u} \${a:-x} $(systemctl show -p MemoryCurrent --value ${u} 2>/dev/null) $(awk '/VmRSS/{print $2*1024}' /proc/$(systemctl show -p MainPID --value ${u} 2>/dev/null)/status 2>/dev/null)"`).join('\n');
  const r = await ctx.target.host(host).exec!(script, { timeoutMs: 20_000 });
  const out = new Map<string, number | undefined>();
  const num = (s: string) => (/^\d+$/.test(s) && Number(s) < 2 ** 62 ? Number(s) : undefined);
  for (const line of r.stdout.trim().split('\n')) {
    const [u = '', anon = '', cur = '', rss = ''] = line.split(' ');
    const running = num(rss) !== undefined;
    if (num(cur) !== undefined) systemd.set(u, num(cur)! / 1048576);
    const bytes = !running ? undefined : num(anon) ?? num(rss);
    out.set(u, bytes !== undefined ? bytes / 1048576 : undefined);
  }
  return out;
}

const memory: Check = {
  id: 'resources.memory',
  title: 'each component\'s memory against its budget (the seed\'s measurements); over budget warns',
  hosts: (c: Cluster) => allHosts(c).map((h) => h.host),
  live: true,
  async run(ctx, host) {
    const budgets = readBudgets(ctx.options.budgetsFile ?? DEFAULT_BUDGETS);
    const h = findHost(ctx.cluster, host!)!;
    const units = componentsFor(h.role).map((c) => c.name);
    const systemd = new Map<string, number>();
    const mem = await memoryMiB(ctx, host!, units, systemd);
    const warnings: string[] = [];
    const notes: string[] = [];
    for (const u of units) {
      const used = mem.get(u);
      const budget = budgets[u];
      if (used === undefined) {
        notes.push(`${u}: not running, no measurement`);
        continue;
      }
      const sd = systemd.get(u);
      notes.push(`${u}: ${used.toFixed(0)} MiB${budget ? ` of ${budget}` : ''}${sd !== undefined ? ` (systemd: ${sd.toFixed(0)} MiB with page cache)` : ''}`);
      if (budget && used > budget) warnings.push(`${host}: ${u} uses ${used.toFixed(0)} MiB, over its budget of ${budget} MiB (the seed measured ${budget} MiB at most); plan the host's memory accordingly or raise the budget`);
    }
    return { problems: [], warnings, notes };
  },
};

export const resourcesSuite: Suite = {
  name: 'resources',
  title: 'Resources: memory per component against the seed\'s budgets (warnings only)',
  dependsOn: [],
  checks: [memory],
};
