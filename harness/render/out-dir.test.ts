// The render folder rules and the CA reuse rule, on real folders: render never deletes or
// overwrites what it did not write, refuses foreign folders and unusable places in one line
// (exit code 2), never mixes two CAs, and never replaces a CA without --rotate-ca.
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCluster, parseCluster } from '../model/load.ts';
import { parseCertificates, x509 } from '../pki/keys.ts';
import { LOCK, MANIFEST, checkOutDir, renderedFiles } from './out-dir.ts';
import { renderToDir } from './render.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const HARDWAY = join(ROOT, 'bin/hardway');
const CONFIG = join(ROOT, 'fixtures/lab/cluster.yaml');
const lab = loadCluster(CONFIG);
const tmp = mkdtempSync(join(tmpdir(), 'hardway-outdir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const fresh = (tag: string) => join(tmp, `${tag}-${n++}`);
let base: string; // one rendering, copied for each case (RSA keys take a while)
const copy = (tag: string) => {
  const d = fresh(tag);
  cpSync(base, d, { recursive: true });
  return d;
};
const errorOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => `${e.name}: ${e.message}`,
  );
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return run(HARDWAY, args, { env: { ...process.env, HARDWAY_DEBUG: '' } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}

beforeAll(async () => {
  base = fresh('base');
  await renderToDir(lab, base);
});

describe('render folder rules', () => {
  it('lists what it wrote in the manifest: every file, nothing else', () => {
    const m = JSON.parse(readFileSync(join(base, MANIFEST), 'utf8')) as { files: string[] };
    expect(m.files).toEqual(renderedFiles(base));
    expect(m.files).toContain('_pki/ca-key.pem');
    expect(m.files).toContain('master/var/lib/kubernetes/ca.pem');
    expect(existsSync(join(base, LOCK))).toBe(false);
  });

  it('keeps files it did not write inside a rendering (OUT/master/notes.txt)', async () => {
    const d = copy('notes');
    writeFileSync(join(d, 'master', 'notes.txt'), 'mine');
    writeFileSync(join(d, 'README'), 'mine too');
    await renderToDir(lab, d);
    expect(readFileSync(join(d, 'master', 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(d, 'README'), 'utf8')).toBe('mine too');
  });

  it("removes only its own files of a host no longer in the model; the user's stay", async () => {
    const d = copy('shrink');
    writeFileSync(join(d, 'node-2', 'notes.txt'), 'mine');
    const one = parseCluster(
      readFileSync(CONFIG, 'utf8').replace(/\n {2}- host: node-2\n {4}nodeName: node-2\n {4}address: 10.240.0.22/, ''),
      'one-worker.yaml',
    );
    expect(one.workers.map((w) => w.host)).toEqual(['node-1']);
    await renderToDir(one, d);
    expect(renderedFiles(join(d, 'node-2'))).toEqual(['notes.txt']);
    expect(existsSync(join(d, 'node-2', 'etc'))).toBe(false);
    const m = JSON.parse(readFileSync(join(d, MANIFEST), 'utf8')) as { files: string[] };
    expect(m.files.some((f) => f.startsWith('node-2/'))).toBe(false);
  });

  // Each row: what is in the way, and the one line render answers with.
  const refusals: [what: string, setup: (d: string) => void, message: RegExp, intact: string][] = [
    [
      'a foreign non-empty folder',
      (d) => {
        mkdirSync(d);
        writeFileSync(join(d, 'thesis.tex'), 'x');
      },
      /is not empty \(thesis\.tex\) and holds no hardway rendering \(no \.hardway-render\.json\).*; fix: render into a new or empty folder$/,
      'thesis.tex',
    ],
    [
      'a plain file named like a host folder',
      (d) => {
        cpSync(base, d, { recursive: true });
        rmSync(join(d, 'node-1'), { recursive: true });
        writeFileSync(join(d, 'node-1'), 'x');
      },
      /node-1: is a file hardway did not write, where it renders a folder; fix: move it away/,
      'node-1',
    ],
    [
      'a user file where a rendered file goes',
      (d) => {
        cpSync(base, d, { recursive: true });
        rmSync(join(d, 'master/var/lib/kubernetes/ca.pem'));
        const m = JSON.parse(readFileSync(join(d, MANIFEST), 'utf8')) as { files: string[] };
        writeFileSync(
          join(d, MANIFEST),
          JSON.stringify({ ...m, files: m.files.filter((f: string) => f !== 'master/var/lib/kubernetes/ca.pem') }),
        );
        writeFileSync(join(d, 'master/var/lib/kubernetes/ca.pem'), 'x');
      },
      /ca\.pem: exists and hardway did not write it/,
      'master/var/lib/kubernetes/ca.pem',
    ],
    [
      'a manifest that is not one',
      (d) => {
        cpSync(base, d, { recursive: true });
        writeFileSync(join(d, MANIFEST), '{"files": 3}');
      },
      /\.hardway-render\.json: not a hardway render manifest/,
      MANIFEST,
    ],
  ];
  for (const [what, setup, message, intact] of refusals) {
    it(`refuses ${what}, touching nothing`, async () => {
      const d = fresh('refuse');
      setup(d);
      const before = readFileSync(join(d, intact), 'utf8');
      const err = await errorOf(renderToDir(lab, d));
      expect(err.split('\n')).toHaveLength(1);
      expect(err).toMatch(/^OutDirError: /);
      expect(err).toMatch(message);
      expect(readFileSync(join(d, intact), 'utf8')).toBe(before);
    });
  }

  it('adopts a rendering made before manifests (it has _pki/ca.pem) without deleting anything', async () => {
    const d = copy('legacy');
    rmSync(join(d, MANIFEST));
    writeFileSync(join(d, 'master', 'notes.txt'), 'mine');
    const ca = readFileSync(join(d, '_pki/ca.pem'), 'utf8');
    const r = await renderToDir(lab, d);
    expect(r.caSource).toBe('reused');
    expect(readFileSync(join(d, '_pki/ca.pem'), 'utf8')).toBe(ca);
    expect(readFileSync(join(d, 'master', 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(d, MANIFEST))).toBe(true);
  });

  it('takes over the lock of a render that died', async () => {
    const d = copy('stale');
    writeFileSync(
      join(d, LOCK),
      JSON.stringify({ pid: 2 ** 22 + 7, host: (await import('node:os')).hostname(), startedAt: '2020-01-01T00:00:00Z' }),
    );
    await renderToDir(lab, d);
    expect(existsSync(join(d, LOCK))).toBe(false);
  });

  it('two renders into one empty folder at once: one CA, every certificate verifies against it', async () => {
    const d = fresh('race');
    const [a, b] = await Promise.all([cli('render', '--config', CONFIG, '--out', d), cli('render', '--config', CONFIG, '--out', d)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.out, b.out].filter((o) => o.includes('a new CA')).length).toBe(1);
    expect([a.out, b.out].filter((o) => o.includes('CA reused')).length).toBe(1);
    const ca = new x509.X509Certificate(readFileSync(join(d, '_pki/ca.pem'), 'utf8'));
    for (const f of renderedFiles(d).filter((p) => p.endsWith('.pem') && !p.endsWith('-key.pem'))) {
      const [cert] = parseCertificates(readFileSync(join(d, f), 'utf8'));
      expect(await cert!.verify({ publicKey: ca.publicKey, signatureOnly: true }), f).toBe(true);
    }
  }, 60_000);
});

describe('unusable --out places: one line, exit code 2', () => {
  let ro: string | undefined;
  afterAll(async () => {
    if (ro) await run('umount', [ro]).catch(() => undefined);
  });

  const table: [what: string, out: () => Promise<string> | string, message: RegExp][] = [
    [
      'a file',
      () => {
        const f = fresh('file');
        writeFileSync(f, 'x');
        return f;
      },
      /: is a file, not a folder; fix: /,
    ],
    [
      'a folder below a file',
      () => {
        const f = fresh('file');
        writeFileSync(f, 'x');
        return join(f, 'out');
      },
      /is a file, so the folder cannot be created below it; fix: /,
    ],
    ['under /proc', () => '/proc/self/hardway', /is under \/proc, a kernel file system, not a folder on disk; fix: /],
    ['under /sys', () => '/sys/kernel/hardway', /is under \/sys, a kernel file system/],
    [
      'a read-only mount',
      async () => {
        ro = fresh('ro');
        mkdirSync(ro);
        await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
        return join(ro, 'out');
      },
      /is on a read-only file system; fix: /,
    ],
  ];
  for (const [what, out, message] of table) {
    it(what, async () => {
      const r = await cli('render', '--config', CONFIG, '--out', await out());
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^hardway render: --out /);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    });
  }

  it('a folder the user cannot write (render as nobody)', async () => {
    const d = fresh('root-only');
    mkdirSync(d, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    const r = await run(HARDWAY, ['render', '--config', CONFIG, '--out', join(d, 'out')], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH!, HOME: '/tmp' },
    }).then(
      () => ({ code: 0, err: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^hardway render: --out .*: .* is not writable by this user \(uid 65534\); fix: /);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('checkOutDir accepts a new folder below a writable one', () => {
    expect(checkOutDir(join(tmp, 'new', 'deeper'))).toBe(join(tmp, 'new', 'deeper'));
  });
});

describe('the CA reuse rule', () => {
  const ROTATE = /or pass --rotate-ca to issue a new CA and keys \(then copy every host's files again\)$/;
  const table: [what: string, breakIt: (d: string) => void, message: RegExp][] = [
    [
      'ca-key.pem missing',
      (d) => rmSync(join(d, '_pki/ca-key.pem')),
      /_pki\/ca-key\.pem: missing, but .*_pki\/ca\.pem is there: a new CA would invalidate every certificate issued with it; fix: restore ca-key\.pem/,
    ],
    ['ca.pem missing', (d) => rmSync(join(d, '_pki/ca.pem')), /_pki\/ca\.pem: missing, but .*ca-key\.pem is there; fix: restore ca\.pem/],
    [
      'both missing in a rendering',
      (d) => {
        rmSync(join(d, '_pki/ca.pem'));
        rmSync(join(d, '_pki/ca-key.pem'));
      },
      /ca\.pem and .*ca-key\.pem: missing, but this folder was rendered with a CA/,
    ],
    [
      'a leaf certificate as ca.pem',
      (d) => writeFileSync(join(d, '_pki/ca.pem'), readFileSync(join(d, '_pki/kubernetes.pem'))),
      /_pki\/ca\.pem: not a CA certificate/,
    ],
    [
      'a ca.pem not matching ca-key.pem',
      (d) => writeFileSync(join(d, '_pki/ca-key.pem'), readFileSync(join(d, '_pki/kubernetes-key.pem'))),
      /_pki\/ca\.pem does not belong to .*_pki\/ca-key\.pem \(another public key\): certificates signed with the key would not verify against ca\.pem; fix: restore the matching pair/,
    ],
    [
      'a garbage CA key',
      (d) => writeFileSync(join(d, '_pki/ca-key.pem'), 'garbage\n'),
      /_pki\/ca-key\.pem: not a readable PEM private key \(.*\); fix: restore the CA key/,
    ],
    ['a garbage ca.pem', (d) => writeFileSync(join(d, '_pki/ca.pem'), 'garbage\n'), /_pki\/ca\.pem: not a readable PEM certificate/],
  ];
  for (const [what, breakIt, message] of table) {
    it(`refuses ${what}, naming the file; --rotate-ca makes a new CA`, async () => {
      const d = copy('ca');
      breakIt(d);
      const err = await errorOf(renderToDir(lab, d));
      expect(err.split('\n')).toHaveLength(1);
      expect(err).toMatch(/^PkiError: /);
      expect(err).toMatch(message);
      expect(err).toMatch(ROTATE);
      const r = await renderToDir(lab, d, true);
      expect(r.caSource).toBe('rotated');
    });
  }

  it('a garbage leaf key names its file and how to get a new key', async () => {
    const d = copy('leaf');
    writeFileSync(join(d, '_pki/kubernetes-key.pem'), 'garbage\n');
    const err = await errorOf(renderToDir(lab, d));
    expect(err).toMatch(
      /^PkiError: .*_pki\/kubernetes-key\.pem: not a readable PEM private key .*; fix: restore it from your backup, or delete it to issue a new key for the kubernetes certificate/,
    );
  });

  it('the command says where the CA came from, and exits 2 on a refusal', async () => {
    const d = copy('cli');
    const ok = await cli('render', '--config', CONFIG, '--out', d);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`(CA reused from ${d}/_pki/ca.pem)`);
    rmSync(join(d, '_pki/ca-key.pem'));
    const bad = await cli('render', '--config', CONFIG, '--out', d);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^hardway render: .*ca-key\.pem: missing/);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.out).toBe('');
  }, 30_000);
});
