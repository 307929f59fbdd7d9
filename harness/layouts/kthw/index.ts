// The kthw layout: the cluster as Kubernetes The Hard Way's chapters lay it out (one server with
// etcd over plain http on 127.0.0.1, nodes with a bridge CNI and static routes, no flannel, no
// cluster DNS), with its certificate profiles, file names, units and configs.
import { randomBytes } from 'node:crypto';
import type { Layout } from '../layout.ts';
import { kthwHostFiles } from './files.ts';
import { KUBECTL, kthwBinaries, kthwHealth, kthwPrepare, kthwRoutes, kthwSteps } from './install.ts';
import { kthwCertPlan } from './plan.ts';

export const kthwLayout: Layout = {
  name: 'kthw',
  certPlan: kthwCertPlan,
  // Chapter 06: head -c 32 /dev/urandom | base64
  secrets: (_c, previous) => ({ encryptionKey: previous.encryptionKey ?? randomBytes(32).toString('base64') }),
  hostFiles: kthwHostFiles,
  // coredns: the lab's edge host answers DNS with it (the outside world), not the cluster.
  components: ['kubernetes', 'coredns'],
  binaries: kthwBinaries,
  prepare: kthwPrepare,
  steps: kthwSteps,
  finish: kthwRoutes,
  kubectl: KUBECTL,
  health: kthwHealth,
  lab: { podImages: false, edgeResolver: true, debianHosts: true },
};
