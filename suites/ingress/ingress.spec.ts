import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { ingressSuite } from './ingress.ts';

defineSuiteTests(ingressSuite);
