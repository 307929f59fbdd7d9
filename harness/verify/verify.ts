// `hardway verify`: validates the target, then runs the selected suites under Playwright with
// hardway's reporter and returns the report document (exit code 0 ok, 1 failed checks).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReportDocument } from '../report/document.ts';
import { loadTargetCluster, openTarget } from '../targets/open.ts';
import { kube } from './kube.ts';
import { makeContext } from './check.ts';
import { removeWorkspaces, runIdOf } from './workspace.ts';
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
  // Ctrl-C reaches Playwright too (same process group): let it stop its workers, then clean up.
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', req.reporter === 'quiet' ? 'ignore' : 'inherit', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => {
      stderr.push(d.toString());
      if (req.reporter === 'console') process.stderr.write(d);
    });
    child.on('error', fail);
    child.on('close', () => done());
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  await removeRunWorkloads(req.target, config, runDir, req.options);
  if (interrupted) throw new UserFacingError('interrupted: the run\'s test workloads were removed', 130);
  const file = join(runDir, 'report.json');
  if (!existsSync(file)) {
    throw new UserFacingError(`the suites did not run to the end (no ${file}); Playwright said:\n${stderr.join('').trim().split('\n').slice(-15).join('\n')}`, 1);
  }
  return { doc: JSON.parse(readFileSync(file, 'utf8')) as ReportDocument, runDir };
}

/** Deletes the run's namespaces (and those a dead run left) on live targets with active checks. */
async function removeRunWorkloads(spec: string, config: string | undefined, runDir: string, options: VerifyOptions): Promise<void> {
  if (!options.active) return;
  let target;
  try {
    target = await openTarget(spec, config ? { config } : {});
    if (!target.live) return;
    const k = await kube(makeContext(target, options));
    await removeWorkspaces(k, runIdOf(runDir));
  } catch (e) {
    process.stderr.write(`hardway verify: could not remove the run's test namespace: ${(e as Error).message.split('\n')[0]}; remove namespaces labelled hardway.io/owner=hardway by hand\n`);
  } finally {
    await target?.close();
  }
}
