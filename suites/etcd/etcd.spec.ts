import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { etcdSuite } from './etcd.ts';

defineSuiteTests(etcdSuite);
