// The engine's rules, on a cluster model and checks made up for the test (pure logic): verdicts,
// needs, the graph (blocked suites, gates, --suite plans), timeouts and thrown errors.
import { describe, expect, it } from 'vitest';
import { loadCluster } from '../model/load.ts';
import { dirTarget } from '../targets/dir.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import {
  type Check,
  type Outcome,
  type Suite,
  DEFAULT_OPTIONS,
  INTERRUPTED,
  clusterCheck,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
  passed,
} from './check.ts';
import { makeContext, planRun, runPlan, settlePrepares, startPrepares, verdict } from './engine.ts';
import { poll } from './kube.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
const dir = mkdtempSync(join(tmpdir(), 'hardway-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const target = dirTarget(`dir:${dir}`, dir, cluster);

const cc = (id: string, run: () => Promise<Outcome>, extra: Partial<Check> = {}): Check =>
  clusterCheck({ id, title: id, codes: { broken: 'broken' }, run, ...extra } as Parameters<typeof clusterCheck>[0]);
const finding = { code: 'broken', subject: 'x', message: 'is broken', fix: 'mend it' };

describe('verdicts', () => {
  const c = cc('t.c', async () => passed(1));
  it.each([
    ['a finding fails', outcome([finding], 1), 'failed', undefined],
    ['something examined and no finding passes', passed(3), 'passed', undefined],
    ['nothing examined and no reason fails', outcome([], 0), 'failed', undefined],
    ['could not tell is inconclusive', inconclusive('timed out'), 'skipped', 'inconclusive'],
    ['not part of the cluster is not-applicable', notApplicable('no flannel'), 'skipped', 'not-applicable'],
    ['a finding wins over inconclusive', { ...outcome([finding], 1), inconclusive: 'x' }, 'failed', undefined],
  ])('%s', (_, o, status, skip) => {
    const r = verdict(c, undefined, o as Outcome);
    expect(r.status).toBe(status);
    expect(r.skip).toBe(skip);
    expect(typeof r.examined).toBe('number');
  });

  it('names the vacuous pass as a finding with a code', () => {
    const r = verdict(c, 'node-1', outcome([], 0));
    expect(r.findings?.map((f) => f.code)).toEqual(['nothing-examined']);
    expect(r.diagnosis).toMatch(/^node-1: t\.c: the check found nothing to examine/);
  });

  it('renders findings as one line each, host and file joined with a colon', () => {
    const r = verdict(
      c,
      'master',
      outcome(
        [
          { ...finding, host: 'master', subject: '/var/lib/x.pem' },
          { ...finding, host: 'master', subject: 'kube-scheduler' },
        ],
        2,
      ),
    );
    expect(r.diagnosis).toBe('master:/var/lib/x.pem: is broken; fix: mend it\nmaster: kube-scheduler: is broken; fix: mend it');
  });
});

describe('needs, timeouts and errors', () => {
  const run = async (checks: Check[], options = DEFAULT_OPTIONS) => {
    const suite: Suite = { name: 't', title: 't', dependsOn: [], checks };
    return (await runPlan(makeContext(target, options), planRun([suite]))).flatMap((s) => s.checks);
  };

  it('an offline target makes live checks not-applicable, and --active missing is needs-active', async () => {
    const rs = await run(
      [cc('t.live', async () => passed(1), { needs: ['live'] }), cc('t.active', async () => passed(1), { needs: ['active'] })],
      { ...DEFAULT_OPTIONS, active: false },
    );
    expect(rs.map((r) => [r.id, r.skip])).toEqual([
      ['t.live', 'not-applicable'],
      ['t.active', 'needs-active'],
    ]);
  });

  it('a check without the edge it needs is not-applicable', async () => {
    const noEdge = { ...cluster, ingress: undefined } as typeof cluster;
    const suite: Suite = { name: 't', title: 't', dependsOn: [], checks: [cc('t.edge', async () => passed(1), { needs: ['edge'] })] };
    const rs = (await runPlan(makeContext({ ...target, cluster: noEdge }, DEFAULT_OPTIONS), planRun([suite]))).flatMap((s) => s.checks);
    expect(rs[0]!.skip).toBe('not-applicable');
  });

  it('a check that throws is inconclusive, naming the error; one that runs too long too', async () => {
    const rs = await run([
      cc('t.throws', async () => {
        throw new Error('ECONNRESET');
      }),
      cc('t.slow', () => new Promise(() => undefined), { timeoutMs: 50 }),
    ]);
    expect(rs.map((r) => [r.skip, r.diagnosis])).toEqual([
      ['inconclusive', 'the check could not finish: ECONNRESET'],
      ['inconclusive', 'no verdict within 0.05 s (timed out)'],
    ]);
  });

  it('host checks run once per host of their role; no host at all is one not-applicable line', async () => {
    const rs = await run([
      hostCheck({
        id: 't.workers',
        title: 'w',
        on: { role: 'worker' },
        codes: { broken: '' },
        run: async (_ctx, h) => passed(1, [h.name]),
      }),
      hostCheck({ id: 't.nobody', title: 'n', on: { component: 'flanneld' }, codes: { broken: '' }, run: async () => passed(1) }),
    ]);
    expect(rs.map((r) => `${r.id}@${r.host ?? ''}:${r.skip ?? r.status}`)).toEqual([
      't.workers@node-1:passed',
      't.workers@node-2:passed',
      't.nobody@:not-applicable',
    ]);
  });
});

describe('the graph', () => {
  const s = (name: string, dependsOn: string[], checks: Check[], gate?: string[]): Suite => ({
    name,
    title: name,
    dependsOn,
    checks,
    ...(gate ? { gate } : {}),
  });
  const ok = (id: string) => cc(id, async () => passed(1));
  const bad = (id: string) => cc(id, async () => outcome([finding], 1));

  it('blocks a suite whose prerequisite failed, naming the prerequisite and its failing gate check', async () => {
    const suites = [s('a', [], [bad('a.x')]), s('b', ['a'], [ok('b.y')]), s('c', ['b'], [ok('c.z')]), s('d', ['c'], [ok('d.w')])];
    const runs = await runPlan(makeContext(target, DEFAULT_OPTIONS), planRun(suites));
    const first = (n: string) => runs.find((r) => r.name === n)!.checks[0]!;
    expect([first('b').skip, first('b').diagnosis]).toEqual(['blocked', 'blocked: prerequisite suite a (a.x) failed']);
    expect([first('c').skip, first('c').diagnosis]).toEqual(['blocked', 'blocked: prerequisite suite b (blocked by a) failed']);
    // Two steps away, the suite whose checks failed is still the one named.
    expect([first('d').skip, first('d').diagnosis]).toEqual(['blocked', 'blocked: prerequisite suite c (blocked by a) failed']);
  });

  it('waits only for the gate: a failure outside the gate does not block dependants', async () => {
    const suites = [s('a', [], [ok('a.gate'), bad('a.other')], ['a.gate']), s('b', ['a'], [ok('b.y')])];
    const runs = await runPlan(makeContext(target, DEFAULT_OPTIONS), planRun(suites));
    expect(runs.find((r) => r.name === 'b')!.checks[0]!.status).toBe('passed');
  });

  it('runs independent suites at the same time, and a dependant after its prerequisite', async () => {
    const order: string[] = [];
    const timed = (id: string, ms: number) =>
      cc(id, async () => {
        order.push(`${id}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${id}-`);
        return passed(1);
      });
    const suites = [s('a', [], [timed('a.x', 60)]), s('b', [], [timed('b.x', 60)]), s('c', ['a'], [timed('c.x', 1)])];
    await runPlan(makeContext(target, DEFAULT_OPTIONS), planRun(suites));
    expect(order.slice(0, 2).sort()).toEqual(['a.x+', 'b.x+']);
    expect(order.indexOf('c.x+')).toBeGreaterThan(order.indexOf('a.x-'));
  });

  it('--suite runs the selected suite in full and only the gates of what it needs', () => {
    const suites = [s('a', [], [ok('a.gate'), ok('a.other')], ['a.gate']), s('b', ['a'], [ok('b.y'), ok('b.z')]), s('c', [], [ok('c.x')])];
    const plan = planRun(suites, ['b']);
    expect(plan.map((p) => [p.suite.name, p.checks.map((c) => c.id), p.gateOnly])).toEqual([
      ['a', ['a.gate'], true],
      ['b', ['b.y', 'b.z'], false],
    ]);
  });
});

describe('Ctrl-C and cleanup', () => {
  const s = (name: string, dependsOn: string[], checks: Check[]): Suite => ({ name, title: name, dependsOn, checks });

  it('an already-aborted signal starts nothing: every check is inconclusive, interrupted', async () => {
    const started: string[] = [];
    const rec = (id: string) =>
      cc(id, async () => {
        started.push(id);
        return passed(1);
      });
    const suites = [s('a', [], [rec('a.x')]), s('b', ['a'], [rec('b.y')])];
    const ctx = makeContext(target, DEFAULT_OPTIONS, { signal: AbortSignal.abort(new Error('interrupted')) });
    const rs = (await runPlan(ctx, planRun(suites))).flatMap((r) => r.checks);
    expect(started).toEqual([]);
    expect(rs.map((r) => [r.id, r.status, r.skip, r.diagnosis])).toEqual([
      ['a.x', 'skipped', 'inconclusive', INTERRUPTED],
      ['b.y', 'skipped', 'inconclusive', INTERRUPTED],
    ]);
  });

  it('aborting mid-run ends the running checks and starts no further suite', async () => {
    const abort = new AbortController();
    const started: string[] = [];
    const hang = (id: string) =>
      cc(id, () => {
        started.push(id);
        setTimeout(() => abort.abort(new Error('interrupted')), 20);
        return new Promise<Outcome>(() => undefined);
      });
    const rec = (id: string) =>
      cc(id, async () => {
        started.push(id);
        return passed(1);
      });
    const suites = [s('a', [], [rec('a.ok'), hang('a.slow')]), s('b', ['a'], [rec('b.y')]), s('c', ['b'], [rec('c.z')])];
    const seen: string[] = [];
    const t0 = Date.now();
    const runs = await runPlan(makeContext(target, DEFAULT_OPTIONS, { signal: abort.signal }), planRun(suites), {
      onResult: (_suite, r) => seen.push(r.id),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(started).toEqual(['a.ok', 'a.slow']);
    const rs = runs.flatMap((r) => r.checks);
    expect(rs.map((r) => [r.id, r.status, r.skip, r.diagnosis])).toEqual([
      ['a.ok', 'passed', undefined, undefined],
      ['a.slow', 'skipped', 'inconclusive', INTERRUPTED],
      ['b.y', 'skipped', 'inconclusive', INTERRUPTED],
      ['c.z', 'skipped', 'inconclusive', INTERRUPTED],
    ]);
    expect(seen.sort()).toEqual(['a.ok', 'a.slow', 'b.y', 'c.z']);
    expect(runs.find((r) => r.name === 'b')!.blockedBy).toBeUndefined();
  });

  it("the run's signal reaches poll(): it stops waiting when the run is interrupted", async () => {
    const abort = new AbortController();
    let polls = 0;
    let error = '';
    const waits = cc('t.waits', async () => {
      setTimeout(() => abort.abort(new Error('interrupted')), 30);
      try {
        await poll(60_000, async () => void polls++, 10);
      } catch (e) {
        error = (e as Error).message;
      }
      return passed(1);
    });
    const rs = (await runPlan(makeContext(target, DEFAULT_OPTIONS, { signal: abort.signal }), planRun([s('t', [], [waits])]))).flatMap(
      (r) => r.checks,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(rs[0]!.diagnosis).toBe(INTERRUPTED);
    expect(error).toBe('interrupted');
    const after = polls;
    await new Promise((r) => setTimeout(r, 50));
    expect(polls).toBe(after);
  });

  it('prepares run in the run signal scope and are awaited, bounded, before cleanup', async () => {
    const abort = new AbortController();
    const live = { ...target, live: true };
    const order: string[] = [];
    const ctx = makeContext(live, DEFAULT_OPTIONS, { signal: abort.signal });
    const suite: Suite = {
      ...s('p', [], []),
      prepare: async () => {
        await new Promise((r) => setTimeout(r, 30));
        order.push('prepared');
        ctx.defer(async () => order.push('undone'));
      },
    };
    const hung: Suite = { ...s('h', [], []), prepare: () => new Promise(() => undefined) };
    const prepares = startPrepares(ctx, planRun([suite, hung]));
    expect(prepares).toHaveLength(2);
    expect(await settlePrepares(prepares, 200)).toBe(false);
    expect(order).toEqual(['prepared']);
    await ctx.cleanup();
    expect(order).toEqual(['prepared', 'undone']);
    expect(startPrepares(makeContext(target, DEFAULT_OPTIONS), planRun([suite]))).toEqual([]);
  });

  it('a defer registered once cleanup has started runs at once (and cleanup waits for it)', async () => {
    const ctx = makeContext(target, DEFAULT_OPTIONS);
    const order: string[] = [];
    ctx.defer(async () => {
      order.push('first');
      // Registered while the cleanup runs: a late prepare's browser, say.
      ctx.defer(async () => {
        await new Promise((r) => setTimeout(r, 20));
        order.push('during');
      });
    });
    await ctx.cleanup();
    expect(order).toEqual(['first', 'during']);
    let after = false;
    ctx.defer(async () => {
      after = true;
    });
    expect(after).toBe(true);
    await ctx.cleanup();
  });
});
