import { resolve } from 'node:path';
import { loadCluster } from '../../model/load.ts';
import { renderToDir } from '../../render/render.ts';
import { type Command, need, parse } from '../command.ts';

export const renderCommand: Command = {
  name: 'render',
  summary: 'write every host\'s files (PKI, kubeconfigs, units, configs) from cluster.yaml',
  help: `Usage: hardway render --config <cluster.yaml> --out <dir> [--rotate-ca]

Writes, for every host of the model, a tree that mirrors absolute paths on that host:
  <dir>/<host>/var/lib/kubernetes/ca.pem, <dir>/<host>/etc/systemd/system/kubelet.service, ...
and keeps the issued CA, keys and static token in <dir>/_pki (secret: keep it safe).

Re-rendering reuses the CA, keys and token found in <dir>/_pki: a new CA would force every
certificate and kubeconfig on every host to be replaced (the seed warns about it).

Options:
  --config <file>   cluster model (see docs/cluster-model.md)
  --out <dir>       output folder
  --rotate-ca       issue a new CA and new keys even if <dir>/_pki has them
`,
  async run(argv) {
    const { values } = parse('render', argv, { config: { type: 'string' }, out: { type: 'string' }, 'rotate-ca': { type: 'boolean' } });
    if (values.help) return (process.stdout.write(this.help), 0);
    const cluster = loadCluster(need('render', values.config, '--config'));
    const out = resolve(need('render', values.out, '--out'));
    const r = await renderToDir(cluster, out, values['rotate-ca'] ?? false);
    for (const [host, files] of r.hosts) process.stdout.write(`${host}: ${files.length} files in ${out}/${host}\n`);
    process.stdout.write(`PKI kept in ${out}/_pki (CA ${values['rotate-ca'] ? 'rotated' : 'reused when present'})\n`);
    return 0;
  },
};
