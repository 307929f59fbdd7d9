import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { flannelSuite } from './flannel.ts';

defineSuiteTests(flannelSuite);
