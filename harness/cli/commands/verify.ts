import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { DEFAULT_OPTIONS } from '../../verify/check.ts';
import { SUITES } from '../../verify/registry.ts';
import { verify } from '../../verify/verify.ts';
import { type Command, need, parse } from '../command.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'run the verification suites against a target and write reports',
  help: `Usage: hardway verify --target <target> [--config <cluster.yaml>] [--suite <name>]... [--reporter console|json] [--strict]

Targets:
  dir:<dir>     a tree of the hosts' files, DIR/<host>/<path> (offline: checks that need live hosts
                are skipped); its hosts are its folders, its model discovered, or --config
  lab           the running lab (hardway lab up), reached over SSH only
  <name>        the inventory targets/<name>.yaml in the current folder (docs/inventory.md)
  <path>        an inventory file (hardway YAML, or an Ansible inventory recognised by its contents)
  ansible:<path>  an Ansible inventory (INI or YAML); --config overrides its cluster model

Options:
  --suite <name>            run this suite (repeatable, or comma-separated), with the gate checks of
                            the suites it needs: ${SUITES.map((s) => s.name).join(', ')}
  --reporter console|json   console (default) prints one line per check; json prints the report
                            document to stdout
  --expiry-warning-days <n> warn about certificates expiring within n days (default ${DEFAULT_OPTIONS.expiryWarningDays})
  --strict                  fail the run when a check is inconclusive (could not tell) or blocked (a
                            prerequisite failed), not only when a check failed
  --active                  allow checks that create labelled test workloads in their own namespace
                            (removed at the end); the default for the lab
  --read-only               no writes to the cluster: checks that need a workload are skipped with
                            the reason; the default for every target hardway did not create
  --budgets <file>          memory budgets per component (default fixtures/budgets.yaml)

Verdicts: passed, failed, or skipped as not-applicable, needs-active, blocked or inconclusive.
Every run writes reports/<run>/report.json, junit.xml and report.html.
Exit code: 0 no check failed (with --strict: and none inconclusive or blocked), 1 otherwise,
2 bad input.
`,
  async run(argv) {
    const { values } = parse('verify', argv, {
      target: { type: 'string', short: 't' },
      config: { type: 'string', short: 'c' },
      suite: { type: 'string', multiple: true },
      reporter: { type: 'string', default: 'console' },
      'expiry-warning-days': { type: 'string' },
      strict: { type: 'boolean' },
      active: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      budgets: { type: 'string' },
    });
    if (values.help) return (process.stdout.write(this.help), 0);
    const reporter = values.reporter;
    if (reporter !== 'console' && reporter !== 'json')
      throw new UsageError(`hardway verify: --reporter must be console or json, got "${reporter}"`);
    const days = values['expiry-warning-days'] !== undefined ? Number(values['expiry-warning-days']) : DEFAULT_OPTIONS.expiryWarningDays;
    if (!Number.isInteger(days) || days < 0)
      throw new UsageError(`hardway verify: --expiry-warning-days must be a whole number of days, got "${values['expiry-warning-days']}"`);
    const target = need('verify', values.target, '--target');
    if (values.active && values['read-only']) throw new UsageError('hardway verify: --active and --read-only exclude each other');
    // Only the lab is hardway's own: anywhere else nothing is written unless asked for.
    const active = values.active ?? (values['read-only'] ? false : target === 'lab' || target.startsWith('lab:'));
    const { doc } = await verify({
      target,
      ...(values.config ? { config: values.config } : {}),
      ...(values.suite ? { suites: values.suite.flatMap((s) => s.split(',')) } : {}),
      options: {
        ...DEFAULT_OPTIONS,
        expiryWarningDays: days,
        active,
        strict: !!values.strict,
        ...(values.budgets ? { budgetsFile: resolve(values.budgets) } : {}),
      },
      reporter,
    });
    return doc.ok ? 0 : 1;
  },
};
