// A live target reached over SSH only: every host is a HostAccess backed by an SshSession.
// The lab is such a target too (its hosts, keys and known_hosts come from the lab's state).
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
  async readFile(path: string): Promise<string | undefined> {
    const r = await this.exec(`if [ -e ${shq(path)} ]; then cat -- ${shq(path)}; else exit ${MISSING}; fi`, { timeoutMs: 30_000 });
    if (r.code === MISSING) return undefined;
    if (r.code !== 0) throw new Error(`${this.host}: cannot read ${path}: ${r.stderr.trim()}`);
    return r.stdout;
  }
  async listFiles(dir: string): Promise<string[]> {
    const r = await this.exec(`find ${shq(dir)} -type f 2>/dev/null`, { timeoutMs: 30_000 });
    return r.stdout.split('\n').filter(Boolean).sort();
  }
  async close(): Promise<void> {
    if (this.session) (await this.session.catch(() => undefined))?.close();
  }
}

export interface SshTargetSecrets {
  kubeconfig?: () => Promise<string | undefined>;
  apiserverToken?: () => Promise<string | undefined>;
}

export function sshTarget(name: string, cluster: Cluster, endpoints: SshEndpoint[], ownedByHardway: boolean, secrets: SshTargetSecrets = {}): Target {
  const hosts = new Map(endpoints.map((e) => [e.name, new SshHost(e)]));
  return {
    name,
    cluster,
    live: true,
    ownedByHardway,
    ...(secrets.kubeconfig ? { kubeconfig: secrets.kubeconfig } : {}),
    ...(secrets.apiserverToken ? { apiserverToken: secrets.apiserverToken } : {}),
    host(h: string) {
      const x = hosts.get(h);
      if (!x) throw new TargetError(`${name}: no SSH endpoint for host "${h}" (the cluster model and the inventory disagree)`);
      return x;
    },
    async close() {
      await Promise.all([...hosts.values()].map((h) => h.close()));
    },
  };
}
