// Faults that prove the apiserver suite: the seed's debugging token changed behind the
// operator's back, and the apiserver stopped.
// The token fault exists only where kube-apiserver has --token-auth-file (the seed's layout: KTHW's
// apiserver has no token file, and apiserver.bearer-token uses a ServiceAccount token there).
import { layoutOf } from '../../harness/model/cluster.ts';
import type { Fault } from '../../harness/faults/fault.ts';
import { leadersBack, restartNow, restoreFile, start, stopNow } from '../../harness/faults/ops.ts';
import { TOKEN_FILE } from '../../harness/pki/plan.ts';
import { tokenCsv } from '../../harness/render/configs.ts';

export const apiserverFaults: Fault[] = [
  {
    id: 'apiserver-static-token-changed',
    title: "the apiserver's static token changed behind the operator's back",
    on: 'lab',
    alone: 'it restarts kube-apiserver, which every check goes through',
    layoutsWhy: 'KTHW has no static token file',
    expect: (r) => [{ check: 'apiserver.bearer-token', host: r.master, codes: ['token-refused'] }],
    async inject(env) {
      await env.host(env.master).ssh.writeFile(TOKEN_FILE, tokenCsv('changed-by-hardway-fault-0123456789'), 0o600);
      await restartNow(env, env.master, 'kube-apiserver');
      await leadersBack(env);
    },
    async repair(env) {
      await restoreFile(env, env.master, TOKEN_FILE, 0o600);
      await restartNow(env, env.master, 'kube-apiserver');
      await leadersBack(env);
    },
  },
  {
    id: 'apiserver-stopped',
    title: 'kube-apiserver stopped',
    on: 'lab',
    alone: 'every check that asks the cluster goes through kube-apiserver',
    layouts: ['seed', 'kthw'],
    expect: (r) => [
      { check: 'hosts.services-active', host: r.master, codes: ['unit-inactive'] },
      { check: 'hosts.listening', host: r.master, codes: ['port-not-listening'] },
      // The seed's static token is read from its file and refused at the door; KTHW has none, and
      // a ServiceAccount token cannot be had from a stopped apiserver (inconclusive, not failed).
      ...(layoutOf(r.cluster) === 'seed' ? [{ check: 'apiserver.bearer-token', host: r.master, codes: ['unreachable'] }] : []),
      { check: 'apiserver.readyz', host: r.master, codes: ['unreachable'] },
      { check: 'apiserver.versions', host: r.master, codes: ['no-server-version'] },
    ],
    inject: (env) => stopNow(env, env.master, 'kube-apiserver'),
    async repair(env) {
      await start(env, env.master, 'kube-apiserver');
      await leadersBack(env);
    },
  },
];
