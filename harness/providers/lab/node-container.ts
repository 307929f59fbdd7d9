// One lab node: a container running real systemd and sshd on the lab network at a fixed address.
// A GenericContainer with the settings LAB-NOTES found to work without --privileged (this kernel's
// bounding set lacks CAP_SYS_RESOURCE) and its own cgroup namespace (see node-image/entrypoint.sh).
import { existsSync } from 'node:fs';
import { GenericContainer, Wait } from 'testcontainers';
import { ENTRYPOINT } from './node-image.ts';

export const LAB_LABEL = 'hardway.lab';
export const HOST_LABEL = 'hardway.host';

export class LabNodeContainer extends GenericContainer {
  constructor(
    image: string,
    opts: { lab: string; host: string; network: string; address: string; authorizedKey: string; init?: 'systemd' | 'openrc' },
  ) {
    super(image);
    this.withName(`hardway-${opts.lab}-${opts.host}`)
      .withHostname(opts.host)
      .withLabels({ [LAB_LABEL]: opts.lab, [HOST_LABEL]: opts.host })
      .withNetworkMode(opts.network)
      .withAddedCapabilities('ALL')
      .withDroppedCapabilities('SYS_RESOURCE')
      .withSecurityOpt('seccomp=unconfined', 'apparmor=unconfined')
      .withTmpFs({ '/run': 'rw,mode=755', '/run/lock': 'rw', '/tmp': 'rw' })
      .withEntrypoint([ENTRYPOINT])
      .withCommand([])
      .withCopyContentToContainer([{ content: `${opts.authorizedKey}\n`, target: '/root/.ssh/authorized_keys', mode: 0o600 }])
      .withWaitStrategy(Wait.forSuccessfulCommand(opts.init === 'openrc' ? 'rc-service ssh status' : 'systemctl is-active ssh'))
      .withStartupTimeout(120_000);
    // What the fluent API does not cover: see LAB-NOTES ("systempaths=unconfined" through the API).
    this.hostConfig.MaskedPaths = [];
    this.hostConfig.ReadonlyPaths = [];
    this.hostConfig.DeviceCgroupRules = ['a *:* rmw'];
    // kubelet reads the kernel log for OOM events and refuses to start without /dev/kmsg.
    if (existsSync('/dev/kmsg'))
      this.hostConfig.Devices = [{ PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm' }];
    (this.hostConfig as { CgroupnsMode?: string }).CgroupnsMode = 'private'; // Docker API >= 1.41
    // containerd's overlayfs snapshotter cannot sit on the container's own overlay root.
    this.createOpts.Volumes = { '/var/lib/containerd': {} };
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [opts.network]: { IPAMConfig: { IPv4Address: opts.address } } } };
  }
}
