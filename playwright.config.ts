// The verification suites run under Playwright Test: one project per suite, ordered by project
// dependencies (a suite whose prerequisite failed is skipped and reported as such). Run them
// through `hardway verify`, which sets the target and the report folder.
import { availableParallelism } from 'node:os';
import { defineConfig } from '@playwright/test';
import { SUITES } from './harness/verify/registry.ts';

export default defineConfig({
  testDir: './suites',
  fullyParallel: true,
  // Checks mostly wait on hosts, but each worker loads the client libraries and opens its own SSH
  // sessions: on 2 cores, 2 workers finish a lab run sooner than 4 or 8 (measured: 48 s, 54 s, 73 s).
  workers: Number(process.env.HARDWAY_WORKERS ?? Math.min(8, Math.max(2, availableParallelism()))),
  retries: 0,
  timeout: 180_000,
  outputDir: process.env.HARDWAY_ARTIFACTS ?? 'test-results',
  reporter: [['./harness/report/playwright-reporter.ts']],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.HARDWAY_CHROMIUM ?? '/usr/bin/chromium' },
  },
  projects: SUITES.map((s) => ({
    name: s.name,
    testMatch: `${s.name}/${s.name}.spec.ts`,
    dependencies: s.dependsOn,
  })),
});
