// What every provider that makes the lab's hosts shares (kind-style: one place, used by the
// containers provider in lab/ and the Vagrant provider in vagrant/): the hosts a model asks for
// (plus the edge), the lab's Docker network and its removal, the inotify limit of a shared kernel,
// and the shaping of fresh hosts into what the layout expects.
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { UserFacingError } from '../cli/errors.ts';
import { type Cluster, allHosts } from '../model/cluster.ts';
import { layoutFor } from '../layouts/index.ts';
import type { ProvisionedHost } from './provider.ts';
import { docker } from './lab/docker.ts';
import { LAB_LABEL } from './lab/node-container.ts';

export interface LabMember {
  name: string;
  role: ProvisionedHost['role'];
  address: string;
  init: 'systemd' | 'openrc';
}

/** The model's hosts and the edge host (always systemd), in the order the providers create them. */
export function labMembers(c: Cluster, edge: string): LabMember[] {
  return [
    ...allHosts(c).map((h) => ({ name: h.host, role: h.role, address: h.address, init: h.init })),
    { name: 'edge', role: 'edge', address: edge, init: 'systemd' },
  ];
}

/** The Docker network a lab's hosts live on, whichever provider made them. */
export const labNetworkName = (lab: string): string => `hardway-${lab}`;

/** The lab's Docker network (bridge, labelled with the lab), at the model's subnet. */
export async function createLabNetwork(lab: string, networkName: string, subnet: string, gateway: string): Promise<void> {
  const client = await docker();
  try {
    await client.network.create({
      Name: networkName,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { [LAB_LABEL]: lab },
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
    });
  } catch (e) {
    const msg = (e as Error).message;
    if (/overlap|Pool overlaps/i.test(msg)) {
      const nets = await client.container.dockerode.listNetworks();
      const other = nets.find((n) => n.IPAM?.Config?.some((cfg) => cfg.Subnet === subnet))?.Name;
      throw new UserFacingError(
        `the lab's address range ${subnet} is already taken${other ? ` by Docker network "${other}"` : ' on this machine'}; fix: remove it (docker network rm ${other ?? '<name>'}) or move the lab to other addresses in cluster.yaml`,
      );
    }
    throw e;
  }
}

/** Removes the lab's containers (labelled hardway.lab=<lab>, with their volumes) and its network, whoever created them. */
export async function removeLabDocker(lab: string, networkName: string, progress: (line: string) => void): Promise<void> {
  const d = (await docker()).container.dockerode;
  const containers = await d.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${lab}`] } });
  await Promise.all(
    containers.map(async (info) => {
      progress(`removing container ${info.Names[0]?.replace(/^\//, '')}`);
      await d
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch((e: Error) => {
          if (!/No such container|already in progress/.test(e.message)) throw e;
        });
    }),
  );
  const nets = await d.listNetworks({ filters: { name: [networkName] } });
  for (const n of nets.filter((x) => x.Name === networkName)) {
    progress(`removing network ${n.Name}`);
    await d
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
  }
}

const INOTIFY_MAX = '/proc/sys/fs/inotify/max_user_instances';
/** inotify instances one lab host takes at most (systemd, dbus, containerd, kubelet, ...; measured: 13 on a worker). */
const INOTIFY_PER_HOST = 16;

/**
 * Every systemd, containerd and kubelet of every lab node takes inotify instances from root's
 * limit, which Debian sets to 128: a lab of six workers next to another lab exhausts it and
 * kube-proxy fails with "too many open files". The limit is raised (not persistently) when the
 * hosts in use and the new ones would not fit. For hosts that share this machine's kernel
 * (containers), not VMs.
 */
export function ensureInotifyInstances(hosts: number, progress: (l: string) => void): void {
  let max: number;
  try {
    max = Number(readFileSync(INOTIFY_MAX, 'utf8').trim());
  } catch {
    return; // not Linux's procfs: nothing to check
  }
  let inUse = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify') inUse++;
    } catch {
      /* gone, or not ours to read */
    }
  }
  const need = inUse + hosts * INOTIFY_PER_HOST;
  if (need <= max) return;
  const want = Math.max(1024, need);
  try {
    writeFileSync(INOTIFY_MAX, `${want}\n`);
    progress(
      `fs.inotify.max_user_instances ${max} -> ${want}: ${inUse} in use and ${hosts} more lab hosts need about ${hosts * INOTIFY_PER_HOST} (until reboot; see docs/lab.md)`,
    );
  } catch (e) {
    throw new UserFacingError(
      `the lab's ${hosts} hosts need about ${need} inotify instances, the limit is ${max} (${(e as Error).message.split('\n')[0]}); fix: sysctl -w fs.inotify.max_user_instances=${want}`,
    );
  }
}

/** Runs a shell command on the i-th member as root: docker exec for containers, SSH for Vagrant's machines. */
export type HostExec = (m: { name: string }, i: number, command: string) => Promise<{ code: number; output: string }>;

/**
 * What the layout expects of a machine beyond a fresh host (layout.lab): /etc/hosts as a
 * Debian install writes it (KTHW's chapter 03 edits its 127.0.1.1 line), and the lab's edge as
 * the resolver (the outside world's DNS) instead of Docker's, which would forward to the internet.
 * In a container both files are Docker's bind mounts: written in place.
 */
export async function shapeHosts(
  cluster: Cluster,
  members: { name: string; role: ProvisionedHost['role'] }[],
  edge: string,
  exec: HostExec,
  progress: (l: string) => void,
): Promise<void> {
  const want = layoutFor(cluster).lab;
  if (!want.debianHosts && !want.edgeResolver) return;
  progress(
    `hosts: ${[want.debianHosts ? "Debian's /etc/hosts" : '', want.edgeResolver ? `resolver ${edge} (the edge)` : ''].filter(Boolean).join(', ')}`,
  );
  await Promise.all(
    members.map(async (m, i) => {
      if (m.role === 'edge') return;
      const cmds = [
        ...(want.debianHosts
          ? [
              `printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t${m.name}\\n\\n# The following lines are desirable for IPv6 capable hosts\\n::1     localhost ip6-localhost ip6-loopback\\nff02::1 ip6-allnodes\\nff02::2 ip6-allrouters\\n' > /etc/hosts`,
            ]
          : []),
        ...(want.edgeResolver ? [`printf 'nameserver ${edge}\\n' > /etc/resolv.conf`] : []),
      ];
      const r = await exec(m, i, cmds.join(' && '));
      if (r.code !== 0)
        throw new UserFacingError(`${m.name}: cannot set up /etc/hosts or /etc/resolv.conf (${r.output.trim().slice(0, 200)})`);
    }),
  );
}

/** A provider's up(): create the hosts; on any failure remove what was made, then rethrow. */
export async function createOrRemove<T>(
  create: () => Promise<T>,
  down: (progress: (line: string) => void) => Promise<void>,
  progress: (line: string) => void,
): Promise<T> {
  try {
    return await create();
  } catch (e) {
    progress('lab up failed: removing what was created');
    await down(progress).catch((d: Error) =>
      progress(
        `removing the lab failed too: ${d.message.split('\n')[0]}; fix: hardway lab down, then docker ps -a --filter label=hardway.lab`,
      ),
    );
    throw e;
  }
}
