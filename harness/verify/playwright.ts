// Turns a Suite into Playwright tests: one test per (check, host), with the target opened once
// per worker as a fixture. Check ids and hosts travel as annotations to hardway's reporter.
import { test as base } from '@playwright/test';
import { type CheckContext, type Suite, expand, makeContext, runCheck } from './check.ts';
import { readRunContext } from './run-context.ts';
import { loadTargetCluster, openTarget } from '../targets/open.ts';

/** An Error whose report is the diagnosis alone: no stack trace, nothing to scroll past. */
class CheckFailed extends Error {
  constructor(diagnosis: string) {
    super(diagnosis);
    this.name = 'CheckFailed';
    this.stack = diagnosis;
  }
}

export const test = base.extend<object, { checkContext: CheckContext }>({
  checkContext: [
    async ({}, use) => {
      const run = readRunContext();
      const target = await openTarget(run.target, run.config ? { config: run.config } : {});
      try {
        await use(makeContext(target, run.options));
      } finally {
        await target.close();
      }
    },
    { scope: 'worker' },
  ],
});

export function defineSuiteTests(suite: Suite): void {
  const run = readRunContext();
  const cluster = loadTargetCluster(run.target, run.config ? { config: run.config } : {});
  test.describe.configure({ mode: 'parallel' });
  for (const { check, host } of expand(suite, cluster)) {
    const annotation = [
      { type: 'check', description: check.id },
      { type: 'title', description: check.title },
      ...(host ? [{ type: 'host', description: host }] : []),
    ];
    test(host ? `${check.id} @${host}` : check.id, { annotation }, async ({ checkContext }) => {
      const r = await runCheck(checkContext, check, host);
      for (const w of r.warnings ?? []) test.info().annotations.push({ type: 'warning', description: w });
      for (const n of r.notes ?? []) test.info().annotations.push({ type: 'note', description: n });
      if (r.status === 'skipped') test.skip(true, r.diagnosis);
      if (r.status === 'failed') throw new CheckFailed(r.diagnosis!);
    });
  }
}
