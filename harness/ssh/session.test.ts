// SSH errors are one line naming the host and the fix, and never carry key material; a port that
// is not sshd is one line too (never a crash), and host keys are judged as the ssh client judges
// them, against a real sshd on loopback.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCluster } from '../model/load.ts';
import { sshTarget } from '../targets/ssh.ts';
import { hostPattern } from './known-hosts.ts';
import { SshError, SshSession } from './session.ts';
import { type Sshd, sshdEndpoint, startSshd } from './sshd-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hardway-ssh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SSH errors', () => {
  it('redact key material and tokens that reach a message', () => {
    const e = new SshError(
      'node-1: odd: -----BEGIN OPENSSH PRIVATE\u0020KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE\u0020KEY----- token=abcdefghijklmnop',
    );
    expect(e.message).toBe('node-1: odd: [redacted private key] token=[redacted]');
  });

  it('a closed port on loopback: cannot connect, after one retry, with the fix', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const key = join(tmp, 'id');
    const { utils } = (await import('ssh2')).default;
    writeFileSync(key, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    const t0 = Date.now();
    const err = await SshSession.connect({
      name: 'node-9',
      host: '127.0.0.1',
      port,
      user: 'root',
      privateKeyPath: key,
      knownHostsPath: join(tmp, 'kh'),
    }).catch((e: Error) => e);
    expect(String((err as Error).message)).toBe(
      `node-9 (root@127.0.0.1:${port}): cannot connect (ECONNREFUSED); fix: check the address and port in the inventory, that the host is up and sshd listens there`,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400); // the one retry
  });

  it('a passphrase-protected key and a public key given as the key file', async () => {
    const { utils } = (await import('ssh2')).default;
    const enc = join(tmp, 'enc');
    writeFileSync(
      enc,
      utils.generateKeyPairSync('ed25519', { passphrase: 'secret-pass', cipher: 'aes256-ctr', rounds: 2 } as never).private,
    );
    const pub = join(tmp, 'pub');
    writeFileSync(pub, utils.generateKeyPairSync('ed25519').public);
    const ep = { name: 'm', host: '127.0.0.1', port: 1, user: 'root', knownHostsPath: join(tmp, 'kh') };
    await expect(SshSession.connect({ ...ep, privateKeyPath: enc })).rejects.toThrow(
      /^m \(root@127\.0\.0\.1:1\): private key file .*enc is protected by a passphrase; fix: load it into ssh-agent/,
    );
    await expect(SshSession.connect({ ...ep, privateKeyPath: pub })).rejects.toThrow(
      /^m \(root@127\.0\.0\.1:1\): private key file .*pub is not a usable private key .*; fix: point the inventory at the private key/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Against listeners that are not sshd, and a real sshd on loopback.

const execFileP = promisify(execFile);

async function listen(srv: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as { port: number }).port;
}

describe('ports that are not SSH: one line per host with the fix, no crash', () => {
  const servers: { close(): unknown }[] = [];
  const ports: Record<string, number> = {};
  let key: string;
  beforeAll(async () => {
    const { utils } = (await import('ssh2')).default;
    key = join(tmp, 'id-nonssh');
    writeFileSync(key, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    const silent = createServer(() => undefined);
    const closes = createServer((s) => s.destroy());
    const banner = createServer((s) => s.end('220 mail.example ESMTP ready\r\n'));
    const web = createHttpServer((_q, s) => s.end('hello'));
    ports.silent = await listen(silent);
    ports.closes = await listen(closes);
    ports.banner = await listen(banner);
    ports.http = await listen(web);
    servers.push(silent, closes, banner, web);
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });

  const table: [kind: string, message: RegExp][] = [
    [
      'silent',
      /: the port accepts connections but sends nothing within 1 s \(no SSH greeting\): not sshd, or a firewall swallows the traffic; fix: check the port in the inventory/,
    ],
    ['http', /: the port speaks HTTP \("HTTP\/1\.1 400 Bad Request"\), not SSH; fix: check the port in the inventory/],
    ['closes', /: the port closed the connection at once, before any SSH greeting: not sshd, .*; fix: check the port in the inventory/],
    ['banner', /: the port answers "220 mail\.example ESMTP ready", not an SSH greeting; fix: check the port/],
  ];
  for (const [kind, message] of table) {
    it(kind, async () => {
      const err = await SshSession.connect({
        name: kind,
        host: '127.0.0.1',
        port: ports[kind]!,
        user: 'root',
        privateKeyPath: key,
        knownHostsPath: join(tmp, 'kh'),
        connectTimeoutMs: 1000,
      }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(SshError);
      const msg = (err as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg.startsWith(`${kind} (root@127.0.0.1:${ports[kind]}): `)).toBe(true);
      expect(msg).toMatch(message);
      // The process survives ssh2's second 'error' event (a timeout is followed by the lost connection).
      await new Promise((r) => setTimeout(r, 300));
    });
  }
});

describe('a real sshd on loopback', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd(['ed25519', 'rsa']);
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  const ep = (kh: string) => sshdEndpoint(sshd, 'real', kh);
  const kh = (name: string, text: string) => {
    const f = join(tmp, `kh-${name}`);
    writeFileSync(f, text);
    return f;
  };

  it('connects with the recorded [host]:port key and runs a command', async () => {
    const s = await SshSession.connect(ep(kh('ok', `${hostPattern('127.0.0.1', sshd.port)} ${sshd.hostKeys['ssh-ed25519']}\n`)));
    try {
      expect((await s.exec('echo hardway')).stdout).toBe('hardway\n');
    } finally {
      s.close();
    }
  });

  it('writes each command it runs to $HARDWAY_TRACE, redacted, without its output', async () => {
    const trace = join(tmp, 'trace.jsonl');
    const s = await SshSession.connect(ep(kh('trace', `${hostPattern('127.0.0.1', sshd.port)} ${sshd.hostKeys['ssh-ed25519']}\n`)));
    process.env.HARDWAY_TRACE = trace;
    try {
      await s.exec('echo hardway');
      await s.exec('exit 3 # token=abcdefgh12345678');
    } finally {
      delete process.env.HARDWAY_TRACE;
      s.close();
    }
    const lines = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { where: 'real', code: 0, outBytes: 8, command: 'echo hardway' },
      { where: 'real', code: 3, outBytes: 0, command: 'exit 3 # token=[redacted]' },
    ]);
    expect(lines[0].ms).toBeGreaterThanOrEqual(0);
  });

  it('every host gets its verdict: three broken ports and one sshd, one line each for the broken', async () => {
    const silent = createServer(() => undefined);
    const closes = createServer((s) => s.destroy());
    const web = createHttpServer((_q, s) => s.end('x'));
    const [p1, p2, p3] = [await listen(silent), await listen(closes), await listen(web)];
    try {
      const cluster = parseCluster(`name: t
masters: [{ host: master, address: 10.9.0.10 }]
workers: [{ host: node-1, address: 10.9.0.21 }, { host: node-2, address: 10.9.0.22 }, { host: node-3, address: 10.9.0.23 }]
`);
      const good = kh('preflight', `${hostPattern('127.0.0.1', sshd.port)} ${sshd.hostKeys['ssh-ed25519']}\n`);
      const e = (name: string, port: number) => ({ ...ep(good), name, port, connectTimeoutMs: 1000 });
      const target = sshTarget(
        't',
        cluster,
        true,
        [e('master', p1), e('node-1', sshd.port), e('node-2', p2), e('node-3', p3)],
        false,
        {},
        { preflight: true },
      );
      const err = await target.preflight!().catch((x: Error) => x);
      await target.close();
      const lines = String((err as Error).message).split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^master .*sends nothing within 1 s.*; fix: /);
      expect(lines[1]).toMatch(/^node-2 .*closed the connection at once.*; fix: /);
      expect(lines[2]).toMatch(/^node-3 .*speaks HTTP.*; fix: /);
    } finally {
      for (const s of [silent, closes, web]) s.close();
    }
  });

  it('refuses a private key others can read, as OpenSSH does', async () => {
    const loose = join(tmp, 'loose-key');
    writeFileSync(loose, readFileSync(sshd.clientKey));
    chmodSync(loose, 0o644);
    const err = await SshSession.connect({ ...ep(kh('loose', '')), privateKeyPath: loose }).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `real (${sshd.user}@127.0.0.1:${sshd.port}): private key file ${loose} is readable by others (mode 0644), and OpenSSH refuses such a key (UNPROTECTED PRIVATE KEY FILE); fix: chmod 600 ${loose}`,
    );
  });

  // The connection-time decision, held to OpenSSH's client against the same sshd: where
  // ssh-keygen -F only lists lines, this is what ssh does with them.
  it('accepts and refuses exactly where the ssh client does', async () => {
    const { utils } = (await import('ssh2')).default;
    const other = utils.generateKeyPairSync('ed25519').public.split(' ').slice(0, 2).join(' ');
    const otherRsa = utils.generateKeyPairSync('rsa', { bits: 2048 }).public.split(' ').slice(0, 2).join(' ');
    const name = hostPattern('127.0.0.1', sshd.port);
    const ed = sshd.hostKeys['ssh-ed25519']!;
    const rsa = sshd.hostKeys['ssh-rsa']!;
    const hashed = kh('to-hash', `${name} ${ed}\n`);
    await execFileP('ssh-keygen', ['-H', '-f', hashed]);
    const table: [label: string, text: string, ours: RegExp | 'ok'][] = [
      ['plain [host]:port', `${name} ${ed}\n`, 'ok'],
      ['hashed [host]:port', readFileSync(hashed, 'utf8'), 'ok'],
      ['wildcard with port', `[127.0.0.?]:* ${ed}\n`, 'ok'],
      ['only the RSA key recorded (the server has two)', `${name} ${rsa}\n`, 'ok'],
      ['the entry without the port (ssh: "found matching key w/out port")', `127.0.0.1 ${ed}\n`, 'ok'],
      ['another key in the entry without the port', `127.0.0.1 ${other}\n`, /unknown host key/],
      ['a changed key', `${name} ${other}\n`, /HOST KEY CHANGED/],
      ['a changed RSA key only', `${name} ${otherRsa}\n`, /HOST KEY CHANGED/],
      // ssh then asks for the RSA key (a revoked type is not preferred) and accepts: so do we.
      ['@revoked next to both recorded keys', `${name} ${ed}\n${name} ${rsa}\n@revoked ${name} ${ed}\n`, 'ok'],
      ['@revoked next to the only recorded key', `${name} ${ed}\n@revoked ${name} ${ed}\n`, /REVOKED HOST KEY/],
      ['@revoked by a wildcard', `${name} ${ed}\n@revoked * ${ed}\n@revoked * ${rsa}\n`, /REVOKED HOST KEY/],
      ['@cert-authority only', `@cert-authority ${name} ${ed}\n`, /unknown host key .*only @cert-authority lines/],
      ['negated', `!${name},[127.0.0.*]:* ${ed}\n`, /unknown host key/],
    ];
    const problems: string[] = [];
    for (const [label, text, want] of table) {
      const f = kh(label.replace(/\W+/g, '-'), text);
      const ours = await SshSession.connect(ep(f)).then(
        (s) => (s.close(), 'ok'),
        (e: Error) => e.message,
      );
      const ssh = await execFileP('ssh', [
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${f}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'UpdateHostKeys=no',
        '-o',
        'CheckHostIP=no',
        '-o',
        'IdentitiesOnly=yes',
        '-i',
        sshd.clientKey,
        '-p',
        String(sshd.port),
        `${sshd.user}@127.0.0.1`,
        'true',
      ]).then(
        () => 'ok',
        (e: { stderr?: string }) => `refused: ${(e.stderr ?? '').trim().split('\n').pop()}`,
      );
      if ((ours === 'ok') !== (ssh === 'ok')) problems.push(`${label}: ours ${ours}; ssh ${ssh}`);
      if (want === 'ok' ? ours !== 'ok' : !want.test(ours)) problems.push(`${label}: ours ${ours}`);
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
