// Binaries: checksum verification and release downloads against a local HTTP server (loopback
// only), and a source build that fails with a one-line error naming its log.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cache = mkdtempSync(join(tmpdir(), 'hardway-bin-test-'));
process.env.HARDWAY_CACHE = cache;
const { checksumMatches, downloadRelease, ensureBinaries } = await import('./binaries.ts');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const files = new Map<string, Buffer>();
let server: Server;
let base = '';

beforeAll(async () => {
  const bin = Buffer.from('#!/bin/sh\necho fake-kubelet\n');
  files.set('/kubelet', bin);
  files.set('/kubelet.sha256', Buffer.from(sha(bin)));
  files.set('/bad.sha256', Buffer.from(`${'0'.repeat(64)}  kubelet\n`));
  // An archive with the binary inside, and its checksum file in "<hex>  <name>" form.
  const dir = mkdtempSync(join(tmpdir(), 'hardway-bin-archive-'));
  writeFileSync(join(dir, 'coredns'), 'fake-coredns');
  const tgz = execFileSync('tar', ['-C', dir, '-czf', '-', 'coredns']);
  rmSync(dir, { recursive: true });
  files.set('/coredns.tgz', tgz);
  files.set('/coredns.tgz.sha256', Buffer.from(`${sha(tgz)}  coredns.tgz\n`));
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
  rmSync(cache, { recursive: true, force: true });
});

describe('checksums', () => {
  it('accepts the published hex with or without a file name, and nothing else', () => {
    const data = Buffer.from('x');
    expect(checksumMatches(data, sha(data)).ok).toBe(true);
    expect(checksumMatches(data, `${sha(data)}  x\n`).ok).toBe(true);
    expect(checksumMatches(data, sha(Buffer.from('y'))).ok).toBe(false);
    expect(checksumMatches(data, '<html>not found</html>').ok).toBe(false);
  });
});

describe('release downloads', () => {
  it('downloads a plain binary and an archive member, both checked', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hardway-dl-'));
    try {
      await downloadRelease(
        [
          { url: `${base}/kubelet`, sha256Url: `${base}/kubelet.sha256`, installAs: 'kubelet' },
          { url: `${base}/coredns.tgz`, sha256Url: `${base}/coredns.tgz.sha256`, member: 'coredns', installAs: 'coredns' },
        ],
        out,
        () => undefined,
      );
      expect(readFileSync(join(out, 'kubelet'), 'utf8')).toContain('fake-kubelet');
      expect(readFileSync(join(out, 'coredns'), 'utf8')).toBe('fake-coredns');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses a file whose checksum does not match, naming both sums', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hardway-dl-'));
    try {
      await expect(
        downloadRelease([{ url: `${base}/kubelet`, sha256Url: `${base}/bad.sha256`, installAs: 'kubelet' }], out, () => undefined),
      ).rejects.toThrow(new RegExp(`checksum mismatch for ${base}/kubelet: published 0{64}, downloaded ${sha(files.get('/kubelet')!)}`));
      expect(existsSync(join(out, 'kubelet'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('names the HTTP status of a missing file', async () => {
    await expect(
      downloadRelease([{ url: `${base}/nope`, sha256Url: `${base}/nope.sha256`, installAs: 'x' }], cache, () => undefined),
    ).rejects.toThrow(/answered HTTP 404; fix: check the version in harness\/binaries\/manifest\.ts/);
  });
});

describe('source builds', () => {
  it('a failing build is one line naming the component and its full log', async () => {
    const broken = {
      name: 'broken',
      version: 'v0.0.1',
      binaries: ['broken'],
      release: [],
      build: { module: 'example.invalid/broken', version: 'v0.0.1', staging: '-', ldflags: '-s -w', packages: ['example.invalid/broken'] },
    };
    // No network: the module lookup itself is what fails.
    const saved = process.env.GOPROXY;
    process.env.GOPROXY = 'off';
    try {
      const err = await ensureBinaries('build', () => undefined, [broken]).catch((e: Error) => e);
      const log = join(cache, 'logs', 'broken-v0.0.1.log');
      expect(String(err)).toMatch(/building broken v0\.0\.1 failed \(exit \d+\): .*; the full log is .*broken-v0\.0\.1\.log/);
      expect(String(err).split('\n')).toHaveLength(1);
      expect(existsSync(log)).toBe(true);
      expect(existsSync(join(cache, 'bin', 'broken-v0.0.1'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.GOPROXY;
      else process.env.GOPROXY = saved;
    }
  });
});
