// Faults that prove the drift suite: a running value edited away from the model, a unit edited
// away from its rendering.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fault } from '../../harness/faults/fault.ts';
import { K8S_DIR } from '../../harness/pki/plan.ts';

export const driftFaults: Fault[] = [
  {
    id: 'kubelet-cluster-domain-edited',
    title: "the first worker's kubelet configured for another cluster domain than the model's",
    on: 'tree',
    expect: () => [{ check: 'drift.model', codes: ['model-drift'] }],
    async inject(env) {
      const path = join(env.renderedDir, env.workers[0]!, `${K8S_DIR}/kubelet/kubelet-config.yaml`);
      await writeFile(path, (await readFile(path, 'utf8')).replace(/^clusterDomain: .*$/m, 'clusterDomain: edited.example'));
      // Every worker reads the same domain: the model's field is what the first kubelet runs.
      for (const w of env.workers.slice(1)) {
        const p = join(env.renderedDir, w, `${K8S_DIR}/kubelet/kubelet-config.yaml`);
        await writeFile(p, (await readFile(p, 'utf8')).replace(/^clusterDomain: .*$/m, 'clusterDomain: edited.example'));
      }
    },
  },
  {
    id: 'apiserver-unit-edited',
    title: "kube-apiserver's unit edited in place: a flag changed and one added",
    on: 'tree',
    expect: (r) => [{ check: 'drift.units', host: r.master, codes: ['unit-drift'] }],
    async inject(env) {
      const path = join(env.renderedDir, env.master, '/etc/systemd/system/kube-apiserver.service');
      await writeFile(path, (await readFile(path, 'utf8')).replace('--v=1', '--v=4 \\\n  --profiling=true'));
    },
  },
];
