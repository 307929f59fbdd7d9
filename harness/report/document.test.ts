// The run's verdict from its counts: green only when something was verified and nothing failed.
import { describe, expect, it } from 'vitest';
import { type Counts, isOk } from './document.ts';

const counts = (over: Partial<Counts> & { inconclusive?: number; blocked?: number; notApplicable?: number }): Counts => ({
  passed: over.passed ?? 0,
  failed: over.failed ?? 0,
  skipped: (over.inconclusive ?? 0) + (over.blocked ?? 0) + (over.notApplicable ?? 0),
  skip: { 'not-applicable': over.notApplicable ?? 0, 'needs-active': 0, blocked: over.blocked ?? 0, inconclusive: over.inconclusive ?? 0 },
  warnings: 0,
});

describe('isOk', () => {
  it('is green when checks passed and none failed; a failure is never green', () => {
    expect(isOk(counts({ passed: 3, notApplicable: 2 }), false, 5)).toBe(true);
    expect(isOk(counts({ passed: 3, failed: 1 }), false, 4)).toBe(false);
  });
  it('is not green when nothing was verified (every check not-applicable, or no check at all)', () => {
    expect(isOk(counts({ notApplicable: 26 }), false, 26)).toBe(false);
    expect(isOk(counts({}), false, 0)).toBe(false);
  });
  it('with --strict, an inconclusive or blocked check fails the run; without, it does not', () => {
    expect(isOk(counts({ passed: 3, inconclusive: 1 }), false, 4)).toBe(true);
    expect(isOk(counts({ passed: 3, inconclusive: 1 }), true, 4)).toBe(false);
    expect(isOk(counts({ passed: 3, blocked: 1 }), true, 4)).toBe(false);
  });
});
