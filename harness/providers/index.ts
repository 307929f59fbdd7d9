// Picks the provider that makes the lab's hosts: containers (testcontainers, the default) or
// Vagrant VMs. A running lab remembers which one made it (its state), so down/status follow it.
import type { Cluster } from '../model/cluster.ts';
import { UsageError } from '../cli/errors.ts';
import type { Provider } from './provider.ts';
import { LabProvider, readLabState } from './lab/lab.ts';
import { VagrantProvider } from './vagrant/vagrant.ts';

export type ProviderKind = 'containers' | 'vagrant';

export function providerKind(value: string | undefined, cluster: Cluster): ProviderKind {
  if (value === undefined) return readLabState(cluster.name)?.network.startsWith('vagrant:') ? 'vagrant' : 'containers';
  if (value !== 'containers' && value !== 'vagrant') throw new UsageError(`--provider must be containers or vagrant, got "${value}"`);
  return value;
}

export function makeProvider(kind: ProviderKind, cluster: Cluster, configPath: string, opts: { modelYaml?: string } = {}): Provider {
  if (kind === 'vagrant' && opts.modelYaml !== undefined)
    throw new UsageError('--workers is for the containers provider (the Vagrant provider reads the model file as it is)');
  return kind === 'vagrant' ? new VagrantProvider(cluster, configPath) : new LabProvider(cluster, configPath, opts);
}
