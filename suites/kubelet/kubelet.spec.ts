import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { kubeletSuite } from './kubelet.ts';

defineSuiteTests(kubeletSuite);
