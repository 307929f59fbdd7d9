// A provider makes the hosts a cluster is installed onto (kind-style: one folder per provider).
// The installer and the suites only see ProvisionedHost: an address and an SSH endpoint.
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
