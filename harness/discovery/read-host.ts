// Reads what discovery needs from one host, in a few round trips: the init system, the host name,
// every service whose command is a Kubernetes component (systemd: `systemctl show` of every
// service, then `systemctl cat` of the candidates; OpenRC: /etc/init.d and /etc/conf.d), and then
// any files the caller names, in one batch. A `dir:` tree gives the same from the unit files it
// holds (DIR/<host>/etc/systemd/system/*.service and drop-ins, /etc/init.d/*).
import type { HostAccess } from '../targets/target.ts';
import { parseSystemctlShow } from '../hostio/systemctl-show.ts';
import { identifyComponent } from './parse/flags.ts';
import type { Component } from './parse/flags.ts';
import { parseOpenrcService } from './parse/openrc.ts';
import type { ParseProblem } from './parse/problem.ts';
import { type UnitFile, parseService, parseSystemctlCat, resolveExecStart, dropInOrder } from './parse/systemd-unit.ts';
import type { ServiceState } from './facts.ts';
import type { InitSystem as InitKind } from '../model/cluster.ts';

export interface RawService {
  unit: string;
  kind: Component;
  definedIn: string[];
  argv: string[];
  /** Where the command line was written (ExecStart's file, or the init script). */
  commandFile: string;
  env: Record<string, string>;
  state?: ServiceState;
}

export interface RawHost {
  host: string;
  init: InitKind | 'unknown';
  hostname?: string;
  services: RawService[];
  problems: ParseProblem[];
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const PATTERN =
  '(kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|etcd|flanneld|flannel|coredns|containerd|hyperkube)';

/** What readFiles read: each path's text, undefined when it is missing or could not be read, and
 * (in `unreadable`) the paths that exist but that hardway's user may not read (not "missing"). */
export type FileReads = Map<string, string | undefined> & { unreadable: Set<string> };

/** The marker of a file that exists but cannot be read (a readable one's is "### <path>", then its
 * contents). */
const UNREADABLE = '##! ';

/** Files read by one command (see readFiles). */
export const READ_BATCH = 40;

/** Reads many files at once: one command per READ_BATCH files on live hosts (contents base64-encoded), reads otherwise.
 * Missing files map to undefined; files that exist but cannot be read too, and are in `unreadable`. */
export async function readFiles(h: HostAccess, paths: string[]): Promise<FileReads> {
  const out: FileReads = Object.assign(new Map<string, string | undefined>(), { unreadable: new Set<string>() });
  const todo = [...new Set(paths)].filter(Boolean);
  if (!todo.length) return out;
  if (!h.exec) {
    await Promise.all(
      todo.map(async (p) => {
        try {
          out.set(p, await h.readFile(p));
        } catch (e) {
          // Not a file (as `[ -f ]` says on live hosts) is missing; anything else (EACCES) is a
          // file that is there but not readable.
          out.set(p, undefined);
          if (!['ENOENT', 'ENOTDIR', 'EISDIR'].includes(String((e as NodeJS.ErrnoException).code))) out.unreadable.add(p);
        }
      }),
    );
    return out;
  }
  // At most READ_BATCH files per command: a command line is bounded (128 KiB per argument on
  // Linux), and a kubelet's folder lists every pod's volumes.
  const chunks: string[][] = [];
  for (let i = 0; i < todo.length; i += READ_BATCH) chunks.push(todo.slice(i, i + READ_BATCH));
  const results = await Promise.all(
    chunks.map(async (chunk) => {
      const script = chunk
        .map(
          (p) =>
            `if [ -f ${shq(p)} ]; then if [ -r ${shq(p)} ]; then printf '### %s\\n' ${shq(p)}; base64 -w0 < ${shq(p)}; echo; else printf '${UNREADABLE}%s\\n' ${shq(p)}; fi; fi`,
        )
        .join('\n');
      const r = await h.exec!(script, { timeoutMs: 30_000 });
      // Each step ends in a successful `fi`: any other exit code means the read itself broke.
      if (r.code !== 0)
        throw new Error(
          `cannot read ${chunk.length} file${chunk.length > 1 ? 's' : ''} (${chunk[0]}${chunk.length > 1 ? ', ...' : ''}): exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 200)}` : ''}`,
        );
      return r.stdout;
    }),
  );
  for (const p of todo) out.set(p, undefined);
  const lines = results.join('\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(UNREADABLE) && out.has(line.slice(UNREADABLE.length))) {
      out.unreadable.add(line.slice(UNREADABLE.length));
      continue;
    }
    const m = /^### (.*)$/.exec(line);
    if (m && out.has(m[1]!)) out.set(m[1]!, Buffer.from(lines[i + 1] ?? '', 'base64').toString('utf8'));
  }
  return out;
}

/** Files of a directory with their contents (CNI configs): one command on live hosts. */
export async function readDir(h: HostAccess, dir: string): Promise<Record<string, string>> {
  if (h.exec) {
    const r = await h.exec(
      `for f in ${shq(dir)}/*; do [ -f "$f" ] && [ -r "$f" ] && { printf '### %s\\n' "$f"; base64 -w0 < "$f"; echo; }; done`,
      { timeoutMs: 30_000 },
    );
    const out: Record<string, string> = {};
    const lines = r.stdout.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^### (.*)$/.exec(lines[i]!);
      if (m) out[m[1]!] = Buffer.from(lines[i + 1] ?? '', 'base64').toString('utf8');
    }
    return out;
  }
  const files = await h.listFiles(dir).catch(() => []);
  const direct = files.filter((f) => f.slice(dir.length + 1).indexOf('/') < 0);
  const read = await readFiles(h, direct);
  return Object.fromEntries([...read].filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** States in which a service is part of the host: running, (re)starting (a crash-looping unit is
 * "activating" between its restarts), failed, or enabled at boot. Anything else (inactive and
 * disabled) is installed, not used; hosts.services-active reports the ones that do not run. */
const LIVE_STATES = new Set(['active', 'reloading', 'activating', 'failed']);
export function partOfHost(active: string | undefined, enabled: string | undefined): boolean {
  return LIVE_STATES.has(active ?? '') || enabled === 'enabled';
}

async function liveSystemd(h: HostAccess, host: string, hostname: string | undefined, problems: ParseProblem[]): Promise<RawService[]> {
  // Loaded units: running, restarting or failed ones, and enabled ones (their target wants them).
  // A unit that is none of these is not part of the cluster on this host (partOfHost).
  const list = `systemctl list-units --type=service --all --plain --no-legend --no-pager 2>/dev/null | awk '{print $1}' | grep -v '@\\.service$'`;
  const show = await h.exec!(
    `systemctl show -p Id,ExecStart,FragmentPath,DropInPaths,ActiveState,UnitFileState,Restart,EnvironmentFiles -- $(${list}) 2>/dev/null`,
    { timeoutMs: 30_000 },
  );
  const units = parseSystemctlShow(show.stdout, `${host}: systemctl show`);
  problems.push(...units.problems);
  // A package's unit that is neither running nor enabled (Debian's etcd.service on a worker) is
  // installed, not part of the cluster on this host.
  const candidates = units.value.filter(
    (u) =>
      u.id && u.execStart.some((e) => identifyComponent(e.argv.length ? e.argv : [e.path])) && partOfHost(u.activeState, u.unitFileState),
  );
  if (!candidates.length) return [];
  // The definitions as systemd reads them (fragment and drop-ins, with files and lines), and the
  // environment files they name.
  const [cat, envFiles] = await Promise.all([
    h.exec!(candidates.map((u) => `echo '#### ${u.id}'; systemctl cat ${shq(u.id!)} 2>/dev/null`).join('\n'), { timeoutMs: 30_000 }),
    readFiles(
      h,
      candidates.flatMap((u) => u.environmentFiles.map((f) => f.path)),
    ),
  ]);
  const sections = cat.stdout.split(/^#### /m).filter(Boolean);
  const out: RawService[] = [];
  for (const u of candidates) {
    const text = sections.find((s) => s.startsWith(`${u.id}\n`))?.slice(u.id!.length + 1) ?? '';
    const svc = parseSystemctlCat(text, { unitName: u.id!, ...(hostname ? { hostname } : {}) });
    problems.push(...svc.problems);
    const cmd = resolveExecStart(svc.value, Object.fromEntries([...envFiles].filter(([, v]) => v !== undefined)) as Record<string, string>);
    problems.push(...cmd.problems);
    const argv = cmd.value?.argv;
    const kind = argv && identifyComponent(argv);
    if (!argv || !kind) continue;
    const exec = svc.value.execStart.at(-1);
    out.push({
      unit: u.id!.replace(/\.service$/, ''),
      kind,
      definedIn: svc.value.files,
      argv,
      commandFile: exec?.file ?? u.fragmentPath ?? u.id!,
      env: cmd.value?.env ?? {},
      state: { active: u.activeState ?? 'unknown', enabled: u.unitFileState ?? 'unknown', restart: svc.value.restart },
    });
  }
  return out;
}

async function liveOpenrc(h: HostAccess, problems: ParseProblem[]): Promise<RawService[]> {
  const r = await h.exec!(
    `for f in /etc/init.d/*; do head -n1 "$f" 2>/dev/null | grep -q openrc-run || continue; n=\${f##*/}; grep -Eqs '${PATTERN}' "$f" /etc/conf.d/$n || continue; echo "#### $n"; echo "st $(rc-service "$n" status 2>/dev/null | sed -n 's/.*status: *//p')"; rc-update show default 2>/dev/null | grep -qw "$n" && echo en enabled || echo en disabled; done`,
    { timeoutMs: 30_000 },
  );
  const names = [...r.stdout.matchAll(/^#### (.+)$/gm)].map((m) => m[1]!.trim());
  const files = await readFiles(
    h,
    names.flatMap((n) => [`/etc/init.d/${n}`, `/etc/conf.d/${n}`]),
  );
  const out: RawService[] = [];
  for (const n of names) {
    const block = r.stdout.split('#### ').find((b) => b.startsWith(`${n}\n`)) ?? '';
    const st = /^st (.*)$/m.exec(block)?.[1]?.trim();
    const en = /^en (.*)$/m.exec(block)?.[1]?.trim() ?? 'unknown';
    const svc = openrcService(n, files.get(`/etc/init.d/${n}`), files.get(`/etc/conf.d/${n}`), problems);
    if (svc)
      out.push({
        ...svc,
        state: { active: st === 'started' ? 'active' : st || 'inactive', enabled: en, restart: svc.respawn ? 'on-failure' : 'no' },
      });
  }
  return out;
}

function openrcService(
  name: string,
  init: string | undefined,
  confd: string | undefined,
  problems: ParseProblem[],
): (RawService & { respawn: boolean }) | undefined {
  if (init === undefined) return undefined;
  const svc = parseOpenrcService(
    { path: `/etc/init.d/${name}`, text: init },
    confd !== undefined ? { path: `/etc/conf.d/${name}`, text: confd } : undefined,
    { name },
  );
  problems.push(...svc.problems);
  const kind = identifyComponent(svc.value.argv);
  if (!kind) return undefined;
  return {
    unit: name,
    kind,
    definedIn: [`/etc/init.d/${name}`, ...(confd !== undefined ? [`/etc/conf.d/${name}`] : [])],
    argv: svc.value.argv,
    commandFile: `/etc/init.d/${name}`,
    env: {},
    respawn: svc.value.respawn,
  };
}

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** A tree holds unit files: read them as systemd would (first unit dir wins, drop-ins in order). */
async function treeServices(h: HostAccess, problems: ParseProblem[]): Promise<{ init: InitKind | 'unknown'; services: RawService[] }> {
  const all = (await Promise.all(UNIT_DIRS.map((d) => h.listFiles(d).catch(() => [])))).flat();
  const fragments = new Map<string, string>();
  for (const f of all) {
    const m = /^(?:\/etc|\/run|\/lib|\/usr\/lib)\/systemd\/system\/([^/]+\.service)$/.exec(f);
    if (m && !fragments.has(m[1]!)) fragments.set(m[1]!, f);
  }
  const initd = (await h.listFiles('/etc/init.d').catch(() => [])).filter((f) => /^\/etc\/init\.d\/[^/]+$/.test(f));
  const texts = await readFiles(h, [...fragments.values(), ...initd]);
  const services: RawService[] = [];
  for (const [name, path] of fragments) {
    const text = texts.get(path) ?? '';
    if (!new RegExp(`ExecStart=.*${PATTERN}`).test(text.replace(/\\\n/g, ' '))) continue;
    const dropIns = dropInOrder(all.filter((f) => f.includes(`/${name}.d/`) && f.endsWith('.conf')));
    const dropTexts = await readFiles(h, dropIns);
    const files: UnitFile[] = [{ path, text }, ...dropIns.map((p) => ({ path: p, text: dropTexts.get(p) ?? '' }))];
    const svc = parseService(files);
    problems.push(...svc.problems);
    const envPaths = svc.value.environmentFiles.map((e) => e.path);
    const envs = await readFiles(h, envPaths);
    const cmd = resolveExecStart(svc.value, Object.fromEntries([...envs].filter(([, v]) => v !== undefined)) as Record<string, string>);
    problems.push(...cmd.problems);
    const kind = cmd.value && identifyComponent(cmd.value.argv);
    if (!cmd.value || !kind) continue;
    // A tree says how a service is defined, not whether it runs.
    const state = { active: 'unknown', enabled: 'unknown', restart: svc.value.restart };
    services.push({
      unit: name.replace(/\.service$/, ''),
      kind,
      definedIn: svc.value.files,
      argv: cmd.value.argv,
      commandFile: svc.value.execStart.at(-1)?.file ?? path,
      env: cmd.value.env,
      state,
    });
  }
  for (const path of initd) {
    const text = texts.get(path);
    if (!text?.startsWith('#!/sbin/openrc-run') || !new RegExp(PATTERN).test(text)) continue;
    const name = path.slice('/etc/init.d/'.length);
    const confd = (await readFiles(h, [`/etc/conf.d/${name}`])).get(`/etc/conf.d/${name}`);
    const svc = openrcService(name, text, confd, problems);
    if (svc) services.push({ ...svc, state: { active: 'unknown', enabled: 'unknown', restart: svc.respawn ? 'on-failure' : 'no' } });
  }
  const init =
    fragments.size && services.some((s) => s.commandFile.includes('/systemd/')) ? 'systemd' : services.length ? 'openrc' : 'unknown';
  return { init, services };
}

export async function readHost(host: string, h: HostAccess): Promise<RawHost> {
  const problems: ParseProblem[] = [];
  if (!h.exec) {
    const { init, services } = await treeServices(h, problems);
    return { host, init, hostname: host, services, problems };
  }
  const r = await h.exec(
    `if [ -d /run/systemd/system ]; then echo systemd; elif command -v openrc >/dev/null 2>&1 || [ -x /sbin/openrc-run ]; then echo openrc; else echo unknown; fi; hostname 2>/dev/null`,
    { timeoutMs: 20_000 },
  );
  const [initLine = 'unknown', hostname] = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim());
  const init = (['systemd', 'openrc'].includes(initLine) ? initLine : 'unknown') as InitKind | 'unknown';
  const found =
    init === 'systemd' ? await liveSystemd(h, host, hostname, problems) : init === 'openrc' ? await liveOpenrc(h, problems) : [];
  const services = found.filter((s) => !s.state || partOfHost(s.state.active, s.state.enabled));
  return { host, init, ...(hostname ? { hostname: hostname.toLowerCase() } : {}), services, problems };
}
