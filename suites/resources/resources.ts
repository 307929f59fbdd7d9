// The resources suite: each component's memory against the budget file (fixtures/budgets.yaml,
// the seed's measurements), read the way the seed read it — from systemd (MemoryCurrent), or the
// main process's resident set where systemd does not account memory. Over budget is a warning.
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

async function memoryMiB(ctx: CheckContext, host: string, units: string[]): Promise<Map<string, number | undefined>> {
  const h = findHost(ctx.cluster, host)!;
  const script = units.map((u) => h.init === 'openrc'
    ? `p=$(pidof ${u} | cut -d' ' -f1); echo "${u} x $(awk '/VmRSS/{print $2*1024}' /proc/$p/status 2>/dev/null)"`
    : `echo "${u} $(systemctl show -p MemoryCurrent --value ${u} 2>/dev/null) $(awk '/VmRSS/{print $2*1024}' /proc/$(systemctl show -p MainPID --value ${u} 2>/dev/null)/status 2>/dev/null)"`).join('\n');
  const r = await ctx.target.host(host).exec!(script, { timeoutMs: 20_000 });
  const out = new Map<string, number | undefined>();
  for (const line of r.stdout.trim().split('\n')) {
    const [u = '', cur = '', rss = ''] = line.split(' ');
    const bytes = /^\d+$/.test(cur) && Number(cur) < 2 ** 62 ? Number(cur) : /^\d+$/.test(rss) ? Number(rss) : undefined;
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
    const mem = await memoryMiB(ctx, host!, units);
    const warnings: string[] = [];
    const notes: string[] = [];
    for (const u of units) {
      const used = mem.get(u);
      const budget = budgets[u];
      if (used === undefined) {
        notes.push(`${u}: not running, no measurement`);
        continue;
      }
      notes.push(`${u}: ${used.toFixed(0)} MiB${budget ? ` of ${budget}` : ''}`);
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
