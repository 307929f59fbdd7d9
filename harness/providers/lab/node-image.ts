// The lab's node image, kept as code (as kind does): a Debian root made by debootstrap with the
// packages a seed-style host needs, customized by customize.sh, imported into Docker without any
// registry. Tagged by a hash of this recipe, so it is built once and rebuilt when the recipe changes.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFacingError } from '../../cli/errors.ts';
import { docker } from './docker.ts';

const HERE = join(import.meta.dirname, 'node-image');

export const NODE_IMAGE_RECIPE = {
  // trixie: containerd 1.7 and etcd 3.5 (bookworm has 1.6 and 3.4); see docs/lab.md.
  suite: 'trixie',
  mirror: process.env.HARDWAY_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian',
  packages: [
    'systemd',
    'systemd-sysv',
    'dbus',
    'iproute2',
    'openssh-server',
    'kmod',
    'procps',
    'ca-certificates',
    'curl',
    // workers: the container runtime and pod networking
    'containerd',
    'runc',
    'containernetworking-plugins',
    'iptables',
    'conntrack',
    // the seed's debugging tools
    'iputils-ping',
    'bind9-dnsutils',
    // master: etcd (server and etcdctl)
    'etcd-server',
    'etcd-client',
    // the lab's edge host: Let's Encrypt's test ACME server
    'pebble',
  ],
};

/**
 * The OpenRC variant, for hosts of the model with init: openrc (the seed's node-2): sysvinit as
 * PID 1 running OpenRC (installed by customize-openrc.sh, which replaces sysv-rc), no systemd as init.
 * Built only when a model asks for such a host.
 */
export const OPENRC_IMAGE_RECIPE = {
  suite: NODE_IMAGE_RECIPE.suite,
  mirror: NODE_IMAGE_RECIPE.mirror,
  packages: [
    ...NODE_IMAGE_RECIPE.packages.filter((p) => !['systemd', 'systemd-sysv', 'dbus', 'pebble', 'etcd-server', 'etcd-client'].includes(p)),
    'sysvinit-core',
  ],
};

export type NodeInit = 'systemd' | 'openrc';
const VARIANTS: Record<NodeInit, { repo: string; recipe: typeof NODE_IMAGE_RECIPE; customize: string }> = {
  systemd: { repo: 'hardway-node', recipe: NODE_IMAGE_RECIPE, customize: 'customize.sh' },
  openrc: { repo: 'hardway-node-openrc', recipe: OPENRC_IMAGE_RECIPE, customize: 'customize-openrc.sh' },
};

export const ENTRYPOINT = '/usr/local/sbin/hardway-entrypoint';

function recipeHash(init: NodeInit): string {
  const v = VARIANTS[init];
  const h = createHash('sha256');
  h.update(JSON.stringify({ ...v.recipe, mirror: undefined }));
  for (const f of ['entrypoint.sh', v.customize]) h.update(readFileSync(join(HERE, f)));
  return h.digest('hex').slice(0, 12);
}

export function nodeImageName(init: NodeInit = 'systemd'): string {
  return `${VARIANTS[init].repo}:${recipeHash(init)}`;
}

/** Runs one build step. Ctrl-C (or SIGTERM) stops it at once: the lab command's own handler only
 * removes the lab, and a debootstrap left running would go on for a minute after the user left. */
function run(cmd: string, args: string[], log: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a stop reaches debootstrap's chroot and dpkg children too.
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stop = () => {
      try {
        process.kill(-p.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    const release = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    p.on('error', release);
    p.on('close', release);
    const keep = (d: Buffer) => {
      log.push(d.toString());
      if (log.length > 200) log.shift();
    };
    p.stdout.on('data', keep);
    p.stderr.on('data', keep);
    p.on('error', (e) =>
      reject(new UserFacingError(`${cmd} cannot run (${e.message}); fix: apt-get install ${cmd === 'debootstrap' ? 'debootstrap' : cmd}`)),
    );
    p.on('close', (code) => resolve(code ?? 1));
  });
}

/** Builds the node image unless an image of the same recipe exists. */
export async function ensureNodeImage(progress: (line: string) => void, init: NodeInit = 'systemd'): Promise<string> {
  const name = nodeImageName(init);
  const { recipe, customize } = VARIANTS[init];
  const client = await docker();
  const exists = await client.container.dockerode
    .getImage(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (exists) {
    progress(`node image ${name}: cached`);
    return name;
  }
  if (process.getuid?.() !== 0) throw new UserFacingError('building the lab node image needs root (debootstrap, chroot); fix: run as root');
  const root = mkdtempSync(join(process.env.HARDWAY_BUILD_TMP ?? tmpdir(), 'hardway-rootfs-'));
  const log: string[] = [];
  try {
    const t0 = Date.now();
    progress(`node image ${name}: debootstrap ${recipe.suite} (${recipe.packages.length} packages, about a minute)`);
    const code = await run(
      'debootstrap',
      ['--variant=minbase', `--include=${recipe.packages.join(',')}`, recipe.suite, root, recipe.mirror],
      log,
    );
    if (code !== 0) {
      throw new UserFacingError(
        `debootstrap failed (exit ${code}): ${log.join('').trim().split('\n').slice(-3).join(' | ')}; fix: check that ${recipe.mirror} is reachable`,
      );
    }
    progress(`node image ${name}: customizing`);
    rmSync(join(root, 'usr/local/sbin/hardway-entrypoint'), { force: true });
    await run('install', ['-m', '0755', join(HERE, 'entrypoint.sh'), join(root, 'usr/local/sbin/hardway-entrypoint')], log);
    await run('install', ['-m', '0755', join(HERE, customize), join(root, 'tmp/customize.sh')], log);
    // The OpenRC variant installs a package in the chroot: it needs the build machine's resolver.
    const resolv = join(root, 'etc/resolv.conf');
    const keptResolv = init === 'openrc' ? readFileSync(resolv) : undefined;
    if (keptResolv) copyFileSync('/etc/resolv.conf', resolv);
    const customized = await run('chroot', [root, '/tmp/customize.sh'], log);
    if (keptResolv) writeFileSync(resolv, keptResolv);
    if (customized !== 0) {
      throw new UserFacingError(`customizing the node image failed: ${log.join('').trim().split('\n').slice(-3).join(' | ')}`);
    }
    rmSync(join(root, 'tmp/customize.sh'));
    progress(`node image ${name}: importing into Docker`);
    await importRootfs(root, name);
    progress(`node image ${name}: built in ${Math.round((Date.now() - t0) / 1000)} s`);
    return name;
  } finally {
    // debootstrap mounts /proc (and more) inside the root while it works; a stopped one leaves
    // them, and removing the tree through them would fail (or worse): unmount first.
    unmountUnder(root);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Unmounts every mount at or below `root`, deepest first (lazily: a dying step may still hold one). */
function unmountUnder(root: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === root || m.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

async function importRootfs(root: string, name: string): Promise<void> {
  const client = await docker();
  const [repo, tag] = name.split(':') as [string, string];
  const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stream = await client.container.dockerode.importImage(tar.stdout, { repo, tag });
  await new Promise<void>((resolve, reject) => {
    client.container.dockerode.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

/**
 * The node images a lab needs, built at once on a cold machine (downloads and dpkg overlap): the
 * systemd image always (the edge host runs it), the OpenRC one when a host has init: openrc. Both
 * builds end (and clean up their roots) before a failure is thrown: nothing keeps building after
 * the lab is removed.
 */
export async function ensureNodeImages(progress: (line: string) => void, openrc: boolean): Promise<{ systemd: string; openrc?: string }> {
  const [systemd, other] = await Promise.allSettled([
    ensureNodeImage(progress),
    openrc ? ensureNodeImage(progress, 'openrc') : Promise.resolve(undefined),
  ]);
  for (const r of [systemd, other]) if (r.status === 'rejected') throw r.reason;
  const o = (other as PromiseFulfilledResult<string | undefined>).value;
  return { systemd: (systemd as PromiseFulfilledResult<string>).value, ...(o ? { openrc: o } : {}) };
}
