// Discovery: the facts of every host, read once per run. Hosts are read in parallel, each in a few
// round trips (read-host.ts), then their components' files (components.ts) and the CNI config
// the container runtime uses.
import type { HostAccess } from '../targets/target.ts';
import { componentFacts } from './components.ts';
import type { ClusterFacts, HostFacts } from './facts.ts';
import { selectCniConfig } from './parse/cni.ts';
import { readDir, readHost } from './read-host.ts';

export interface DiscoverySource {
  /** Host names to read (the inventory's, the tree's folders). */
  hosts: string[];
  host(name: string): HostAccess;
}

export async function discoverHost(host: string, h: HostAccess): Promise<HostFacts> {
  const raw = await readHost(host, h);
  const problems = [...raw.problems];
  const components = await componentFacts(host, h, raw.services, problems);
  const facts: HostFacts = { host, init: raw.init, ...(raw.hostname ? { hostname: raw.hostname } : {}), components, problems };
  if (components.some((c) => c.kind === 'kubelet' || c.kind === 'containerd')) {
    const rt = components.find((c) => c.kind === 'containerd')?.containerd?.value;
    const confDir = rt?.cniConfDir ?? '/etc/cni/net.d';
    const sel = selectCniConfig(await readDir(h, confDir), confDir);
    problems.push(...sel.problems);
    facts.cni = { ...sel.value, confDir };
  }
  return facts;
}

export async function discover(src: DiscoverySource): Promise<ClusterFacts> {
  const hosts = await Promise.all(
    src.hosts.map(async (name) => {
      try {
        // Read again once: an SSH channel refused or a command timed out under load is not a
        // host without components.
        return await discoverHost(name, src.host(name)).catch(() => discoverHost(name, src.host(name)));
      } catch (e) {
        return {
          host: name,
          init: 'unknown' as const,
          components: [],
          problems: [{ file: name, message: `discovery could not read the host: ${(e as Error).message.split('\n')[0]}` }],
        };
      }
    }),
  );
  return { hosts };
}
