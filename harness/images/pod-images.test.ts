// The real thing: build the three pod images, import them into a containerd (the Docker engine's,
// in a namespace of our own) and run each under runc the way a kubelet would use it.
// Needs: dockerd running (its containerd socket), ctr, gcc, go, apt. Fails, never skips, without them.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_IMAGE, PAUSE_IMAGE, TOOLBOX_IMAGE, TOOLBOX_APPLETS, buildPodImages } from './pod-images.ts';

const SOCKET = process.env.HARDWAY_CTR_ADDRESS ?? '/run/docker/containerd/containerd.sock';
const NAMESPACE = 'hardway-imgtest';
const DEMO_PORT = 18080;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ctr(args: string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile('ctr', ['--address', SOCKET, '-n', NAMESPACE, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

async function ctrOk(args: string[]): Promise<string> {
  const r = await ctr(args);
  if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function taskStatus(id: string): Promise<string | undefined> {
  const out = await ctrOk(['tasks', 'ls']);
  const row = out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((cols) => cols[0] === id);
  return row?.[2];
}

/** Polls until the task is STOPPED; returns the ms it took, or throws after `limitMs`. */
async function waitStopped(id: string, limitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if ((await taskStatus(id)) === 'STOPPED') return Date.now() - start;
    await sleep(50);
  }
  throw new Error(`task ${id} still not stopped after ${limitMs} ms (status ${await taskStatus(id)})`);
}

/**
 * Deletes a stopped task and returns its exit code. ctr 1.6 exits 0 here whatever the code and
 * only logs a warning "task ID exit with non-zero exit code N", so the code is read from that.
 */
async function deleteTaskExitCode(id: string): Promise<number> {
  const r = await ctr(['tasks', 'delete', id]);
  if (r.code !== 0) throw new Error(`ctr tasks delete ${id} exited ${r.code}: ${r.stderr.trim()}`);
  const m = /exit with non-zero exit code (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) : 0;
}

/** Removes every task, container and image of our namespace, then the namespace itself. */
async function purgeNamespace(): Promise<string[]> {
  const problems: string[] = [];
  const note = (r: Result, what: string): void => {
    if (r.code !== 0) problems.push(`${what}: ${r.stderr.trim()}`);
  };
  const namespaces = await ctr(['namespaces', 'ls', '-q']);
  if (!namespaces.stdout.split('\n').includes(NAMESPACE)) return problems;
  const containers = (await ctr(['containers', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  for (const id of containers) {
    await ctr(['tasks', 'kill', '-s', 'SIGKILL', id]); // fails when there is no running task: fine
    await ctr(['tasks', 'delete', '--force', id]); // likewise
    note(await ctr(['containers', 'rm', id]), `containers rm ${id}`);
  }
  const images = (await ctr(['images', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  if (images.length) note(await ctr(['images', 'rm', '--sync', ...images]), 'images rm');
  const r = await execCtrGlobal(['namespaces', 'rm', NAMESPACE]);
  note(r, `namespaces rm ${NAMESPACE}`);
  return problems;
}

function execCtrGlobal(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('ctr', ['--address', SOCKET, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('pod images in containerd', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'hardway-podimg-cache-'));
  const progress: string[] = [];
  let images: { name: string; tar: string }[] = [];
  let coldMs = 0;

  beforeAll(async () => {
    if (!existsSync(SOCKET)) {
      throw new Error(`no containerd socket at ${SOCKET}: start dockerd (or set HARDWAY_CTR_ADDRESS)`);
    }
    // Leftovers of an earlier run that died before its cleanup.
    await purgeNamespace();
    const start = Date.now();
    images = await buildPodImages({ cacheDir, onProgress: (l) => progress.push(l) });
    coldMs = Date.now() - start;
    console.log(`cold build: ${coldMs} ms\n${progress.join('\n')}`);
  }, 600_000);

  afterAll(async () => {
    const problems = await purgeNamespace();
    rmSync(cacheDir, { recursive: true, force: true });
    const namespaces = (await execCtrGlobal(['namespaces', 'ls', '-q'])).stdout.split('\n');
    expect(problems, 'cleanup problems').toEqual([]);
    expect(namespaces, 'namespace left behind').not.toContain(NAMESPACE);
  }, 120_000);

  it('builds the three images, reporting each step', () => {
    expect(images.map((i) => i.name)).toEqual([PAUSE_IMAGE, TOOLBOX_IMAGE, DEMO_APP_IMAGE]);
    for (const i of images) expect(existsSync(i.tar), i.tar).toBe(true);
    expect(progress).toContain(`pod image ${PAUSE_IMAGE}: compiling pause.c`);
    expect(progress.some((l) => l.startsWith(`pod image ${DEMO_APP_IMAGE}: built in`))).toBe(true);
  });

  it('answers a second build from the cache, instantly', async () => {
    const lines: string[] = [];
    const start = Date.now();
    const again = await buildPodImages({ cacheDir, onProgress: (l) => lines.push(l) });
    const ms = Date.now() - start;
    console.log(`cached build: ${ms} ms`);
    expect(again).toEqual(images);
    expect(lines).toEqual(images.map((i) => `pod image ${i.name}: cached (${i.tar})`));
    expect(ms).toBeLessThan(1000);
  });

  it('imports every image with its name', async () => {
    for (const i of images) {
      const out = await ctrOk(['images', 'import', i.tar]);
      expect(out).toContain(i.name);
    }
    const listed = (await ctrOk(['images', 'ls', '-q'])).split('\n');
    for (const i of images) expect(listed).toContain(i.name);
  }, 120_000);

  it('pause runs until SIGTERM, then exits 0 promptly', async () => {
    await ctrOk(['run', '-d', PAUSE_IMAGE, 'imgtest-pause']);
    expect(await taskStatus('imgtest-pause')).toBe('RUNNING');
    await sleep(1500);
    expect(await taskStatus('imgtest-pause'), 'pause must keep running').toBe('RUNNING');
    await ctrOk(['tasks', 'kill', '-s', 'SIGTERM', 'imgtest-pause']);
    expect(await waitStopped('imgtest-pause', 3000)).toBeLessThan(3000);
    expect(await deleteTaskExitCode('imgtest-pause')).toBe(0);
    await ctrOk(['containers', 'rm', 'imgtest-pause']);
  }, 60_000);

  it('reads a non-zero exit code (check of the helper the pause test relies on)', async () => {
    await ctrOk(['run', '-d', TOOLBOX_IMAGE, 'imgtest-exit3', 'sh', '-c', 'exit 3']);
    await waitStopped('imgtest-exit3', 10_000);
    expect(await deleteTaskExitCode('imgtest-exit3')).toBe(3);
    await ctrOk(['containers', 'rm', 'imgtest-exit3']);
  }, 60_000);

  it('toolbox runs busybox and has its applets on PATH', async () => {
    expect(await ctrOk(['run', '--rm', TOOLBOX_IMAGE, 'imgtest-t1', '/bin/busybox', 'echo', 'hi'])).toBe('hi\n');
    // Debian's busybox sh runs its own applets directly (`command -v ls` says "ls"), so check the
    // links themselves: they are what the runtime's PATH lookup finds for `kubectl exec pod -- ping`.
    const script = `for a in ${TOOLBOX_APPLETS.join(' ')}; do [ "$(readlink "/bin/$a")" = busybox ] || echo "missing $a"; done; echo checked`;
    expect(await ctrOk(['run', '--rm', TOOLBOX_IMAGE, 'imgtest-t2', 'sh', '-c', script])).toBe('checked\n');
    for (const a of ['sh', 'ping', 'wget', 'nslookup', 'nc', 'httpd', 'sleep', 'cat', 'echo', 'ip', 'ifconfig', 'hostname', 'ls']) {
      expect(TOOLBOX_APPLETS).toContain(a);
    }
    // Resolved through PATH by runc, not by the shell.
    expect(await ctrOk(['run', '--rm', TOOLBOX_IMAGE, 'imgtest-t3', 'ls', '/bin/ping'])).toBe('/bin/ping\n');
  }, 60_000);

  it('toolbox keeps running with its default command (sh -c "sleep 3600")', async () => {
    // What a bare `kubectl run --image=hardway.local/toolbox:1.0` gets: a pod that stays up.
    await ctrOk(['run', '-d', TOOLBOX_IMAGE, 'imgtest-idle']);
    await sleep(1000);
    expect(await taskStatus('imgtest-idle')).toBe('RUNNING');
    const ps = await ctrOk(['tasks', 'exec', '--exec-id', 'ps1', 'imgtest-idle', 'ps', '-o', 'args']);
    expect(ps).toContain('sleep 3600');
    await ctrOk(['tasks', 'kill', '-s', 'SIGKILL', 'imgtest-idle']);
    await waitStopped('imgtest-idle', 5000);
    await ctrOk(['tasks', 'delete', 'imgtest-idle']);
    await ctrOk(['containers', 'rm', 'imgtest-idle']);
  }, 60_000);

  it('demo-app serves /status/ and /whoami, then stops gracefully on SIGTERM', async () => {
    await ctrOk(['run', '-d', '--net-host', '--env', `PORT=${DEMO_PORT}`, '--env', 'POD_NAME=test-pod', DEMO_APP_IMAGE, 'imgtest-demo']);
    const base = `http://127.0.0.1:${DEMO_PORT}`;
    let status: Response | undefined;
    for (let i = 0; i < 100 && !status; i++) {
      status = await fetch(`${base}/status/`).catch(() => undefined);
      if (!status) await sleep(100);
    }
    expect(status, `demo-app never answered on ${base}`).toBeDefined();
    expect(status!.status).toBe(200);
    expect(await status!.text()).toBe('ok');
    expect(status!.headers.get('content-type')).toBe('text/plain');
    expect(status!.headers.get('x-served-by')).toBe('test-pod');

    const whoami = await fetch(`${base}/whoami`);
    expect(await whoami.text()).toBe('test-pod');

    // fetch() would not send a Host header of our choosing: node:http does.
    const html = await new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port: DEMO_PORT, path: '/', headers: { Host: 'demo.example' } }, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (body += c))
          .on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(html).toContain('hardway demo app');
    expect(html).toContain('<td id="host">demo.example</td>');
    expect(html).toContain('<td id="secret">absent</td>');

    await ctrOk(['tasks', 'kill', '-s', 'SIGTERM', 'imgtest-demo']);
    await waitStopped('imgtest-demo', 5000);
    expect(await deleteTaskExitCode('imgtest-demo')).toBe(0);
    await ctrOk(['containers', 'rm', 'imgtest-demo']);
    await expect(fetch(`${base}/status/`)).rejects.toThrow();
  }, 60_000);
});
