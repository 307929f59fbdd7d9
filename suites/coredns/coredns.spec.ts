import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { corednsSuite } from './coredns.ts';

defineSuiteTests(corednsSuite);
