// The nightly GitHub Actions workflow cannot run here (no GitHub); this test holds it to what
// docs/nightly.md promises: it runs bin/nightly-verify with the secrets that script reads, fails
// the job with the script's exit code, and keeps and uploads the reports even when a check failed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = join(import.meta.dirname, '../..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const workflow = parse(readFileSync(join(REPO, '.github/workflows/nightly-verify.yml'), 'utf8')) as {
  on: { schedule: { cron: string }[]; workflow_dispatch: unknown };
  permissions: Record<string, string>;
  jobs: { verify: { env: Record<string, string>; steps: Step[] } };
};
const steps = workflow.jobs.verify.steps;
const script = readFileSync(join(REPO, 'bin/nightly-verify'), 'utf8');

describe('the nightly workflow', () => {
  it('runs nightly and on demand, with read-only repository access', () => {
    expect(workflow.on.schedule[0]!.cron).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('runs bin/nightly-verify with every secret the script reads, from the secret store only', () => {
    const verify = steps.find((s) => s.run?.trim() === 'bin/nightly-verify');
    expect(verify).toBeDefined();
    expect(verify!.if).toBeUndefined(); // its exit code is the job's
    for (const secret of ['HARDWAY_SSH_KEY', 'HARDWAY_KNOWN_HOSTS', 'HARDWAY_KUBECONFIG']) {
      expect(script).toContain(secret);
      expect(verify!.env?.[secret]).toBe(`\${{ secrets.${secret} }}`);
    }
    for (const v of ['HARDWAY_TARGET', 'HARDWAY_VERIFY_ARGS']) {
      expect(script).toContain(v);
      expect(workflow.jobs.verify.env[v]).toBeDefined();
    }
  });

  it('keeps reports/ between runs and uploads every report, also when verify failed', () => {
    const at = (s: Step) => steps.indexOf(s);
    const verify = steps.find((s) => s.run?.trim() === 'bin/nightly-verify')!;
    const restore = steps.find((s) => s.uses?.startsWith('actions/cache/restore@'));
    const save = steps.find((s) => s.uses?.startsWith('actions/cache/save@'));
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(restore?.with?.path).toBe('reports');
    expect(at(restore!)).toBeLessThan(at(verify));
    for (const s of [save!, upload!]) {
      expect(s.if).toBe('always()');
      expect(at(s)).toBeGreaterThan(at(verify));
    }
    expect(upload!.with!.path).toContain('reports/*/report.json');
    expect(upload!.with!.path).toContain('reports/*/junit.xml');
    expect(upload!.with!.path).toContain('reports/*/report.html');
  });
});
