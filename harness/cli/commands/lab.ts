import { spawnSync } from 'node:child_process';
import type { BinarySource } from '../../binaries/binaries.ts';
import { readFileSync } from 'node:fs';
import { loadCluster, parseCluster } from '../../model/load.ts';
import { withWorkers } from '../../providers/lab/scale.ts';
import { labUp, type PhaseTimes } from '../../providers/lab/bring-up.ts';
import { readLabState } from '../../providers/lab/lab.ts';
import { labInventory } from '../../providers/lab/inventory.ts';
import { makeProvider, providerKind } from '../../providers/index.ts';
import type { Provider } from '../../providers/provider.ts';
import { type Cluster, allHosts, layoutOf } from '../../model/cluster.ts';
import { labConfigPath } from '../../providers/lab/lab-configs.ts';
import { SshSession } from '../../ssh/session.ts';
import { initSystem } from '../../system/init-system.ts';
import { DEFAULT_OPTIONS } from '../../verify/check.ts';
import { verify } from '../../verify/verify.ts';
import { type Command, parse } from '../command.ts';
import { UsageError, UserFacingError } from '../errors.ts';

const HELP = `Usage: hardway lab <up|down|status|ssh|logs|run|inventory> [options]

The lab: the seed's topology (master, node-1, node-2, plus an "edge" host playing the outside
world) as containers on a Docker network of its own (node-2 boots sysvinit + OpenRC, as the
seed's did; the others systemd), with a real cluster installed onto it over SSH by hardway's
installer.

  hardway lab up [--layout seed|kthw] [--config <cluster.yaml>] [--workers <n>] [--binaries build|download]
      create the hosts and install the cluster (removes leftovers of an earlier lab first);
      --workers n: the model's workers made n (more are named and addressed after the last one:
      node-3 10.240.0.23, ...); the lab keeps that model, so verify and inventory see all n
  hardway lab down [--config <cluster.yaml>]
      remove every container, volume and network of the lab, and its state
  hardway lab status [--config <cluster.yaml>]
      the lab's hosts and whether they run
  hardway lab ssh <host> [-- <command...>]
      with a command: run it on the host, print its output, exit with its exit code;
      without: an interactive shell (needs the ssh client)
  hardway lab logs <host> <unit> [--lines <n>]
      the service's log on that host (journalctl -u <unit>; OpenRC hosts: /var/log/<unit>.log)
  hardway lab inventory [--config <cluster.yaml>]
      print an inventory (docs/inventory.md) for the running lab, with its SSH key and known_hosts:
      hardway lab inventory > lab.yaml && hardway verify --target ./lab.yaml addresses the lab
      exactly as it would a cluster hardway did not create (read-only unless --active)
  hardway lab run [--keep] [--config <cluster.yaml>] [--binaries build|download]
      the main job (npm run lab): lab up, every suite, the report, then lab down unless --keep

--provider containers (default: the lab's node containers through testcontainers) or vagrant (real
vagrant up on vagrant/Vagrantfile; HARDWAY_VAGRANT_PROVIDER docker (default: the lab's node images
through Vagrant's docker provider, exercised in hardway's CI: lab-vagrant), libvirt or virtualbox
(VMs of the Debian box HARDWAY_VAGRANT_BOX, default debian/trixie64); see docs/vagrant.md). down and
status follow the provider that made the running lab.
--layout seed (default: fixtures/lab/cluster.yaml, lab "lab") or kthw (Kubernetes The Hard Way's
layout, fixtures/lab-kthw/cluster.yaml, lab "kthw": server, node-0, node-1; see docs/lab.md) picks the
lab for every subcommand; both can run at once. --config names another model (its layout: field
decides). --binaries defaults to build: Kubernetes, CoreDNS
and flannel are built from source through the Go module proxy and cached in ~/.cache/hardway/bin;
download fetches the official releases and checks their SHA-256 (needs internet access).
`;

function progress(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[${t}] ${line}\n`);
}

function printTimes(times: PhaseTimes): void {
  const s = Object.entries(times)
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`)
    .join(', ');
  progress(`phases: ${s}`);
}

/**
 * Removes the lab when the user presses Ctrl-C (or the process is terminated) mid-way. The work in
 * flight then fails on vanished containers; `settle` turns that into exit code 130 once the
 * removal is complete.
 */
function removeOnInterrupt(provider: Provider) {
  let cleanup: Promise<void> | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (cleanup) return;
    progress(`${sig}: removing the lab before exiting`);
    cleanup = provider
      .down(progress)
      .then(() => new Promise((r) => setTimeout(r, 2000)))
      .then(() => provider.down(() => undefined)) // containers still being created at the first pass
      .catch((e: Error) => progress(`removing the lab failed: ${e.message}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    release() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
    /** After the main work ended (ok or not): 130 when interrupted, once the lab is gone. */
    async settle(): Promise<number | undefined> {
      if (!cleanup) return undefined;
      await cleanup;
      progress('interrupted: the lab was removed');
      return 130;
    },
  };
}

function binarySource(v: string | undefined): BinarySource {
  const s = v ?? process.env.HARDWAY_BINARIES ?? 'build';
  if (s !== 'build' && s !== 'download') throw new UsageError(`--binaries must be build or download, got "${s}"`);
  return s;
}

async function session(lab: string, host: string) {
  const state = readLabState(lab);
  if (!state) throw new UserFacingError('no lab is running; fix: hardway lab up');
  const h = state.hosts.find((x) => x.name === host);
  if (!h) throw new UserFacingError(`the lab has no host "${host}"; hosts: ${state.hosts.map((x) => x.name).join(', ')}`);
  return { h, s: await SshSession.connect(h.ssh) };
}

export { labInventory } from '../../providers/lab/inventory.ts';

export const labCommand: Command = {
  name: 'lab',
  summary: "boot the seed's topology as containers (systemd and OpenRC) and install a real cluster onto it",
  help: HELP,
  async run(argv) {
    const dash = argv.indexOf('--');
    const args = dash >= 0 ? argv.slice(0, dash) : argv;
    const remote = dash >= 0 ? argv.slice(dash + 1) : [];
    const { values, positionals } = parse(
      'lab',
      args,
      {
        config: { type: 'string' },
        binaries: { type: 'string' },
        keep: { type: 'boolean' },
        provider: { type: 'string' },
        lines: { type: 'string' },
        layout: { type: 'string' },
        workers: { type: 'string' },
      },
      true,
    );
    const [sub, ...rest] = positionals;
    if (values.help || !sub) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    const chosen = labConfigPath(values.config, values.layout);
    const configPath = chosen.path;
    const cluster = () => {
      const c = loadCluster(configPath);
      if (chosen.layout && layoutOf(c) !== chosen.layout)
        throw new UsageError(
          `${configPath} is a ${layoutOf(c)}-layout model, not ${chosen.layout}; fix: drop --layout, or set layout: ${chosen.layout} in it`,
        );
      return c;
    };
    /** The model lab up and run install: the file's, or with --workers N its workers made N. */
    const labModel = (): { c: Cluster; modelYaml?: string } => {
      const c = cluster();
      if (values.workers === undefined) return { c };
      const n = Number(values.workers);
      const modelYaml = withWorkers(c, readFileSync(configPath, 'utf8'), n);
      return { c: parseCluster(modelYaml, `${configPath} (with ${n} workers)`), modelYaml };
    };
    switch (sub) {
      case 'up': {
        const { c, modelYaml } = labModel();
        const kind = providerKind(values.provider, c);
        const scaled = modelYaml !== undefined ? { modelYaml } : {};
        const interrupt = removeOnInterrupt(makeProvider(kind, c, configPath, scaled));
        try {
          printTimes(await labUp({ cluster: c, configPath, binaries: binarySource(values.binaries), provider: kind, progress, ...scaled }));
        } catch (e) {
          const code = await interrupt.settle();
          if (code !== undefined) return code;
          throw e;
        } finally {
          interrupt.release();
        }
        const flag = chosen.layout ? ` --layout ${chosen.layout}` : values.config ? ` --config ${values.config}` : '';
        progress(
          layoutOf(c) === 'kthw'
            ? `lab is up: hardway lab ssh${flag} ${c.masters[0]!.host} -- kubectl get nodes --kubeconfig admin.kubeconfig, hardway lab inventory${flag}, hardway lab down${flag}`
            : `lab is up: hardway verify --target ${c.name === 'lab' ? 'lab' : `lab:${c.name}`}, hardway lab ssh${flag} ${c.masters[0]!.host} -- kubectl get nodes, hardway lab down${flag}`,
        );
        return 0;
      }
      case 'down':
        await makeProvider(providerKind(values.provider, cluster()), cluster(), configPath).down(progress);
        progress('lab removed');
        return 0;
      case 'status': {
        const st = await makeProvider(providerKind(values.provider, cluster()), cluster(), configPath).status();
        if (!st.length) process.stdout.write('no lab containers\n');
        for (const h of st.sort((a, b) => a.name.localeCompare(b.name)))
          process.stdout.write(`${h.name.padEnd(8)} ${(h.address ?? '').padEnd(14)} ${h.state}\n`);
        return 0;
      }
      case 'ssh': {
        const host = rest[0];
        if (!host) throw new UsageError('hardway lab ssh: which host? (hardway lab ssh master -- kubectl get nodes)');
        if (remote.length === 0) {
          const state = readLabState(cluster().name);
          const h = state?.hosts.find((x) => x.name === host);
          if (!h) throw new UserFacingError(`no lab host "${host}"; fix: hardway lab up`);
          const r = spawnSync(
            'ssh',
            [
              '-i',
              h.ssh.privateKeyPath!,
              '-o',
              `UserKnownHostsFile=${h.ssh.knownHostsPath}`,
              '-o',
              'StrictHostKeyChecking=yes',
              `root@${h.address}`,
            ],
            { stdio: 'inherit' },
          );
          if (r.error)
            throw new UserFacingError(
              `the ssh client is not installed (apt-get install openssh-client); run a command instead: hardway lab ssh ${host} -- <command>`,
            );
          return r.status ?? 1;
        }
        const { s } = await session(cluster().name, host);
        try {
          const r = await s.exec(remote.join(' '));
          process.stdout.write(r.stdout);
          process.stderr.write(r.stderr);
          return r.code;
        } finally {
          s.close();
        }
      }
      case 'logs': {
        const [host, unit] = rest;
        if (!host || !unit) throw new UsageError('hardway lab logs <host> <unit> (e.g. hardway lab logs node-1 kubelet)');
        const n = Number(values.lines ?? 200);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--lines must be a positive integer, got "${values.lines}"`);
        const { s } = await session(cluster().name, host);
        try {
          // The host's own log: the journal on systemd, /var/log/<name>.log on OpenRC (node-2).
          const init = initSystem(allHosts(cluster()).find((h) => h.host === host)?.init ?? 'systemd');
          const safe = unit.replace(/[^\w@.-]/g, '');
          const r = await s.exec(`${init.logs(safe, n)} || { echo "no log of ${safe} on ${host} (${init.logsHint(safe)})" >&2; exit 1; }`);
          process.stdout.write(r.stdout);
          process.stderr.write(r.stderr);
          return r.code;
        } finally {
          s.close();
        }
      }
      case 'run': {
        const { c, modelYaml } = labModel();
        const kind = providerKind(values.provider, c);
        const scaled = modelYaml !== undefined ? { modelYaml } : {};
        const provider = makeProvider(kind, c, configPath, scaled);
        const interrupt = removeOnInterrupt(provider);
        try {
          printTimes(await labUp({ cluster: c, configPath, binaries: binarySource(values.binaries), provider: kind, progress, ...scaled }));
          progress('running every suite against the lab (hardway verify --target lab)');
          const { doc } = await verify({
            target: c.name === 'lab' ? 'lab' : `lab:${c.name}`,
            options: DEFAULT_OPTIONS,
            reporter: 'console',
          });
          return (await interrupt.settle()) ?? (doc.ok ? 0 : 1);
        } catch (e) {
          const code = await interrupt.settle();
          if (code !== undefined) return code;
          throw e;
        } finally {
          if (values.keep) progress('--keep: the lab stays up (hardway lab down removes it)');
          else {
            progress('removing the lab');
            await provider.down(progress);
          }
          interrupt.release();
        }
      }
      case 'inventory': {
        const state = readLabState(cluster().name);
        if (!state)
          throw new UserFacingError(
            `no running lab "${cluster().name}"; fix: hardway lab up${values.config ? ` --config ${values.config}` : ''}`,
          );
        process.stdout.write(labInventory(state, cluster()));
        return 0;
      }
      default:
        throw new UsageError(`hardway lab: unknown subcommand "${sub}" (up, down, status, ssh, logs, run, inventory)`);
    }
  },
};
