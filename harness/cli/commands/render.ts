// `hardway render`. The model loader and the PKI (x509, WebCrypto) are imported when it runs, so
// that `hardway render --help` answers at once.
import { resolve } from 'node:path';
import { type Command, need, parse } from '../command.ts';
import { UsageError } from '../errors.ts';

export const renderCommand: Command = {
  name: 'render',
  summary: "write every host's files (PKI, kubeconfigs, units, configs) from cluster.yaml",
  help: `Usage: hardway render --config <cluster.yaml> --out <dir> [--rotate-ca]
       hardway render --layout kthw [--config <cluster.yaml>] --out <dir> [--pki <chapter-04 dir>] [--verbatim]

Writes, for every host of the model, a tree that mirrors absolute paths on that host:
  <dir>/<host>/var/lib/kubernetes/ca.pem, <dir>/<host>/etc/systemd/system/kubelet.service, ...
and keeps the issued CA, keys and static token in <dir>/_pki (secret: keep it safe).

<dir> must be new, empty or an earlier rendering: render lists what it wrote in
<dir>/.hardway-render.json and never deletes or overwrites a file it did not write.

Re-rendering reuses the CA, keys and token found in <dir>/_pki: a new CA would force every
certificate and kubeconfig on every host to be replaced (the seed warns about it). A missing
ca-key.pem, a ca.pem that does not match it, or an unreadable key is refused, never replaced.

Options:
  --config <file>   cluster model (see docs/cluster-model.md)
  --out <dir>       output folder
  --rotate-ca       issue a new CA and new keys even if <dir>/_pki has them
  --layout <l>      seed or kthw (Kubernetes The Hard Way): overrides the model's layout field;
                    without --config, that layout's lab model (fixtures/lab-kthw/cluster.yaml for kthw)
  --pki <dir>       kthw: lay out an existing chapter-04 folder (ca.crt, ca.key, admin.crt, ...,
                    service-accounts.key, as KTHW's openssl commands write them) instead of issuing
  --verbatim        kthw: KTHW's units and configs exactly, without the lab's deviations (docs/lab.md)

Exit code: 0 written, 2 bad input (the model, the folder, the PKI in it: one line with the fix).
`,
  async run(argv) {
    const { values } = parse('render', argv, {
      config: { type: 'string' },
      out: { type: 'string' },
      'rotate-ca': { type: 'boolean' },
      layout: { type: 'string' },
      pki: { type: 'string' },
      verbatim: { type: 'boolean' },
    });
    if (values.help) return (process.stdout.write(this.help), 0);
    const { labConfigPath, parseLayout } = await import('../../providers/lab/lab-configs.ts');
    const layout = parseLayout(values.layout);
    const config = layout ? labConfigPath(values.config, layout).path : need('render', values.config, '--config');
    const outArg = need('render', values.out, '--out');
    const [{ loadCluster }, { checkOutDir }] = await Promise.all([import('../../model/load.ts'), import('../../render/out-dir.ts')]);
    const cluster = loadCluster(config, layout ? { layout } : {});
    if ((values.pki || values.verbatim) && cluster.layout !== 'kthw')
      throw new UsageError('--pki and --verbatim belong to the kthw layout; fix: add --layout kthw');
    if (values.pki && values['rotate-ca']) throw new UsageError('--pki lays out the given CA: it cannot be rotated too');
    const out = checkOutDir(resolve(outArg));
    const [{ renderToDir }, { certPlan }, { readChapter04 }] = await Promise.all([
      import('../../render/render.ts'),
      import('../../pki/plan.ts'),
      import('../../layouts/kthw/chapter04.ts'),
    ]);
    const pki = values.pki ? await readChapter04(resolve(values.pki), certPlan(cluster)) : undefined;
    const r = await renderToDir(cluster, out, values['rotate-ca'] ?? false, {
      ...(pki ? { pki } : {}),
      options: { verbatim: values.verbatim ?? false },
    });
    for (const [host, files] of r.hosts) process.stdout.write(`${host}: ${files.length} files in ${out}/${host}\n`);
    const ca = {
      reused: `CA reused from ${out}/_pki/ca.pem`,
      new: 'a new CA (first rendering of this folder)',
      rotated: "CA rotated: copy every host's files again",
      given: 'the CA given',
    }[r.caSource ?? 'new'];
    process.stdout.write(`PKI kept in ${out}/_pki (${ca})\n`);
    return 0;
  },
};
