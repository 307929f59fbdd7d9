import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { resourcesSuite } from './resources.ts';

defineSuiteTests(resourcesSuite);
