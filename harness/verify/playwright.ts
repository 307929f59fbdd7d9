// Turns a Suite into Playwright tests: one test per (check, host), with the target opened once
// per worker as a fixture. Check ids and hosts travel as annotations to hardway's reporter.
import { test as base } from '@playwright/test';
import { type BrowserAccess, type CheckContext, type Suite, expand, makeContext, runCheck } from './check.ts';
import { readRunContext } from './run-context.ts';
import { loadTargetCluster, openTarget } from '../targets/open.ts';
import { redact } from '../report/redact.ts';

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
      const target = await openTarget(run.target, { ...(run.config ? { config: run.config } : {}), ...(run.cwd ? { cwd: run.cwd } : {}) });
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
  const cluster = loadTargetCluster(run.target, { ...(run.config ? { config: run.config } : {}), ...(run.cwd ? { cwd: run.cwd } : {}) });
  test.describe.configure({ mode: 'parallel' });
  for (const { check, host } of expand(suite, cluster)) {
    const annotation = [
      { type: 'check', description: check.id },
      { type: 'title', description: check.title },
      ...(host ? [{ type: 'host', description: host }] : []),
    ];
    test(host ? `${check.id} @${host}` : check.id, { annotation }, async ({ checkContext, playwright, launchOptions }, testInfo) => {
      // Browser checks (the ingress suite) get the configured Chromium and their test's attachments.
      const browser: BrowserAccess = {
        launch: (o = {}) => playwright.chromium.launch({ ...launchOptions, ...o, args: [...(launchOptions.args ?? []), ...(o.args ?? [])] }),
        outputPath: (name) => testInfo.outputPath(name),
        attach: (name, path, contentType) => testInfo.attach(name, { path, contentType }),
      };
      const r = await runCheck({ ...checkContext, browser }, check, host);
      // Redacted here, in the worker: it knows the secrets the checks read (tokens, kubeconfig keys).
      for (const w of r.warnings ?? []) test.info().annotations.push({ type: 'warning', description: redact(w) });
      for (const n of r.notes ?? []) test.info().annotations.push({ type: 'note', description: redact(n) });
      if (r.status === 'skipped') test.skip(true, redact(r.diagnosis ?? ''));
      if (r.status === 'failed') throw new CheckFailed(redact(r.diagnosis!));
    });
  }
}
