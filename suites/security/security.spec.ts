import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { securitySuite } from './security.ts';

defineSuiteTests(securitySuite);
