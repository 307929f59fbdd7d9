import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { schedulerSuite } from './scheduler.ts';

defineSuiteTests(schedulerSuite);
