// The command line as a user meets it: --help at once, one line and exit code 2 for bad input
// (balanced quotes, no doubled prefix, no stack trace unless HARDWAY_DEBUG), malformed reports
// named and skipped, and the smaller traps (dir: without a path, faults on a tree, redaction).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunsChecked, writeHistoryIndex } from '../report/history.ts';
import { redact } from '../report/redact.ts';
import { openTarget } from '../targets/open.ts';
import { userMessage } from './main.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const HARDWAY = join(ROOT, 'bin/hardway');
const CONFIG = join(ROOT, 'fixtures/lab/cluster.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'hardway-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; ms: number }> {
  const t0 = performance.now();
  return run(HARDWAY, args, { env: { ...process.env, HARDWAY_DEBUG: '', ...env } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr, ms: performance.now() - t0 }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr, ms: performance.now() - t0 }),
  );
}

describe('start-up', () => {
  for (const args of [['--help'], ['render', '--help']]) {
    it(`hardway ${args.join(' ')} answers within 0.5 s (commands load what they need when they run)`, async () => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await cli(args);
        expect(r.code).toBe(0);
        expect(r.out).toMatch(/^Usage: hardway/);
        times.push(r.ms);
      }
      expect(Math.min(...times)).toBeLessThan(500);
    });
  }
});

describe('bad input: one line, exit code 2, balanced quotes, no stack trace', () => {
  const table: [args: string[], line: RegExp][] = [
    [['render', '--foo'], /^hardway render: unknown option "--foo" \(see: hardway render --help\)$/],
    [['render', "--it's"], /^hardway render: unknown option "--it's" \(see: hardway render --help\)$/],
    [['render', 'stray'], /^hardway render: unexpected argument "stray": this command takes options only/],
    [['render', '--config'], /^hardway render: --config needs a value/],
    [['render', '--rotate-ca=yes'], /^hardway render: --rotate-ca takes no value/],
    [['report', '--nope'], /^hardway report: unknown option "--nope"/],
    [
      ['render', '--config', '/nonexistent/cluster.yaml', '--out', join(tmp, 'x')],
      /^hardway render: \/nonexistent\/cluster\.yaml: cannot read the cluster model \(ENOENT\)/,
    ],
    [['nosuch'], /^hardway: unknown command "nosuch"$/],
  ];
  for (const [args, line] of table) {
    it(args.join(' '), async () => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      const first = r.err.split('\n')[0]!;
      expect(first).toMatch(line);
      if (args[0] !== 'nosuch') expect(r.err.trim().split('\n')).toHaveLength(1);
      expect((first.match(/"/g) ?? []).length % 2).toBe(0);
      expect(first).not.toMatch(/'-- "/);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }

  it('HARDWAY_DEBUG adds the stack trace', async () => {
    const r = await cli(['render', '--config', '/nonexistent/cluster.yaml', '--out', join(tmp, 'x')], { HARDWAY_DEBUG: '1' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\n\s+at /);
  });

  it('the prefix "hardway <command>:" appears once per line', () => {
    const table: [cmd: string, message: string, want: string][] = [
      [
        'lab',
        'hardway lab ssh: which host? (hardway lab ssh master -- kubectl get nodes)',
        'hardway lab ssh: which host? (hardway lab ssh master -- kubectl get nodes)',
      ],
      ['lab', 'hardway lab: unknown subcommand "x"', 'hardway lab: unknown subcommand "x"'],
      ['lab', 'hardway verify: node-1 (root@h:22): cannot connect', 'hardway lab: node-1 (root@h:22): cannot connect'],
      ['verify', 'node-1: a\nnode-2: b', 'hardway verify: node-1: a\nhardway verify: node-2: b'],
    ];
    for (const [cmd, message, want] of table) expect(userMessage(cmd, message)).toBe(want);
  });

  it('faults --target dir: is refused as a tree, without advice to pass --config', async () => {
    const r = await cli(['faults', '--target', 'dir:/tmp']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(
      'hardway faults: dir:/tmp: fault injection refused: it is an offline tree, not running hosts; fix: inject faults only into a lab hardway made (--target lab, or lab:<name> after hardway lab up)',
    );
  }, 30_000);

  it('--target dir: without a path does not verify the current folder', async () => {
    const err = await openTarget('dir:', { config: CONFIG }).then(
      () => 'opened',
      (e: Error) => e.message,
    );
    expect(err).toBe(
      'dir:: no folder after dir:; fix: name the rendered tree, e.g. --target dir:./rendered (dir:. for the current folder)',
    );
  });
});

describe('reports: a malformed report.json is named and skipped', () => {
  const good = (target: string, startedAt: string, failed = false) =>
    JSON.stringify({
      target,
      ok: !failed,
      startedAt,
      durationMs: 1000,
      suites: [
        {
          name: 'certs',
          checks: [
            { id: 'certs.chain', title: 't', status: failed ? 'failed' : 'passed', host: 'master', ...(failed ? { diagnosis: 'x' } : {}) },
          ],
        },
      ],
    });
  const dir = join(tmp, 'reports');
  const put = (run: string, text: string) => {
    mkdirSync(join(dir, run), { recursive: true });
    writeFileSync(join(dir, run, 'report.json'), text);
  };
  put('20250101-000000-lab-1', good('lab', '2025-01-01T00:00:00Z'));
  put('20250102-000000-lab-2', good('lab', '2025-01-02T00:00:00Z', true));
  const bad: [run: string, text: string, why: RegExp][] = [
    [
      '20250103-000000-lab-3',
      JSON.stringify({ target: 'lab', ok: true, suites: [{ name: 'certs', checks: 'oops' }] }),
      /suites\[0\]\.checks is not a list/,
    ],
    [
      '20250104-000000-lab-4',
      JSON.stringify({ target: 'lab', ok: true, suites: [{ name: 'certs', checks: [{ id: 'x', status: 'maybe' }] }] }),
      /status is "maybe", not passed, failed or skipped/,
    ],
    ['20250105-000000-lab-5', JSON.stringify([1, 2]), /not a JSON object/],
    ['20250106-000000-lab-6', '{"target": "lab", "ok": tr', /not valid JSON/],
  ];
  for (const [r, text] of bad) put(r, text);

  it('the history reader names each and keeps the good runs', () => {
    const { runs, skipped } = readRunsChecked(dir);
    expect(runs.map((r) => r.run)).toEqual(['20250101-000000-lab-1', '20250102-000000-lab-2']);
    expect(skipped).toHaveLength(bad.length);
    for (const [r, , why] of bad) expect(skipped.find((s) => s.file === join(dir, r, 'report.json'))?.why).toMatch(why);
  });

  it('the index verify regenerates after every run names them and is written', () => {
    const lines: string[] = [];
    expect(writeHistoryIndex(dir, (l) => lines.push(l))).toBe(join(dir, 'index.html'));
    expect(lines).toHaveLength(bad.length);
    expect(lines[0]).toMatch(/^skipped .*report\.json: .*; fix: move the run's folder away or delete it$/);
  });

  for (const sub of [['list'], ['diff'], ['index']]) {
    it(`report ${sub.join(' ')} works on, naming the bad runs`, async () => {
      const r = await cli(['report', ...sub, '--reports', dir]);
      expect(r.code).toBe(0);
      expect(
        r.err
          .trim()
          .split('\n')
          .filter((l) => /^hardway report: skipped /.test(l)),
      ).toHaveLength(bad.length);
      if (sub[0] === 'diff') expect(r.out).toMatch(/newly failing \(1\):\n {2}certs\.chain@master/);
    }, 30_000);
  }

  it('report diff naming a malformed run says why', async () => {
    const r = await cli(['report', 'diff', '20250101-000000-lab-1', join(dir, bad[0]![0]), '--reports', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/report\.json: not a hardway report \(suites\[0\]\.checks is not a list\); fix: /);
  }, 30_000);

  it('report index --reports on a missing folder: one line, exit code 2', async () => {
    const r = await cli(['report', 'index', '--reports', join(tmp, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^hardway report: --reports .*nowhere: no such folder; fix: /);
  }, 30_000);
});

describe('redaction', () => {
  const table: [text: string, want: string][] = [
    ['apiserver.staticToken: expected true, got "yes"', 'apiserver.staticToken: expected true, got "yes"'],
    ['staticToken: expected', 'staticToken: expected'],
    ['token=abcdefgh12345678', 'token=[redacted]'],
    ['token: expectedvalue', 'token: [redacted]'],
    ['apiserverToken: Zm9vYmFyYmF6cXV4', 'apiserverToken: [redacted]'],
    ['"password": "hunter2hunter2"', '"password": "[redacted]"'],
  ];
  for (const [text, want] of table) it(text, () => expect(redact(text)).toBe(want));
});
