import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { hostsSuite } from './hosts.ts';

defineSuiteTests(hostsSuite);
