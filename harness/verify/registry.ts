// Every suite, in the order the seed's debugging section walks through a cluster. The Playwright
// config turns this list into projects whose dependencies give that order.
import type { Suite } from './check.ts';
import { certsSuite } from '../../suites/certs/certs.ts';

export const SUITES: Suite[] = [certsSuite];

export function suiteByName(name: string): Suite | undefined {
  return SUITES.find((s) => s.name === name);
}
