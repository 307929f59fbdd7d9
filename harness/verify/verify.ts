// `hardway verify`: validates the target, then runs the selected suites under Playwright with
// hardway's reporter and returns the report document (exit code 0 ok, 1 failed checks).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReportDocument } from '../report/document.ts';
import { loadTargetCluster, openTarget } from '../targets/open.ts';
import { kube, poll } from './kube.ts';
import { makeContext } from './check.ts';
import { OWNER_LABEL, removeWorkspaces, runIdOf } from './workspace.ts';
import { UserFacingError } from '../cli/errors.ts';
import type { VerifyOptions } from './check.ts';
import { SUITES } from './registry.ts';
import { CONTEXT_ENV, type RunContext } from './run-context.ts';
import { parse as parseYaml } from 'yaml';
import { redact, registerSecret } from '../report/redact.ts';
import { writeHistoryIndex } from '../report/history.ts';
import type { Target } from '../targets/target.ts';

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
  const cwd = process.cwd();
  const topts = { ...(config ? { config } : {}), cwd };
  loadTargetCluster(req.target, topts); // bad input fails here, before Playwright starts
  const unknown = (req.suites ?? []).filter((s) => !SUITES.some((x) => x.name === s));
  if (unknown.length) {
    throw new UserFacingError(`unknown suite ${unknown.join(', ')}; known suites: ${SUITES.map((s) => s.name).join(', ')}`);
  }
  await preflight(req.target, topts); // unreachable hosts, wrong keys and host keys too
  const runDir = join(REPORTS_DIR, runId(req.target));
  mkdirSync(runDir, { recursive: true });
  const ctx: RunContext = {
    target: req.target,
    ...(config ? { config } : {}),
    cwd,
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
  let partial = ''; // Playwright's own error output is redacted line by line, like every report line
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
      const text = partial + d.toString();
      const cut = text.lastIndexOf('\n') + 1;
      partial = text.slice(cut);
      const lines = redact(text.slice(0, cut));
      stderr.push(lines);
      if (req.reporter === 'console') process.stderr.write(lines);
    });
    child.on('error', fail);
    child.on('close', () => {
      if (partial) {
        stderr.push(redact(partial));
        if (req.reporter === 'console') process.stderr.write(redact(partial));
      }
      done();
    });
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  await removeRunWorkloads(req.target, config, runDir, req.options);
  try {
    writeHistoryIndex(REPORTS_DIR);
  } catch (e) {
    process.stderr.write(`hardway verify: could not update ${join(REPORTS_DIR, 'index.html')}: ${(e as Error).message.split('\n')[0]}\n`);
  }
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
    if (!target.ownedByHardway) process.stderr.write(`hardway verify: removing this run's test namespace from ${spec}\n`);
    const k = await kube(makeContext(target, options));
    const removed = await removeWorkspaces(k, runIdOf(runDir));
    // On a cluster hardway did not create, leave only when the run's namespaces are really gone.
    if (!target.ownedByHardway && removed.length) {
      const gone = await poll(120_000, async () => {
        const left = (await k.core.listNamespace({ labelSelector: OWNER_LABEL })).items.filter((n) => removed.includes(n.metadata!.name!));
        return left.length === 0 ? true : undefined;
      }, 2000);
      if (!gone) process.stderr.write(`hardway verify: namespaces ${removed.join(', ')} are still terminating after 120 s; check them with kubectl get ns -l ${OWNER_LABEL}\n`);
    }
  } catch (e) {
    process.stderr.write(`hardway verify: could not remove the run's test namespace: ${(e as Error).message.split('\n')[0]}; remove namespaces labelled hardway.io/owner=hardway by hand (a hardway verify run 30 min later sweeps them too)\n`);
  } finally {
    await target?.close();
  }
}

/** Targets that offer it connect to every host before the suites start (one line per bad host,
 * exit code 2); the secrets the target knows are registered so that no output can show them. */
async function preflight(spec: string, opts: { config?: string; cwd: string }): Promise<void> {
  let target: Target | undefined;
  try {
    target = await openTarget(spec, opts);
    await registerTargetSecrets(target);
    await target.preflight?.();
  } finally {
    await target?.close();
  }
}

async function registerTargetSecrets(target: Target): Promise<void> {
  registerSecret(await target.apiserverToken?.().catch(() => undefined));
  const kc = await target.kubeconfig?.().catch(() => undefined);
  if (!kc) return;
  try {
    const doc = parseYaml(kc) as { users?: { user?: Record<string, unknown> }[] };
    for (const u of doc.users ?? []) for (const v of Object.values(u.user ?? {})) if (typeof v === 'string') registerSecret(v);
  } catch {
    /* an unreadable kubeconfig is reported by the checks that use it */
  }
}
