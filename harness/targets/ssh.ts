// A live target reached over SSH only: every host is a HostAccess backed by an SshSession.
// The lab is such a target too (its hosts, keys and known_hosts come from the lab's state).
import { accessSync, constants } from 'node:fs';
import type { Cluster } from '../model/cluster.ts';
import { SshSession, type SshEndpoint } from '../ssh/session.ts';
import type { ExecResult, HostAccess, Target } from './target.ts';
import { TargetError } from './target.ts';

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const MISSING = 44;

class SshHost implements HostAccess {
  readonly host: string;
  private readonly endpoint: SshEndpoint;
  private session?: Promise<SshSession>;
  constructor(endpoint: SshEndpoint) {
    this.host = endpoint.name;
    this.endpoint = endpoint;
  }
  connect(): Promise<SshSession> {
    this.session ??= SshSession.connect(this.endpoint).catch((e: Error) => {
      this.session = undefined;
      throw new TargetError(e.message);
    });
    return this.session;
  }
  async exec(command: string, opts: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    return (await this.connect()).exec(command, opts);
  }
  /** One local listener per (host, port), shared by every context of the target (the fault runner
   * makes hundreds); closed with the target. */
  private readonly tunnels = new Map<string, Promise<{ port: number; close(): void }>>();
  async tunnel(host: string, port: number): Promise<number> {
    const key = `${host}\0${port}`;
    let t = this.tunnels.get(key);
    if (!t) {
      const made = this.connect().then((s) => s.tunnel(host, port));
      this.tunnels.set(key, made);
      // A tunnel that could not be opened is not remembered: the next caller tries again.
      made.catch(() => {
        if (this.tunnels.get(key) === made) this.tunnels.delete(key);
      });
      t = made;
    }
    return (await t).port;
  }
  async upload(localPath: string, remotePath: string, mode = 0o644): Promise<void> {
    await (await this.connect()).upload(localPath, remotePath, mode);
  }
  async readFile(path: string): Promise<string | undefined> {
    const r = await this.exec(`if [ -e ${shq(path)} ]; then cat -- ${shq(path)}; else exit ${MISSING}; fi`, { timeoutMs: 30_000 });
    if (r.code === MISSING) return undefined;
    if (r.code !== 0) throw new Error(`${this.host}: cannot read ${path}: ${r.stderr.trim()}`);
    return r.stdout;
  }
  async listFiles(dir: string): Promise<string[]> {
    // A missing folder lists nothing; any other failure of find (a permission) is an error, not [].
    const r = await this.exec(`[ -d ${shq(dir)} ] || exit 0; find ${shq(dir)} -type f`, { timeoutMs: 30_000 });
    if (r.code !== 0 || /Permission denied/i.test(r.stderr)) {
      const why = r.stderr.trim().split('\n')[0]?.slice(0, 200) || `find exited with ${r.code}`;
      throw new Error(`${this.host}: cannot list ${dir}: ${why}`);
    }
    return r.stdout.split('\n').filter(Boolean).sort();
  }
  async close(): Promise<void> {
    const tunnels = [...this.tunnels.values()];
    this.tunnels.clear();
    for (const t of tunnels) (await t.catch(() => undefined))?.close();
    if (this.session) (await this.session.catch(() => undefined))?.close();
  }
}

export interface SshTargetSecrets {
  kubeconfig?: () => Promise<string | undefined>;
  apiserverToken?: () => Promise<string | undefined>;
}

export interface SshTargetExtras {
  /** Offer preflight(): connect to every host (and check sudo) before the checks run. */
  preflight?: boolean;
  accepted?: string[];
  domains?: string[];
  images?: { toolbox: string; demoApp: string };
  probeName?: string;
  /** The rendering hardway installed the cluster from (the lab). */
  renderedDir?: string;
  /** Checked by preflight: files the target needs on this machine (kubeconfig, token), with the fix. */
  localFiles?: { path: string; what: string; fix: string }[];
}

/** Connects to one host, and checks that sudo works without a password where it is used. */
async function preflightHost(h: SshHost): Promise<string | undefined> {
  let s: SshSession;
  try {
    s = await h.connect();
  } catch (e) {
    return (e as Error).message;
  }
  if (!s.endpoint.sudo) return undefined;
  const r = await s.exec('true', { timeoutMs: 20_000 }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
  if (r.code === 0) return undefined;
  const ep = s.endpoint;
  return `${ep.name} (${ep.user}@${ep.host}:${ep.port}): sudo -n refused (${r.stderr.trim().split('\n').pop()?.slice(0, 120) || `exit ${r.code}`}); fix: give ${ep.user} passwordless sudo on ${ep.name} (NOPASSWD in /etc/sudoers.d), or connect as root`;
}

export function sshTarget(
  name: string,
  cluster: Cluster,
  modelGiven: boolean,
  endpoints: SshEndpoint[],
  ownedByHardway: boolean,
  secrets: SshTargetSecrets = {},
  extras: SshTargetExtras = {},
): Target {
  const hosts = new Map(endpoints.map((e) => [e.name, new SshHost(e)]));
  const target: Target = {
    name,
    cluster,
    modelGiven,
    live: true,
    ownedByHardway,
    ...(secrets.kubeconfig ? { kubeconfig: secrets.kubeconfig } : {}),
    ...(secrets.apiserverToken ? { apiserverToken: secrets.apiserverToken } : {}),
    ...(extras.accepted ? { accepted: extras.accepted } : {}),
    ...(extras.domains ? { domains: extras.domains } : {}),
    ...(extras.images ? { images: extras.images } : {}),
    ...(extras.probeName ? { probeName: extras.probeName } : {}),
    ...(extras.renderedDir ? { renderedDir: extras.renderedDir } : {}),
    ...(extras.preflight
      ? {
          async preflight() {
            const lines: string[] = [];
            for (const f of extras.localFiles ?? []) {
              try {
                accessSync(f.path, constants.R_OK);
              } catch (e) {
                lines.push(
                  `${name}: ${f.what} ${f.path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix: ${f.fix}`,
                );
              }
            }
            // In model order: masters first, as they are listed in the inventory's cluster model.
            const order = [...new Set([...target.cluster.masters, ...target.cluster.workers].map((x) => x.host))].filter((x) =>
              hosts.has(x),
            );
            const errors = await Promise.all(order.map((x) => preflightHost(hosts.get(x)!)));
            lines.push(...errors.filter((e): e is string => !!e));
            if (lines.length) throw new TargetError(lines.join('\n'));
          },
        }
      : {}),
    host(h: string) {
      const x = hosts.get(h);
      if (!x) throw new TargetError(`${name}: no SSH endpoint for host "${h}" (the cluster model and the inventory disagree)`);
      return x;
    },
    async close() {
      await Promise.all([...hosts.values()].map((h) => h.close()));
    },
  };
  return target;
}
