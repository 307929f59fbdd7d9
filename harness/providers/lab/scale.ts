// A lab with another number of workers (`hardway lab up --workers N`): the model's own workers
// are kept (the first N of them), more are made after the last one's pattern (node-2 -> node-3,
// address .22 -> .23, the next free addresses of the lab's /24), and nothing else changes. The
// result is YAML (the model file with only `workers:` replaced, comments kept), so that the lab
// can keep it as its model: verify, inventory and faults then see the workers it really has.
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { Cluster } from '../../model/cluster.ts';
import { allHosts } from '../../model/cluster.ts';
import { UsageError } from '../../cli/errors.ts';

export const MAX_LAB_WORKERS = 50;

/** "node-2" -> "node-3"; a name without a trailing number gets "-<n>". */
function nextName(last: string, taken: Set<string>): string {
  const m = /^(.*?)(\d+)$/.exec(last);
  let n = m ? Number(m[2]) + 1 : 2;
  const stem = m ? m[1]! : `${last}-`;
  while (taken.has(`${stem}${n}`)) n++;
  return `${stem}${n}`;
}

function nextAddress(last: string, taken: Set<string>): string {
  const parts = last.split('.').map(Number);
  if (parts.length !== 4) throw new UsageError(`--workers needs IPv4 worker addresses to continue from, got ${last}`);
  for (let o = parts[3]! + 1; o <= 254; o++) {
    const a = `${parts[0]}.${parts[1]}.${parts[2]}.${o}`;
    if (!taken.has(a)) return a;
  }
  throw new UsageError(`--workers: no free address after ${last} in its /24; fix: fewer workers, or lower addresses in the model`);
}

/** The model's YAML with `n` workers. */
export function withWorkers(c: Cluster, yamlText: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_LAB_WORKERS)
    throw new UsageError(`--workers must be an integer from 1 to ${MAX_LAB_WORKERS}, got ${n}`);
  const doc = parseDocument(yamlText);
  const workers = doc.get('workers', true);
  if (!isSeq(workers)) throw new UsageError('--workers: the model has no workers list to continue');
  const names = new Set(allHosts(c).map((h) => h.host));
  const addresses = new Set(allHosts(c).map((h) => h.address));
  const items = workers.items.slice(0, n);
  const last = c.workers[Math.min(n, c.workers.length) - 1]!;
  let [name, address] = [last.host, last.address];
  for (let i = items.length; i < n; i++) {
    name = nextName(name, names);
    address = nextAddress(address, addresses);
    names.add(name);
    addresses.add(address);
    // A generated node registers under its host name (the default) and takes the lab's other defaults.
    const item = doc.createNode({ host: name, address }) as YAMLMap;
    item.flow = items.length > 0 && isMap(items[0]) && (items[0] as YAMLMap).flow === true;
    items.push(item);
  }
  workers.items = items;
  return doc.toString();
}
