// For tests: a real OpenSSH sshd on 127.0.0.1 with host keys generated into a temp folder, a
// client key authorised for the current user, and stop() that ends exactly this sshd and
// removes the folder. Needs Debian's openssh-server (bin/prepare-machine installs it).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  user: string;
  dir: string;
  /** The client's private key file (mode 0600), authorised for `user`. */
  clientKey: string;
  /** Host public keys as "type base64" by type (ssh-ed25519, ssh-rsa). */
  hostKeys: Record<string, string>;
  stop(): Promise<void>;
}

/** An SSH endpoint (harness/ssh/session.ts) of this sshd, as `name`, checked against `knownHostsPath`. */
export function sshdEndpoint(sshd: Sshd, name: string, knownHostsPath: string) {
  return {
    name,
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    privateKeyPath: sshd.clientKey,
    knownHostsPath,
    connectTimeoutMs: 5000,
  };
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function keygen(file: string, type: 'ed25519' | 'rsa'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', 'hardway-test', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/** Starts sshd; `types` are the host key types it offers. */
export async function startSshd(types: ('ed25519' | 'rsa')[] = ['ed25519']): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server (bin/prepare-machine does)`);
  const dir = mkdtempSync(join(tmpdir(), 'hardway-sshd-'));
  let child: ChildProcess | undefined;
  try {
    // As root, sshd insists on its privilege separation folder.
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKeys: Record<string, string> = {};
    for (const t of types) hostKeys[t === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519'] = keygen(join(dir, `host_${t}`), t);
    const clientKey = join(dir, 'client');
    const pub = keygen(clientKey, 'ed25519');
    writeFileSync(join(dir, 'authorized_keys'), `${pub}\n`, { mode: 0o600 });
    const port = await freePort();
    writeFileSync(
      join(dir, 'sshd_config'),
      `${[
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...types.map((t) => `HostKey ${join(dir, `host_${t}`)}`),
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        `PidFile ${join(dir, 'sshd.pid')}`,
        'LogLevel ERROR',
        'MaxStartups 50',
      ].join('\n')}\n`,
    );
    child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const started = child;
    const exited = new Promise<void>((r) => started.once('exit', () => r()));
    // Ready when it accepts a TCP connection and says SSH-.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`sshd exited (${started.exitCode}): ${log.trim()}`);
      const ok = await new Promise<boolean>((r) => {
        const s = createConnection(port, r);
        s.once('error', () => r(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${log.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      port,
      user: userInfo().username,
      dir,
      clientKey,
      hostKeys,
      async stop() {
        if (started.exitCode === null) started.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (started.exitCode === null && started.signalCode === null) started.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Connects and reports whether the peer greets with SSH-. */
function createConnection(port: number, done: (ok: boolean) => void) {
  const s = netConnect({ host: '127.0.0.1', port });
  s.once('data', (d: Buffer) => {
    done(d.toString('latin1').startsWith('SSH-'));
    s.destroy();
  });
  s.setTimeout(1000, () => {
    done(false);
    s.destroy();
  });
  return s;
}
