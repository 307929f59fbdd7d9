// A provider makes the hosts a cluster is installed onto (kind-style: one folder per provider).
// The installer and the suites only see ProvisionedHost: an address and an SSH endpoint.
import { appendFileSync } from 'node:fs';
import type { Role } from '../model/cluster.ts';
import type { SshEndpoint } from '../ssh/session.ts';

export interface ProvisionedHost {
  name: string;
  role: Role | 'edge';
  address: string;
  ssh: SshEndpoint;
}

export interface HostStatus {
  name: string;
  state: string;
  address?: string;
}

export interface Provider {
  readonly name: string;
  /** Creates every host (removing leftovers of an earlier run first) and returns them reachable over SSH. */
  up(progress: (line: string) => void): Promise<ProvisionedHost[]>;
  /** Removes everything the provider created; safe to call twice or after a crash. */
  down(progress: (line: string) => void): Promise<void>;
  status(): Promise<HostStatus[]>;
}

/** Shared by the providers: records a host's key (learned out of band, so that SSH checks it
 * strictly from the first connection) and gives the endpoint hardway reaches it by as root. */
export function learnedHost(
  m: { name: string; address: string },
  hostKey: { type: string; blob: string },
  files: { knownHosts: string; privateKey: string },
): SshEndpoint {
  appendFileSync(files.knownHosts, `${m.address} ${hostKey.type} ${hostKey.blob}\n`);
  return { name: m.name, host: m.address, port: 22, user: 'root', privateKeyPath: files.privateKey, knownHostsPath: files.knownHosts };
}
