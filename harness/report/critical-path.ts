// The chain of suites that decided how long a run took: from the suite that ended last, back
// along the prerequisite that ended last before it (a suite starts once its prerequisites' gates
// are done). Printed under the console summary and by the benchmark.
import type { ReportDocument } from './document.ts';

export function criticalPath(doc: ReportDocument, deps: Record<string, string[]>): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const by = new Map(doc.suites.map((s) => [s.name, s]));
  let cur = [...doc.suites].sort((a, b) => (b.endedMs ?? 0) - (a.endedMs ?? 0))[0];
  const chain: string[] = [];
  const seen = new Set<string>();
  while (cur && !seen.has(cur.name)) {
    seen.add(cur.name);
    chain.unshift(`${cur.name} ${secs((cur.endedMs ?? 0) - (cur.startedMs ?? 0))}`);
    cur = (deps[cur.name] ?? [])
      .map((d) => by.get(d))
      .filter((s) => !!s)
      .sort((a, b) => (b!.endedMs ?? 0) - (a!.endedMs ?? 0))[0];
  }
  return chain.join(' -> ');
}
