import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { apiserverSuite } from './apiserver.ts';

defineSuiteTests(apiserverSuite);
