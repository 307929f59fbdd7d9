// The registries, checked in seconds: suites and checks (unique ids prefixed by their suite,
// declared codes, dependencies that exist and form no cycle, gates that are checks), and the fault
// catalogue (every expectation names a real check and codes that check declares; every check is
// proven by at least one fault).
import { describe, expect, it } from 'vitest';
import { catalogue } from '../faults/catalogue.ts';
import { rolesOf } from '../faults/fault.ts';
import { loadCluster } from '../model/load.ts';
import type { Suite } from './check.ts';
import { SUITES, checkCodes, registryProblems } from './registry.ts';

const roles = rolesOf(loadCluster('fixtures/lab/cluster.yaml'));

describe('the suite registry', () => {
  it('is consistent', () => {
    expect(registryProblems(SUITES)).toEqual([]);
  });

  it('names what is wrong with a broken registry', () => {
    const check = (id: string) => ({
      scope: 'cluster' as const,
      id,
      title: id,
      codes: { x: '' },
      run: async () => ({ findings: [], examined: 1 }),
    });
    const broken: Suite[] = [
      { name: 'a', title: 'a', dependsOn: ['b'], gate: ['a.nope'], checks: [check('a.one'), check('a.one'), check('b.misplaced')] },
      { name: 'b', title: 'b', dependsOn: ['a', 'ghost'], checks: [{ ...check('b.two'), codes: {} }] },
    ];
    expect(registryProblems(broken)).toEqual([
      'check id a.one is used twice',
      'check b.misplaced of suite a must be named a.<name>',
      'suite a: gate a.nope is not one of its checks',
      'check b.two declares no finding codes',
      'suite b depends on unknown suite ghost',
      'suites depend on each other in a cycle: a -> b -> a',
    ]);
  });
});

describe('the fault catalogue', () => {
  const codes = checkCodes();
  const faults = catalogue();

  it('says why a lab fault does not run on every layout', () => {
    const unexplained = faults.filter((f) => f.on === 'lab' && (f.layouts ?? ['seed']).length < 2 && !f.layoutsWhy).map((f) => f.id);
    expect(unexplained).toEqual([]);
  });

  it('has unique fault ids', () => {
    const ids = faults.map((f) => f.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('expects only checks that exist, with codes those checks declare', () => {
    const problems: string[] = [];
    for (const f of faults) {
      for (const e of [...f.expect(roles), ...(f.warn?.(roles) ?? [])]) {
        const declared = codes.get(e.check);
        if (!declared) problems.push(`${f.id}: no check ${e.check}`);
        else
          for (const c of [...e.codes, ...(e.oneOf ?? [])])
            if (!declared.has(c)) problems.push(`${f.id}: ${e.check} declares no code ${c}`);
        if (!e.codes.length && !e.oneOf?.length) problems.push(`${f.id}: ${e.check} expects no code`);
      }
      if (f.on === 'lab' && !f.repair) problems.push(`${f.id}: a lab fault without a repair`);
    }
    expect(problems).toEqual([]);
  });

  it('proves every check: each is expected to fail (or warn) by at least one fault', () => {
    const proven = new Set(faults.flatMap((f) => [...f.expect(roles), ...(f.warn?.(roles) ?? [])].map((e) => e.check)));
    const unproven = [...codes.keys()].filter((id) => !proven.has(id));
    expect(unproven).toEqual([]);
  });
});
