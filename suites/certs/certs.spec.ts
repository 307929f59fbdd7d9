import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { certsSuite } from './certs.ts';

defineSuiteTests(certsSuite);
