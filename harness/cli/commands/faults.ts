import { runFaults, faultTable } from '../../faults/run.ts';
import { catalogue } from '../../faults/catalogue.ts';
import { appliesTo, keyOf, rolesOf } from '../../faults/fault.ts';
import { layoutOf } from '../../model/cluster.ts';
import { loadCluster } from '../../model/load.ts';
import { readLabState } from '../../providers/lab/lab.ts';
import { REPO_ROOT } from '../../verify/verify.ts';
import { join } from 'node:path';
import { type Command, parse } from '../command.ts';
import { UsageError } from '../errors.ts';
import { openTarget } from '../../targets/open.ts';
import { assertFaultInjectionAllowed } from '../../targets/guard.ts';

export const faultsCommand: Command = {
  name: 'faults',
  summary: 'break the lab on purpose, fault by fault, and check that the suites catch each',
  help: `Usage: hardway faults [--target lab] [--only <id>[,<id>]]... [--one-at-a-time] [--reporter console|json] [--list]

Runs the fault catalogue against a running lab (hardway lab up): for each fault of the lab's
layout it breaks the lab over SSH, runs the suites its expected failures live in (with their
prerequisites' gates), compares the failing checks and their codes with the expected ones,
repairs the lab and proves it healthy: those suites and the next batch's in full, every other
suite's health checks, until all pass. Refused on anything but hardway's own lab.

Independent faults (each judged on its own hosts only, none waiting on a cluster timer) are broken
together in a batch: one run judges the union of their expectations, exactly those fail; a batch
that is not caught exactly is rerun one fault at a time, and those runs are the verdict. The lab
must pass every check before the first fault and is proven healthy after the last.

  --target <target>  where to inject: a lab hardway created (lab, lab:<name>); anything else is
                     refused
  --only <id>        run only this fault (repeatable, or comma-separated)
  --one-at-a-time    no batches: every fault broken, judged and repaired alone
  --list             list the faults and what each must make fail
  --reporter json    print { "faults": [ { "id", "expected", "failed", "caught", "durationMs",
                     "phases", "batch", "rerunAlone", "reasons" } ] } (a batch's members
                     share its durationMs)

Exit code: 0 every fault caught, 1 a fault not caught, 2 bad input.
`,
  async run(argv) {
    const { values } = parse('faults', argv, {
      only: { type: 'string', multiple: true },
      reporter: { type: 'string', default: 'console' },
      list: { type: 'boolean' },
      'one-at-a-time': { type: 'boolean' },
      target: { type: 'string', default: 'lab' },
    });
    if (values.help) return (process.stdout.write(this.help), 0);
    if (values.reporter !== 'console' && values.reporter !== 'json')
      throw new UsageError(`hardway faults: --reporter must be console or json`);
    if (values.list) {
      const lab = values.target === 'lab' ? 'lab' : values.target.replace(/^lab:/, '');
      const cluster = loadCluster(readLabState(lab)?.config ?? join(REPO_ROOT, 'fixtures/lab/cluster.yaml'));
      const roles = rolesOf(cluster);
      // The faults of that lab's layout (the seed's without a running lab); tree faults always.
      for (const f of catalogue().filter((x) => x.on === 'tree' || appliesTo(x, layoutOf(cluster)))) {
        const fails =
          f
            .expect(roles)
            .map((e) => `${keyOf(e)} [${e.codes.join(',')}]`)
            .join(', ') || '—';
        const warns = f
          .warn?.(roles)
          .map((e) => `${keyOf(e)} [${e.codes.join(',')}]`)
          .join(', ');
        process.stdout.write(
          `${f.id.padEnd(34)} ${f.on.padEnd(4)} ${f.title}\n${' '.repeat(40)}fails: ${fails}${warns ? `; warns: ${warns}` : ''}\n`,
        );
      }
      return 0;
    }
    const json = values.reporter === 'json';
    // Breaking a cluster is only ever allowed on one hardway made.
    // A rendered tree is refused as such (opening it would ask for a --config faults does not take).
    if (values.target.startsWith('dir:')) assertFaultInjectionAllowed({ name: values.target, live: false, ownedByHardway: false });
    const target = await openTarget(values.target, {});
    try {
      assertFaultInjectionAllowed(target);
    } finally {
      await target.close();
    }
    const results = await runFaults({
      lab: values.target === 'lab' ? 'lab' : values.target.replace(/^lab:/, ''),
      ...(values.only
        ? {
            only: values.only
              .flatMap((o) => o.split(','))
              .map((o) => o.trim())
              .filter(Boolean),
          }
        : {}),
      ...(values['one-at-a-time'] ? { oneAtATime: true } : {}),
      progress: (l) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${l}\n`),
    });
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ faults: results.map((r) => ({ id: r.id, expected: r.expected, failed: r.failed, caught: r.caught, durationMs: r.durationMs, phases: r.phases, ...(r.batch ? { batch: r.batch } : {}), ...(r.rerunAlone ? { rerunAlone: r.rerunAlone } : {}), ...(r.reasons.length ? { reasons: r.reasons } : {}) })) }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(`${faultTable(results)}\n`);
      const missed = results.filter((r) => !r.caught);
      process.stdout.write(
        missed.length
          ? `${missed.length} of ${results.length} faults NOT caught:\n${missed.map((m) => `  ${m.id}: ${m.reasons.join('; ')}`).join('\n')}\n`
          : `all ${results.length} faults caught\n`,
      );
    }
    return results.every((r) => r.caught) ? 0 : 1;
  },
};
