// One SSH connection to one host (ssh2): key and/or agent authentication, strict host key checking
// against known_hosts, optional jump hosts (ProxyJump chains), one retry on connect, a bound on
// parallel channels. Every failure becomes one line naming the host and the fix (redacted), and
// every 'error' event ssh2 emits has a listener: a port that is not sshd never crashes the process.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2'; // CommonJS: no named runtime imports
import { checkHostKey, hostPattern, preferredHostKeyAlgorithms, recordKey } from './known-hosts.ts';
import { traceExec } from '../report/exec-trace.ts';
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
  /** A network failure worth one more try (never a key, authentication or protocol error). */
  readonly retryable: boolean;
  constructor(message: string, retryable = false) {
    super(redact(message));
    this.name = 'SshError';
    this.retryable = retryable;
  }
}

/** ssh2's default host key algorithms (lib/protocol/constants.js), to reorder by what is known. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

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

/** What the peer sent before the failure, and whether the TCP connection was made. */
interface Wire {
  first?: Buffer;
  timeoutS: number;
}

const FIX_PORT = "fix: check the port in the inventory (or ~/.ssh/config) is sshd's, and that sshd listens there";

function explain(ep: SshEndpoint, err: Error & { code?: string; level?: string }, wire: Wire): SshError {
  const w = where(ep);
  const code = err.code ?? '';
  if (err instanceof SshError) return err;
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE'].includes(code)) {
    return new SshError(
      `${w}: cannot connect (${code}); fix: check the address and port in the inventory, that the host is up and sshd listens there`,
      code !== 'ENOTFOUND',
    );
  }
  const sent = wire.first?.toString('latin1') ?? '';
  const greeting = sent
    .split(/\r?\n/)[0]!
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 60);
  if (sent && !sent.startsWith('SSH-')) {
    if (/^HTTP\/\d/.test(sent)) return new SshError(`${w}: the port speaks HTTP ("${greeting}"), not SSH; ${FIX_PORT}`);
    // RFC 4253 allows lines before the version line; anything without one is another protocol.
    if (!/(^|\n)SSH-/.test(sent)) return new SshError(`${w}: the port answers "${greeting}", not an SSH greeting; ${FIX_PORT}`);
  }
  if (err.level === 'client-timeout' || /Timed out while waiting for handshake/.test(err.message)) {
    return new SshError(
      sent
        ? `${w}: no SSH handshake within ${wire.timeoutS} s after the greeting "${greeting}"; fix: check that sshd on ${ep.host} is healthy (its journal), or raise connectTimeout in the inventory`
        : `${w}: the port accepts connections but sends nothing within ${wire.timeoutS} s (no SSH greeting): not sshd, or a firewall swallows the traffic; ${FIX_PORT}`,
    );
  }
  if (/Connection lost before handshake/.test(err.message)) {
    return new SshError(
      sent
        ? `${w}: the connection was closed during the SSH handshake; fix: check sshd's log on ${ep.host} (journalctl -u ssh, or /var/log/auth.log without systemd) for why it dropped the client`
        : `${w}: the port closed the connection at once, before any SSH greeting: not sshd, or sshd refusing this client (MaxStartups, tcp wrappers, a firewall); ${FIX_PORT}, and sshd's journal on ${ep.host}`,
      !sent,
    );
  }
  if (err.level === 'client-authentication' || /authentication methods failed/.test(err.message)) {
    const how = ep.privateKeyPath ? `the key ${ep.privateKeyPath}` : 'the keys of the ssh-agent';
    return new SshError(
      `${w}: authentication refused for user "${ep.user}" with ${how}; fix: check the user name and that the public key is in ~${ep.user}/.ssh/authorized_keys on ${ep.host}`,
    );
  }
  if (err.level === 'agent' || /agent/i.test(err.message)) {
    return new SshError(
      `${w}: the ssh-agent at ${ep.agent ?? '$SSH_AUTH_SOCK'} cannot be used (${err.message}); fix: start ssh-agent and ssh-add your key, or set a key file for the host in the inventory`,
    );
  }
  return new SshError(`${w}: SSH failed: ${err.message.split('\n')[0]}`);
}

function hostKeyProblem(ep: SshEndpoint, key: Buffer): string | undefined {
  // ssh lowercases the host name before it looks it up (DNS names and IPv6 hex are case-insensitive).
  const host = ep.host.toLowerCase();
  const v = checkHostKey(ep.knownHostsPath, host, ep.port, key);
  if (v.ok) return undefined;
  if (v.reason === 'unknown' && ep.acceptUnknownHostKey) {
    recordKey(ep.knownHostsPath, host, ep.port, key);
    return undefined;
  }
  const name = hostPattern(host, ep.port);
  if (v.reason === 'revoked') {
    return `${where(ep)}: REVOKED HOST KEY ${v.fingerprint}: ${ep.knownHostsPath} line ${v.lines!.join(', ')} marks it @revoked (a stolen key may be impersonating the host); fix: do not connect; reinstall ${ep.name}'s host keys, then record the new key`;
  }
  if (v.reason === 'unknown') {
    return `${where(ep)}: unknown host key ${v.fingerprint}${v.onlyCertAuthority ? ` (${ep.knownHostsPath} has only @cert-authority lines for ${name}; hardway checks plain host keys)` : ''}; fix: check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to ${ep.knownHostsPath} (ssh-keyscan -p ${ep.port} ${host} >> ${ep.knownHostsPath})`;
  }
  return `${where(ep)}: HOST KEY CHANGED: presented ${v.fingerprint}, ${ep.knownHostsPath} has ${v.known!.join(', ')} (line ${v.lines!.join(', ')}); fix: if ${ep.name} was reinstalled, remove the old entry (ssh-keygen -f ${ep.knownHostsPath} -R '${name}') and verify the new key; otherwise stop: someone may be intercepting the connection`;
}

function connectConfig(ep: SshEndpoint, state: { hostKeyError?: string }): ConnectConfig {
  const cfg: ConnectConfig = {
    host: ep.host,
    port: ep.port,
    username: ep.user,
    readyTimeout: ep.connectTimeoutMs ?? 15_000,
    keepaliveInterval: 10_000,
    // As OpenSSH does: ask first for the key types on record, so a second host key is not a "change".
    algorithms: {
      serverHostKey: preferredHostKeyAlgorithms(ep.knownHostsPath, ep.host.toLowerCase(), ep.port, HOST_KEY_ALGORITHMS) as NonNullable<
        ConnectConfig['algorithms']
      >['serverHostKey'],
    },
    hostVerifier: (key: Buffer) => {
      const problem = hostKeyProblem(ep, key);
      if (problem) state.hostKeyError = problem;
      return !problem;
    },
  };
  if (ep.privateKeyPath) {
    if (!existsSync(ep.privateKeyPath)) {
      throw new SshError(
        `${where(ep)}: private key file ${ep.privateKeyPath} not found; fix: correct the key path in the inventory or create the key (ssh-keygen -t ed25519 -f ${ep.privateKeyPath})`,
      );
    }
    const key = readFileSync(ep.privateKeyPath);
    const parsed = ssh2.utils.parseKey(key);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first instanceof Error || !first?.isPrivateKey()) {
      const why = first instanceof Error ? first.message : 'it holds a public key';
      const encrypted = /encrypted|passphrase/i.test(why);
      throw new SshError(
        encrypted
          ? `${where(ep)}: private key file ${ep.privateKeyPath} is protected by a passphrase; fix: load it into ssh-agent (ssh-add ${ep.privateKeyPath}) and use the agent for this host (agent: true in the inventory)`
          : `${where(ep)}: private key file ${ep.privateKeyPath} is not a usable private key (${why}); fix: point the inventory at the private key (not the .pub file)`,
      );
    }
    // OpenSSH refuses a private key others may read (sshkey_perm_ok): so does hardway.
    const st = statSync(ep.privateKeyPath);
    if (st.uid === process.getuid?.() && (st.mode & 0o077) !== 0) {
      throw new SshError(
        `${where(ep)}: private key file ${ep.privateKeyPath} is readable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}), and OpenSSH refuses such a key (UNPROTECTED PRIVATE KEY FILE); fix: chmod 600 ${ep.privateKeyPath}`,
      );
    }
    cfg.privateKey = key;
    if (ep.agent) cfg.agent = ep.agent;
  } else {
    const agent = ep.agent ?? process.env.SSH_AUTH_SOCK;
    if (!agent)
      throw new SshError(
        `${where(ep)}: no private key and no ssh-agent; fix: set a key file for the host in the inventory, or start ssh-agent and ssh-add your key`,
      );
    cfg.agent = agent;
  }
  return cfg;
}

function connectOnce(ep: SshEndpoint, via?: ClientChannel): Promise<Client> {
  return new Promise((resolve, reject) => {
    const state: { hostKeyError?: string } = {};
    let cfg: ConnectConfig;
    try {
      cfg = connectConfig(ep, state);
    } catch (e) {
      reject(e);
      return;
    }
    // Our own stream, so that the first bytes the peer sends are seen (HTTP? a banner? nothing?).
    const sock: Duplex = via ?? tcpConnect({ host: ep.host, port: ep.port });
    const wire: Wire = { timeoutS: Math.round((cfg.readyTimeout ?? 15_000) / 1000) };
    const peek = (d: Buffer) => {
      wire.first = wire.first ? Buffer.concat([wire.first, d]).subarray(0, 256) : d;
      if (wire.first.length >= 64 || wire.first.includes(10)) sock.off('data', peek);
    };
    sock.on('data', peek);
    cfg.sock = sock as NonNullable<ConnectConfig['sock']>;
    const c = new ssh2.Client();
    let settled = false;
    c.once('ready', () => {
      settled = true;
      sock.off('data', peek);
      resolve(c);
    });
    // ssh2 may emit 'error' more than once (a timeout, then the lost connection): keep listening
    // for the life of the client; only the first error of a connection attempt is the verdict.
    c.on('error', (e) => {
      if (settled) return;
      settled = true;
      reject(state.hostKeyError ? new SshError(state.hostKeyError) : explain(ep, e, wire));
      c.end();
    });
    c.connect(cfg);
  });
}

function forward(via: Client, viaEp: SshEndpoint, ep: SshEndpoint): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, ep.host, ep.port, (err, ch) =>
      err
        ? reject(
            new SshError(
              `${where(ep)}: cannot connect through the jump host ${viaEp.name} (${err.message}); fix: check the address and port in the inventory as seen from ${viaEp.host}, and that ${viaEp.name} allows TCP forwarding`,
            ),
          )
        : resolve(ch),
    );
  });
}

/** Connects to `ep` through its chain of jump hosts; returns the client and the jump clients. */
async function connectChain(ep: SshEndpoint, depth = 0): Promise<{ client: Client; jumps: Client[] }> {
  if (!ep.jump) return { client: await connectOnce(ep), jumps: [] };
  if (depth > 5)
    throw new SshError(
      `${where(ep)}: more than 5 jump hosts (a ProxyJump loop?); fix: check the jump settings in the inventory and ~/.ssh/config`,
    );
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
      if (!(e instanceof SshError && e.retryable)) throw e;
      await new Promise((res) => setTimeout(res, 1500));
      r = await connectChain(ep);
    }
    return new SshSession(ep, r.client, r.jumps);
  }

  /** Runs a command (through sudo when configured); never throws on a non-zero exit code. */
  exec(command: string, opts: { stdin?: string | Buffer | Readable; timeoutMs?: number } = {}): Promise<ExecResult> {
    const cmd = this.endpoint.sudo ? `sudo -n sh -c ${shq(command)}` : command;
    return this.limiter.run(() => {
      // Timed from when a channel is free (not while it queued behind the session limit).
      const startedAt = Date.now();
      return new Promise<ExecResult>((resolve, reject) => {
        const run = (f: () => void) => {
          try {
            f();
          } catch (e) {
            reject(
              new SshError(
                `${where(this.endpoint)}: the SSH connection is gone (${(e as Error).message}); fix: check that ${this.endpoint.host} is up, then run again`,
              ),
            );
          }
        };
        let attempts = 0;
        const open = () =>
          run(() =>
            this.client.exec(cmd, (err, ch) => {
              // sshd refuses a channel now and then under load (MaxSessions counts channels that are
              // still closing): a refused open is retried a few times before it is an error.
              if (err && /Channel open failure/i.test(err.message) && ++attempts < 6) return void setTimeout(open, 250 * attempts);
              if (err) return reject(new SshError(`${where(this.endpoint)}: cannot run a command (${err.message})`));
              const out: Buffer[] = [];
              const errOut: Buffer[] = [];
              let timer: NodeJS.Timeout | undefined;
              if (opts.timeoutMs) {
                timer = setTimeout(() => {
                  ch.close();
                  reject(
                    new SshError(`${where(this.endpoint)}: command timed out after ${opts.timeoutMs! / 1000} s: ${command.slice(0, 120)}`),
                  );
                }, opts.timeoutMs);
              }
              ch.on('data', (d: Buffer) => out.push(d));
              ch.stderr.on('data', (d: Buffer) => errOut.push(d));
              ch.on('close', (code: number | null, signal?: string) => {
                if (timer) clearTimeout(timer);
                const r = {
                  code: code ?? (signal ? 128 : 255),
                  stdout: Buffer.concat(out).toString('utf8'),
                  stderr: Buffer.concat(errOut).toString('utf8'),
                };
                traceExec(this.endpoint.name, startedAt, command, { code: r.code, outBytes: out.reduce((n, b) => n + b.length, 0) });
                resolve(r);
              });
              if (opts.stdin === undefined) ch.end();
              else if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) ch.end(opts.stdin);
              else opts.stdin.pipe(ch);
            }),
          );
        open();
      });
    });
  }

  /** Writes content to a remote file (parent folders created), atomically via a temp file. */
  async writeFile(path: string, content: string | Buffer | Readable, mode = 0o644): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, '') || '/';
    const tmp = `${path}.hardway-tmp`;
    const r = await this.exec(
      `mkdir -p ${shq(dir)} && cat > ${shq(tmp)} && chmod ${mode.toString(8)} ${shq(tmp)} && mv -f ${shq(tmp)} ${shq(path)}`,
      { stdin: content },
    );
    if (r.code !== 0) throw new SshError(`${where(this.endpoint)}: cannot write ${path}: ${r.stderr.trim()}`);
  }

  /** Copies a local file to the host (streams; fine for 100 MB binaries). */
  async upload(localPath: string, remotePath: string, mode = 0o755): Promise<void> {
    await this.writeFile(remotePath, createReadStream(localPath), mode);
  }

  /**
   * A local TCP port on 127.0.0.1 whose connections are carried over this session to host:port as
   * the remote host sees it (its loopback, its /etc/hosts names): the API of a cluster whose
   * kubeconfig names https://127.0.0.1:6443, or an apiserver reachable only from its hosts.
   */
  async tunnel(host: string, port: number): Promise<{ port: number; close(): void }> {
    const { createServer } = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
        if (err) {
          sock.destroy();
          return;
        }
        sock.pipe(ch).pipe(sock);
        ch.on('error', () => sock.destroy());
        sock.on('error', () => ch.close());
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
    const local = (server.address() as import('node:net').AddressInfo).port;
    server.unref();
    return {
      port: local,
      close() {
        for (const s of sockets) s.destroy();
        server.close();
      },
    };
  }

  close(): void {
    this.client.end();
    for (const j of this.jumpClients) j.end();
  }
}
