// `hardway verify`: validates the target, then runs the selected suites under Playwright with
// hardway's reporter and returns the report document (exit code 0 ok, 1 failed checks).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReportDocument } from '../report/document.ts';
import { loadTargetCluster } from '../targets/open.ts';
import { UserFacingError } from '../cli/errors.ts';
import type { VerifyOptions } from './check.ts';
import { SUITES } from './registry.ts';
import { CONTEXT_ENV, type RunContext } from './run-context.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const REPORTS_DIR = process.env.HARDWAY_REPORTS ?? join(REPO_ROOT, 'reports');

export interface VerifyRequest {
  target: string;
  config?: string;
  suites?: string[];
  options: VerifyOptions;
  reporter: 'console' | 'json' | 'quiet';
  workers?: number;
}

function runId(target: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..+/, '').replace('T', '-');
  const slug = target.replace(/^dir:/, 'dir-').replace(/[^A-Za-z0-9_.-]+/g, '_').slice(-40);
  return `${t}-${slug}-${process.pid}`;
}

export async function verify(req: VerifyRequest): Promise<{ doc: ReportDocument; runDir: string }> {
  const config = req.config ? resolve(req.config) : undefined;
  loadTargetCluster(req.target, config ? { config } : {}); // bad input fails here, before Playwright starts
  const unknown = (req.suites ?? []).filter((s) => !SUITES.some((x) => x.name === s));
  if (unknown.length) {
    throw new UserFacingError(`unknown suite ${unknown.join(', ')}; known suites: ${SUITES.map((s) => s.name).join(', ')}`);
  }
  const runDir = join(REPORTS_DIR, runId(req.target));
  mkdirSync(runDir, { recursive: true });
  const ctx: RunContext = {
    target: req.target,
    ...(config ? { config } : {}),
    options: req.options,
    runDir,
    reporter: req.reporter === 'json' ? 'json' : 'console',
  };
  const args = [join(REPO_ROOT, 'node_modules/@playwright/test/cli.js'), 'test', '-c', join(REPO_ROOT, 'playwright.config.ts')];
  for (const s of req.suites ?? []) args.push('--project', s);
  if (req.suites?.length) args.push('--no-deps');
  const env = {
    ...process.env,
    [CONTEXT_ENV]: JSON.stringify(ctx),
    HARDWAY_ARTIFACTS: join(runDir, 'artifacts'),
    ...(req.workers ? { HARDWAY_WORKERS: String(req.workers) } : {}),
  };
  const stderr: string[] = [];
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', req.reporter === 'quiet' ? 'ignore' : 'inherit', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => {
      stderr.push(d.toString());
      if (req.reporter === 'console') process.stderr.write(d);
    });
    child.on('error', fail);
    child.on('close', () => done());
  });
  const file = join(runDir, 'report.json');
  if (!existsSync(file)) {
    throw new UserFacingError(`the suites did not run to the end (no ${file}); Playwright said:\n${stderr.join('').trim().split('\n').slice(-15).join('\n')}`, 1);
  }
  return { doc: JSON.parse(readFileSync(file, 'utf8')) as ReportDocument, runDir };
}
