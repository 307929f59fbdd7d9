// One SSH connection to one host (ssh2): key and/or agent authentication, strict host key checking
// against known_hosts, optional jump hosts (ProxyJump chains), one retry on connect, a bound on
// parallel channels. Every failure becomes one line naming the host and the fix (redacted).
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2'; // CommonJS: no named runtime imports
import { checkHostKey, hostPattern, recordKey } from './known-hosts.ts';
import { redact } from '../report/redact.ts';
import type { ExecResult } from '../targets/target.ts';

export interface SshEndpoint {
  /** The host's name in the cluster model, used in messages. */
  name: string;
  host: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  /** ssh-agent socket (defaults to $SSH_AUTH_SOCK when no key file is given); with a key file
   * too, both are offered, as OpenSSH does. */
  agent?: string;
  knownHostsPath: string;
  /** Record unknown host keys instead of refusing: only where the key was learned out of band. */
  acceptUnknownHostKey?: boolean;
  /** The host to tunnel through (ProxyJump); it may have a jump host of its own. */
  jump?: SshEndpoint;
  /** Run commands through `sudo -n` (for non-root users). */
  sudo?: boolean;
  connectTimeoutMs?: number;
  /** Parallel channels on this connection (sshd's MaxSessions is 10); default 8. */
  maxSessions?: number;
}

export class SshError extends Error {
  constructor(message: string) {
    super(redact(message));
    this.name = 'SshError';
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A small counting semaphore: sshd allows ~10 channels per connection (MaxSessions). */
class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

function where(ep: SshEndpoint): string {
  return `${ep.name} (${ep.user}@${ep.host}:${ep.port})`;
}

function explain(ep: SshEndpoint, err: Error & { code?: string; level?: string }): string {
  const w = where(ep);
  const code = err.code ?? '';
  if (err instanceof SshError) return err.message;
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) || /Timed out while waiting for handshake/.test(err.message)) {
    return `${w}: cannot connect (${code || 'handshake timed out'}); fix: check the address and port in the inventory, that the host is up and sshd listens there`;
  }
  if (err.level === 'client-authentication' || /authentication methods failed/.test(err.message)) {
    const how = ep.privateKeyPath ? `the key ${ep.privateKeyPath}` : 'the keys of the ssh-agent';
    return `${w}: authentication refused for user "${ep.user}" with ${how}; fix: check the user name and that the public key is in ~${ep.user}/.ssh/authorized_keys on ${ep.host}`;
  }
  return `${w}: ${err.message}`;
}

function connectConfig(ep: SshEndpoint, state: { hostKeyError?: string }): ConnectConfig {
  const cfg: ConnectConfig = {
    host: ep.host,
    port: ep.port,
    username: ep.user,
    readyTimeout: ep.connectTimeoutMs ?? 15_000,
    keepaliveInterval: 10_000,
    hostVerifier: (key: Buffer) => {
      const v = checkHostKey(ep.knownHostsPath, ep.host, ep.port, key);
      if (v.ok) return true;
      if (v.reason === 'unknown' && ep.acceptUnknownHostKey) {
        recordKey(ep.knownHostsPath, ep.host, ep.port, key);
        return true;
      }
      state.hostKeyError = v.reason === 'unknown'
        ? `${where(ep)}: unknown host key ${v.fingerprint}; fix: check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to ${ep.knownHostsPath} (ssh-keyscan -p ${ep.port} ${ep.host} >> ${ep.knownHostsPath})`
        : `${where(ep)}: HOST KEY CHANGED: presented ${v.fingerprint}, ${ep.knownHostsPath} has ${v.known!.join(', ')}; fix: if ${ep.name} was reinstalled, remove the old entry (ssh-keygen -f ${ep.knownHostsPath} -R '${hostPattern(ep.host, ep.port)}') and verify the new key; otherwise stop: someone may be intercepting the connection`;
      return false;
    },
  };
  if (ep.privateKeyPath) {
    if (!existsSync(ep.privateKeyPath)) {
      throw new SshError(`${where(ep)}: private key file ${ep.privateKeyPath} not found; fix: correct the key path in the inventory or create the key (ssh-keygen -t ed25519 -f ${ep.privateKeyPath})`);
    }
    const key = readFileSync(ep.privateKeyPath);
    const parsed = ssh2.utils.parseKey(key);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first instanceof Error || !first?.isPrivateKey()) {
      const why = first instanceof Error ? first.message : 'it holds a public key';
      const encrypted = /encrypted|passphrase/i.test(why);
      throw new SshError(encrypted
        ? `${where(ep)}: private key file ${ep.privateKeyPath} is protected by a passphrase; fix: load it into ssh-agent (ssh-add ${ep.privateKeyPath}) and use the agent for this host (agent: true in the inventory)`
        : `${where(ep)}: private key file ${ep.privateKeyPath} is not a usable private key (${why}); fix: point the inventory at the private key (not the .pub file)`);
    }
    cfg.privateKey = key;
    if (ep.agent) cfg.agent = ep.agent;
  } else {
    const agent = ep.agent ?? process.env.SSH_AUTH_SOCK;
    if (!agent) throw new SshError(`${where(ep)}: no private key and no ssh-agent; fix: set a key file for the host in the inventory, or start ssh-agent and ssh-add your key`);
    cfg.agent = agent;
  }
  return cfg;
}

function connectOnce(ep: SshEndpoint, sock?: ClientChannel): Promise<Client> {
  return new Promise((resolve, reject) => {
    const state: { hostKeyError?: string } = {};
    let cfg: ConnectConfig;
    try {
      cfg = connectConfig(ep, state);
    } catch (e) {
      reject(e);
      return;
    }
    if (sock) cfg.sock = sock;
    const c = new ssh2.Client();
    c.once('ready', () => resolve(c));
    c.once('error', (e) => reject(state.hostKeyError ? new SshError(state.hostKeyError) : new SshError(explain(ep, e))));
    c.connect(cfg);
  });
}

function forward(via: Client, viaEp: SshEndpoint, ep: SshEndpoint): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, ep.host, ep.port, (err, ch) => (err ? reject(new SshError(`${where(ep)}: cannot connect through the jump host ${viaEp.name} (${err.message}); fix: check the address and port in the inventory as seen from ${viaEp.host}, and that ${viaEp.name} allows TCP forwarding`)) : resolve(ch)));
  });
}

/** Connects to `ep` through its chain of jump hosts; returns the client and the jump clients. */
async function connectChain(ep: SshEndpoint, depth = 0): Promise<{ client: Client; jumps: Client[] }> {
  if (!ep.jump) return { client: await connectOnce(ep), jumps: [] };
  if (depth > 5) throw new SshError(`${where(ep)}: more than 5 jump hosts (a ProxyJump loop?); fix: check the jump settings in the inventory and ~/.ssh/config`);
  const via = await connectChain(ep.jump, depth + 1);
  try {
    return { client: await connectOnce(ep, await forward(via.client, ep.jump, ep)), jumps: [via.client, ...via.jumps] };
  } catch (e) {
    for (const j of [via.client, ...via.jumps]) j.end();
    throw e;
  }
}

export class SshSession {
  readonly endpoint: SshEndpoint;
  private readonly client: Client;
  private readonly jumpClients: Client[];
  private readonly limiter: Limiter;

  private constructor(endpoint: SshEndpoint, client: Client, jumpClients: Client[] = []) {
    this.endpoint = endpoint;
    this.client = client;
    this.jumpClients = jumpClients;
    this.limiter = new Limiter(Math.max(1, endpoint.maxSessions ?? 8));
  }

  /** Connects, retrying once on network errors (never on host key or authentication errors). */
  static async connect(ep: SshEndpoint): Promise<SshSession> {
    let r: { client: Client; jumps: Client[] };
    try {
      r = await connectChain(ep);
    } catch (e) {
      if (!/cannot connect/.test((e as Error).message)) throw e;
      await new Promise((res) => setTimeout(res, 1500));
      r = await connectChain(ep);
    }
    return new SshSession(ep, r.client, r.jumps);
  }

  /** Runs a command (through sudo when configured); never throws on a non-zero exit code. */
  exec(command: string, opts: { stdin?: string | Buffer | Readable; timeoutMs?: number } = {}): Promise<ExecResult> {
    const cmd = this.endpoint.sudo ? `sudo -n sh -c ${shq(command)}` : command;
    return this.limiter.run(
      () =>
        new Promise<ExecResult>((resolve, reject) => {
          this.client.exec(cmd, (err, ch) => {
            if (err) return reject(new SshError(`${where(this.endpoint)}: cannot run a command (${err.message})`));
            const out: Buffer[] = [];
            const errOut: Buffer[] = [];
            let timer: NodeJS.Timeout | undefined;
            if (opts.timeoutMs) {
              timer = setTimeout(() => {
                ch.close();
                reject(new SshError(`${where(this.endpoint)}: command timed out after ${opts.timeoutMs! / 1000} s: ${command.slice(0, 120)}`));
              }, opts.timeoutMs);
            }
            ch.on('data', (d: Buffer) => out.push(d));
            ch.stderr.on('data', (d: Buffer) => errOut.push(d));
            ch.on('close', (code: number | null, signal?: string) => {
              if (timer) clearTimeout(timer);
              resolve({ code: code ?? (signal ? 128 : 255), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
            });
            if (opts.stdin === undefined) ch.end();
            else if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) ch.end(opts.stdin);
            else opts.stdin.pipe(ch);
          });
        }),
    );
  }

  /** Writes content to a remote file (parent folders created), atomically via a temp file. */
  async writeFile(path: string, content: string | Buffer | Readable, mode = 0o644): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, '') || '/';
    const tmp = `${path}.hardway-tmp`;
    const r = await this.exec(`mkdir -p ${shq(dir)} && cat > ${shq(tmp)} && chmod ${mode.toString(8)} ${shq(tmp)} && mv -f ${shq(tmp)} ${shq(path)}`, { stdin: content });
    if (r.code !== 0) throw new SshError(`${where(this.endpoint)}: cannot write ${path}: ${r.stderr.trim()}`);
  }

  /** Copies a local file to the host (streams; fine for 100 MB binaries). */
  async upload(localPath: string, remotePath: string, mode = 0o755): Promise<void> {
    await this.writeFile(remotePath, createReadStream(localPath), mode);
  }

  close(): void {
    this.client.end();
    for (const j of this.jumpClients) j.end();
  }
}
