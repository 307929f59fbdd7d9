// One lab node: a container running real systemd and sshd on the lab network at a fixed address.
// A GenericContainer with the settings LAB-NOTES found to work without --privileged (this kernel's
// bounding set lacks CAP_SYS_RESOURCE) and its own cgroup namespace (see node-image/entrypoint.sh).
import { existsSync } from 'node:fs';
import { GenericContainer, Wait } from 'testcontainers';
import { ENTRYPOINT } from './node-image.ts';

export const LAB_LABEL = 'hardway.lab';
export const HOST_LABEL = 'hardway.host';

/**
 * How a lab node container runs, for both providers that make one: LabNodeContainer below (the
 * Docker API) and the Vagrant provider's docker machines (`docker run` flags, nodeDockerRunArgs).
 */
export const NODE_RUNTIME = {
  capAdd: ['ALL'],
  capDrop: ['SYS_RESOURCE'],
  securityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
  tmpfs: { '/run': 'rw,mode=755', '/run/lock': 'rw', '/tmp': 'rw' } as Record<string, string>,
  deviceCgroupRules: ['a *:* rmw'],
  // kubelet reads the kernel log for OOM events and refuses to start without /dev/kmsg.
  kmsg: '/dev/kmsg',
  cgroupns: 'private',
  // containerd's overlayfs snapshotter cannot sit on the container's own overlay root.
  volumes: ['/var/lib/containerd'],
};

/** NODE_RUNTIME as `docker run` flags; systempaths=unconfined is the API's empty MaskedPaths and ReadonlyPaths. */
export function nodeDockerRunArgs(): string[] {
  const r = NODE_RUNTIME;
  return [
    ...r.capAdd.flatMap((c) => ['--cap-add', c]),
    ...r.capDrop.flatMap((c) => ['--cap-drop', c]),
    ...[...r.securityOpt, 'systempaths=unconfined'].flatMap((o) => ['--security-opt', o]),
    ...Object.entries(r.tmpfs).flatMap(([path, opts]) => ['--tmpfs', `${path}:${opts}`]),
    ...r.deviceCgroupRules.flatMap((rule) => ['--device-cgroup-rule', rule]),
    ...(existsSync(r.kmsg) ? ['--device', `${r.kmsg}:${r.kmsg}:rwm`] : []),
    '--cgroupns',
    r.cgroupns,
    ...r.volumes.flatMap((v) => ['--volume', v]),
  ];
}

export class LabNodeContainer extends GenericContainer {
  constructor(
    image: string,
    opts: { lab: string; host: string; network: string; address: string; authorizedKey: string; init?: 'systemd' | 'openrc' },
  ) {
    super(image);
    const r = NODE_RUNTIME;
    this.withName(`hardway-${opts.lab}-${opts.host}`)
      .withHostname(opts.host)
      .withLabels({ [LAB_LABEL]: opts.lab, [HOST_LABEL]: opts.host })
      .withNetworkMode(opts.network)
      .withAddedCapabilities(...r.capAdd)
      .withDroppedCapabilities(...r.capDrop)
      .withSecurityOpt(...r.securityOpt)
      .withTmpFs(r.tmpfs)
      .withEntrypoint([ENTRYPOINT])
      .withCommand([])
      .withCopyContentToContainer([{ content: `${opts.authorizedKey}\n`, target: '/root/.ssh/authorized_keys', mode: 0o600 }])
      .withWaitStrategy(Wait.forSuccessfulCommand(opts.init === 'openrc' ? 'rc-service ssh status' : 'systemctl is-active ssh'))
      .withStartupTimeout(120_000);
    // What the fluent API does not cover: see LAB-NOTES ("systempaths=unconfined" through the API).
    this.hostConfig.MaskedPaths = [];
    this.hostConfig.ReadonlyPaths = [];
    this.hostConfig.DeviceCgroupRules = [...r.deviceCgroupRules];
    if (existsSync(r.kmsg)) this.hostConfig.Devices = [{ PathOnHost: r.kmsg, PathInContainer: r.kmsg, CgroupPermissions: 'rwm' }];
    (this.hostConfig as { CgroupnsMode?: string }).CgroupnsMode = r.cgroupns; // Docker API >= 1.41
    this.createOpts.Volumes = Object.fromEntries(r.volumes.map((v) => [v, {}]));
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [opts.network]: { IPAMConfig: { IPv4Address: opts.address } } } };
  }
}
