// The lab's spec for vagrant/Vagrantfile (checked in, never generated): what the Vagrantfile reads
// from HARDWAY_VAGRANT_SPEC. hardway writes it into the lab's folder before `vagrant up`.
import type { Cluster } from '../../model/cluster.ts';
import type { LabMember } from '../common.ts';
import { nodeDockerRunArgs } from '../lab/node-container.ts';
import { NODE_IMAGE_RECIPE } from '../lab/node-image.ts';

export type VagrantProviderName = 'docker' | 'libvirt' | 'virtualbox';

export interface VagrantSpecHost {
  name: string;
  address: string;
  init: 'systemd' | 'openrc';
  /** The node image of its init (docker provider; empty for the VM providers). */
  image: string;
  /** hardway's SSH host key for it (private; the public key is next to it, .pub). */
  hostKey: string;
}

export interface VagrantSpec {
  lab: string;
  /** The provider hardway runs vagrant with (the Vagrantfile checks what only VMs cannot do). */
  provider: VagrantProviderName;
  subnet: string;
  /** The lab's key: Vagrant logs in with it, as hardway does. */
  privateKey: string;
  /** root's authorized_keys (the lab's public key), a 0600 file. */
  authorizedKeys: string;
  docker: { network: string; createArgs: string[] };
  vm: { box: string; memoryMiB: number; cpus: number; packages: string[] };
  hosts: VagrantSpecHost[];
}

export interface SpecInputs {
  provider: VagrantProviderName;
  box: string;
  network: string;
  subnet: string;
  members: LabMember[];
  images: { systemd: string; openrc?: string };
  files: { privateKey: string; authorizedKeys: string; hostKey: (host: string) => string };
}

export function vagrantSpec(c: Cluster, i: SpecInputs): VagrantSpec {
  return {
    lab: c.name,
    provider: i.provider,
    subnet: i.subnet,
    privateKey: i.files.privateKey,
    authorizedKeys: i.files.authorizedKeys,
    docker: { network: i.network, createArgs: nodeDockerRunArgs() },
    vm: { box: i.box, memoryMiB: 2048, cpus: 2, packages: NODE_IMAGE_RECIPE.packages },
    hosts: i.members.map((m) => {
      const image = (m.init === 'openrc' ? i.images.openrc : i.images.systemd) ?? '';
      if (!image && i.provider === 'docker') throw new Error(`${m.name}: no node image for init ${m.init}`);
      return { name: m.name, address: m.address, init: m.init, image, hostKey: i.files.hostKey(m.name) };
    }),
  };
}
