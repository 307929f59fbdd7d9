// A host as the installer drives it: commands that must succeed, waits for a component's own
// health signal, and the diagnosis (unit state + last journal lines) when the signal never comes.
import type { Readable } from 'node:stream';
import type { Host } from '../model/cluster.ts';
import type { SshSession } from '../ssh/session.ts';
import { UserFacingError } from '../cli/errors.ts';

export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Remote {
  readonly name: string;
  readonly init: Host['init'];
  readonly ssh: SshSession;
  constructor(name: string, ssh: SshSession, init: Host['init'] = 'systemd') {
    this.name = name;
    this.ssh = ssh;
    this.init = init;
  }

  /** Runs a command that must succeed; the error names the host, the command and its output. */
  async run(cmd: string, opts: { timeoutMs?: number; stdin?: string | Buffer | Readable } = {}): Promise<string> {
    const r = await this.ssh.exec(cmd, {
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
    });
    if (r.code !== 0) {
      const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-4).join(' | ');
      throw new UserFacingError(`${this.name}: "${cmd.slice(0, 160)}" failed (exit ${r.code}): ${out}`, 1);
    }
    return r.stdout;
  }

  async enableStart(service: string): Promise<void> {
    if (this.init === 'openrc') await this.run(`rc-update add ${service} default && rc-service ${service} start`);
    else await this.run(`systemctl enable --now ${service}.service`);
  }

  /** Unit state and last journal lines: what the seed says to look at first (journalctl -u). */
  async diagnose(service: string, lines = 15): Promise<string> {
    const cmd =
      this.init === 'openrc'
        ? `rc-service ${service} status 2>&1; tail -n ${lines} /var/log/${service}.log 2>&1`
        : `systemctl show -p ActiveState -p SubState -p NRestarts ${service}.service | paste -sd' '; journalctl -u ${service}.service -n ${lines} --no-pager -o cat 2>&1`;
    const r = await this.ssh.exec(cmd, { timeoutMs: 20_000 });
    return r.stdout.trim();
  }

  /** Polls `check` (a shell command) until it exits 0; on timeout throws with the diagnosis. */
  async waitFor(service: string, signal: string, check: string, timeoutMs = 90_000): Promise<void> {
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < timeoutMs) {
      const r = await this.ssh.exec(check, { timeoutMs: 15_000 }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
      if (r.code === 0) return;
      last = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? '';
      // A quick local probe over an open connection: poll often, so nothing waits for the next tick.
      await new Promise((res) => setTimeout(res, 250));
    }
    const diag = await this.diagnose(service).catch(() => '(no diagnosis: the host did not answer)');
    throw new UserFacingError(
      `${this.name}: ${service} did not become healthy within ${Math.round(timeoutMs / 1000)} s (waited for ${signal}${last ? `; last answer: ${last}` : ''}).\n` +
        `  unit and journal:\n${diag
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n')}\n` +
        `  fix: read the whole journal (hardway lab logs ${this.name} ${service}, or journalctl -u ${service} on the host)`,
      1,
    );
  }
}
