import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { controllerManagerSuite } from './controller-manager.ts';

defineSuiteTests(controllerManagerSuite);
