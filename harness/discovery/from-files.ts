// Facts from files held in memory ({ host: { path: content } }), read the way discovery reads a
// `dir:` tree: tests run checks against a layout's real units and configs without any host.
import type { HostAccess } from '../targets/target.ts';
import { discover } from './discover.ts';
import type { ClusterFacts } from './facts.ts';

export function memoryHost(host: string, files: Readonly<Record<string, string>>): HostAccess {
  return {
    host,
    readFile: async (p) => files[p],
    listFiles: async (dir) =>
      Object.keys(files)
        .filter((p) => p.startsWith(`${dir.replace(/\/+$/, '')}/`))
        .sort(),
  };
}

export function factsFromFiles(hosts: Readonly<Record<string, Readonly<Record<string, string>>>>): Promise<ClusterFacts> {
  return discover({ hosts: Object.keys(hosts), host: (n) => memoryHost(n, hosts[n] ?? {}) });
}

/** The files a `systemctl cat` output shows, by its "# /path" headers. */
export function filesOfSystemctlCat(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let path: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^# (\/\S+)$/.exec(line);
    if (m) {
      path = m[1]!;
      out[path] = '';
    } else if (path) out[path] += `${line}\n`;
  }
  return out;
}
