// SSH errors are one line naming the host and the fix, and never carry key material.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SshError, SshSession } from './session.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hardway-ssh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('SSH errors', () => {
  it('redact key material and tokens that reach a message', () => {
    const e = new SshError('node-1: odd: -----BEGIN OPENSSH PRIVATE\u0020KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE\u0020KEY----- token=abcdefghijklmnop');
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
    const err = await SshSession.connect({ name: 'node-9', host: '127.0.0.1', port, user: 'root', privateKeyPath: key, knownHostsPath: join(tmp, 'kh') }).catch((e: Error) => e);
    expect(String((err as Error).message)).toBe(`node-9 (root@127.0.0.1:${port}): cannot connect (ECONNREFUSED); fix: check the address and port in the inventory, that the host is up and sshd listens there`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400); // the one retry
  });

  it('a passphrase-protected key and a public key given as the key file', async () => {
    const { utils } = (await import('ssh2')).default;
    const enc = join(tmp, 'enc');
    writeFileSync(enc, utils.generateKeyPairSync('ed25519', { passphrase: 'secret-pass', cipher: 'aes256-ctr', rounds: 2 } as never).private);
    const pub = join(tmp, 'pub');
    writeFileSync(pub, utils.generateKeyPairSync('ed25519').public);
    const ep = { name: 'm', host: '127.0.0.1', port: 1, user: 'root', knownHostsPath: join(tmp, 'kh') };
    await expect(SshSession.connect({ ...ep, privateKeyPath: enc })).rejects.toThrow(/^m \(root@127\.0\.0\.1:1\): private key file .*enc is protected by a passphrase; fix: load it into ssh-agent/);
    await expect(SshSession.connect({ ...ep, privateKeyPath: pub })).rejects.toThrow(/^m \(root@127\.0\.0\.1:1\): private key file .*pub is not a usable private key .*; fix: point the inventory at the private key/);
  });
});
