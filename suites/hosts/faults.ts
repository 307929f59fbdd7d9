// Faults that prove the hosts suite: a unit that is not restarted when it dies (the seed's
// lesson), a component that does not start at boot, forwarding switched off.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Fault, onBothEnds } from '../../harness/faults/fault.ts';
import { restoreFile, start, systemdUnit } from '../../harness/faults/ops.ts';

export const hostsFaults: Fault[] = [
  {
    id: 'worker-units-missing',
    title: "the last worker's service definitions (systemd units, OpenRC scripts) left out of the tree (a host that runs nothing)",
    on: 'tree',
    expect: (r) => [
      { check: 'hosts.discovered', codes: ['host-without-components'] },
      { check: 'hosts.components', host: r.workers.at(-1), codes: ['component-missing'] },
    ],
    // Whichever init system the host has (the lab's last worker runs OpenRC).
    inject: async (env) => {
      for (const dir of ['etc/systemd/system', 'etc/init.d', 'etc/conf.d'])
        await rm(join(env.renderedDir, env.workers.at(-1)!, dir), { recursive: true, force: true });
    },
  },
  {
    id: 'unit-without-restart',
    title: "kube-scheduler's unit without Restart= (the seed's lesson)",
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'hosts.restart-policy', host: r.master, codes: ['no-restart-policy'] }],
    async inject(env) {
      await env.host(env.master).run(`sed -i '/^Restart=/d' ${systemdUnit('kube-scheduler')} && ${env.init(env.master).reload()}`);
    },
    async repair(env) {
      await restoreFile(env, env.master, systemdUnit('kube-scheduler'));
      await env.host(env.master).run(env.init(env.master).reload());
    },
  },
  ...onBothEnds({
    id: 'kube-proxy-not-enabled',
    title: 'kube-proxy of the last worker disabled at boot (it runs now, a reboot loses it)',
    on: 'lab',
    sharesHost: true, // the boot-time enablement only
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'hosts.services-enabled', host: r.workers.at(-1), codes: ['unit-not-enabled'] }],
    async inject(env) {
      await env.host(env.workers.at(-1)!).run(env.init(env.workers.at(-1)!).disable('kube-proxy'));
    },
    async repair(env) {
      await env.host(env.workers.at(-1)!).run(env.init(env.workers.at(-1)!).enable('kube-proxy'));
    },
  }),
  ...onBothEnds({
    id: 'kube-proxy-removed',
    title: 'kube-proxy stopped and disabled on the last worker (a worker without its proxy)',
    on: 'lab',
    layouts: ['seed', 'kthw'],
    expect: (r) => [{ check: 'hosts.components', host: r.workers.at(-1), codes: ['component-missing'] }],
    async inject(env) {
      const w = env.workers.at(-1)!;
      await env.host(w).run(`${env.init(w).disable('kube-proxy')} && ${env.init(w).stop('kube-proxy')}`);
    },
    async repair(env) {
      const w = env.workers.at(-1)!;
      await env.host(w).run(env.init(w).enable('kube-proxy'));
      await start(env, w, 'kube-proxy');
    },
  }),
  {
    id: 'ip-forward-off',
    title: 'net.ipv4.ip_forward switched off on the first worker',
    on: 'lab',
    // Not sharesHost: the CNI bridge plugin switches forwarding back on at every pod start on
    // the host, so a fault starting pods there would undo it.
    layouts: ['seed', 'kthw'],
    // On the lab's kernel, traffic between cni0 and flannel.1 kept flowing in the node's network
    // namespace with forwarding off, so pod pings still pass; the setting itself is what the
    // seed requires, and hosts.sysctl reports it.
    expect: (r) => [{ check: 'hosts.sysctl', host: r.workers[0], codes: ['sysctl-off'] }],
    inject: (env) =>
      env
        .host(env.workers[0]!)
        .run('sysctl -qw net.ipv4.ip_forward=0')
        .then(() => undefined),
    repair: (env) =>
      env
        .host(env.workers[0]!)
        .run('sysctl -qw net.ipv4.ip_forward=1')
        .then(() => undefined),
  },
];
