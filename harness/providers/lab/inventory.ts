// `hardway lab inventory`: an inventory (docs/inventory.md) for a running lab, addressing it like
// any cluster hardway did not create: its hosts, SSH key and known_hosts, nothing lab-specific.
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { type Cluster, layoutOf } from '../../model/cluster.ts';
import type { LabState } from './lab.ts';

/** An inventory for the running lab: its hosts, key and known_hosts; nothing lab-specific. */
export function labInventory(state: LabState, c: Cluster): string {
  const nodes = state.hosts.filter((h) => h.role !== 'edge');
  const ssh = nodes[0]!.ssh;
  // A cluster hardway verifies as it finds it (live discovery): the kthw lab's inventory names no model.
  const withModel = layoutOf(c) === 'seed';
  const doc = {
    name: state.name,
    ...(withModel ? { cluster: resolve(state.config) } : {}),
    knownHosts: ssh.knownHostsPath,
    sshConfig: 'none',
    ...(c.ingress ? { domains: [...c.ingress.hosts, ...c.ingress.plainHosts] } : {}),
    ...(c.apiserver.staticToken ? { accept: ['security.static-token'] } : {}),
    ssh: { user: ssh.user, port: ssh.port, key: ssh.privateKeyPath },
    hosts: nodes.map((h) => ({ name: h.name, role: h.role, address: h.address })),
  };
  return `# Inventory of the running lab "${state.name}" (hardway lab inventory, ${new Date().toISOString()}).
# It addresses the lab like any cluster hardway did not create: over SSH with the lab's key and
# known_hosts only. See docs/inventory.md.
${c.apiserver.staticToken ? "# accept: the lab keeps the seed's static debugging token on purpose (apiserver.staticToken: true).\n" : ''}${stringify(doc, { lineWidth: 0 })}`;
}
