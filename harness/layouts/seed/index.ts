// The seed layout: the seed article's cluster ("Kubernetes the hard way for $20"), hardway's
// default. Its units and configs are harness/render/{services,configs,init}.ts, its PKI plan
// harness/pki/plan.ts, its health signals harness/installer/health.ts.
import { randomBytes } from 'node:crypto';
import { seedCertPlan } from '../../pki/plan.ts';
import { seedHealthSignal } from '../../installer/health.ts';
import type { Layout } from '../layout.ts';
import { seedHostFiles } from './files.ts';
import { seedBinaries, seedPrepare, seedSteps } from './install.ts';

export const seedLayout: Layout = {
  name: 'seed',
  certPlan: seedCertPlan,
  secrets: (c, previous) => (c.apiserver.staticToken ? { token: previous.token ?? randomBytes(24).toString('base64url') } : {}),
  hostFiles: seedHostFiles,
  components: ['kubernetes', 'coredns', 'flannel', 'cni-flannel'],
  binaries: seedBinaries,
  prepare: seedPrepare,
  steps: seedSteps,
  finish: () => [],
  kubectl: 'kubectl',
  health: seedHealthSignal,
  lab: { podImages: true, edgeResolver: false, debianHosts: false },
};
