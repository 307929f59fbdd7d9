import { defineSuiteTests } from '../../harness/verify/playwright.ts';
import { kubeProxySuite } from './kube-proxy.ts';

defineSuiteTests(kubeProxySuite);
