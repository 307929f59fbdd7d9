// The SSH target's host access: one tunnel per (host, port) for the whole target, closed with it;
// listFiles lists nothing for a missing folder and fails when find fails. Against a real sshd on
// loopback (the shell commands as they run), and a fake session for what root cannot provoke.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCluster } from '../model/load.ts';
import { hostPattern } from '../ssh/known-hosts.ts';
import { SshSession } from '../ssh/session.ts';
import { type Sshd, sshdEndpoint, startSshd } from '../ssh/sshd-fixture.ts';
import { sshTarget } from './ssh.ts';
import type { ExecResult } from './target.ts';

const cluster = parseCluster(`name: t
masters: [{ host: master, address: 10.9.0.10 }]
workers: [{ host: node-1, address: 10.9.0.21 }]
`);
const tmp = mkdtempSync(join(tmpdir(), 'hardway-ssh-target-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('against a real sshd', () => {
  let sshd: Sshd;
  let echo: Server;
  let echoPort: number;
  beforeAll(async () => {
    sshd = await startSshd(['ed25519']);
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterAll(async () => {
    echo?.close();
    await sshd?.stop();
  });
  const open = () => {
    const kh = join(tmp, 'known_hosts');
    writeFileSync(kh, `${hostPattern('127.0.0.1', sshd.port)} ${sshd.hostKeys['ssh-ed25519']}\n`);
    const ep = (name: string) => sshdEndpoint(sshd, name, kh);
    return sshTarget('t', cluster, true, [ep('master'), ep('node-1')], false);
  };
  const roundTrip = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('ping'));
      s.once('data', (d) => {
        resolve(d.toString());
        s.destroy();
      });
      s.once('error', reject);
    });

  it('opens one tunnel per (host, port), reused by every caller, and closes it with the target', async () => {
    const target = open();
    const h = target.host('master');
    const [a, b] = await Promise.all([h.tunnel!('127.0.0.1', echoPort), h.tunnel!('127.0.0.1', echoPort)]);
    const c = await h.tunnel!('127.0.0.1', echoPort);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await roundTrip(a)).toBe('ping');
    expect(await roundTrip(a)).toBe('ping');
    await target.close();
    await expect(roundTrip(a)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('listFiles: the regular files below a folder, nothing for a missing folder', async () => {
    const dir = join(tmp, 'tree');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.conf'), 'a');
    writeFileSync(join(dir, 'sub', 'b.conf'), 'b');
    const target = open();
    try {
      const h = target.host('node-1');
      expect(await h.listFiles(dir)).toEqual([join(dir, 'a.conf'), join(dir, 'sub', 'b.conf')]);
      expect(await h.listFiles(join(tmp, 'no-such-dir'))).toEqual([]);
    } finally {
      await target.close();
    }
  });
});

describe('with a fake session', () => {
  afterEach(() => vi.restoreAllMocks());
  const fake = (exec: (cmd: string) => ExecResult) => {
    const closed: number[] = [];
    let next = 40000;
    const session = {
      endpoint: { name: 'master' },
      exec: async (cmd: string) => exec(cmd),
      tunnel: vi.fn(async () => {
        const port = next++;
        return { port, close: () => void closed.push(port) };
      }),
      close: () => undefined,
    };
    vi.spyOn(SshSession, 'connect').mockResolvedValue(session as unknown as SshSession);
    const target = sshTarget(
      't',
      cluster,
      true,
      [{ name: 'master', host: '10.9.0.10', port: 22, user: 'root', knownHostsPath: join(tmp, 'kh') }],
      false,
    );
    return { target, session, closed };
  };

  it('a tunnel per distinct (host, port); all closed with the target', async () => {
    const { target, session, closed } = fake(() => ({ code: 0, stdout: '', stderr: '' }));
    const h = target.host('master');
    const a = await h.tunnel!('127.0.0.1', 6443);
    expect(await h.tunnel!('127.0.0.1', 6443)).toBe(a);
    const b = await h.tunnel!('server.kubernetes.local', 6443);
    const c = await h.tunnel!('127.0.0.1', 2379);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(session.tunnel).toHaveBeenCalledTimes(3);
    await target.close();
    expect(closed.sort()).toEqual([a, b, c].sort());
  });

  it('a tunnel that could not be opened is tried again by the next caller', async () => {
    const { target, session } = fake(() => ({ code: 0, stdout: '', stderr: '' }));
    session.tunnel.mockRejectedValueOnce(new Error('channel refused'));
    const h = target.host('master');
    await expect(h.tunnel!('127.0.0.1', 6443)).rejects.toThrow('channel refused');
    expect(await h.tunnel!('127.0.0.1', 6443)).toBe(40000);
    await target.close();
  });

  it('listFiles fails when find fails, instead of listing nothing', async () => {
    const { target } = fake((cmd) =>
      cmd.includes('/etc/kubernetes')
        ? { code: 1, stdout: '/etc/kubernetes/a\n', stderr: "find: '/etc/kubernetes/pki': Permission denied\n" }
        : { code: 0, stdout: '/x/b\n/x/a\n', stderr: '' },
    );
    const h = target.host('master');
    await expect(h.listFiles('/etc/kubernetes')).rejects.toThrow(
      "master: cannot list /etc/kubernetes: find: '/etc/kubernetes/pki': Permission denied",
    );
    expect(await h.listFiles('/x')).toEqual(['/x/a', '/x/b']);
    await target.close();
  });
});
