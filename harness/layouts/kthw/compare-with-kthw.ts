// Local check, never run in CI: holds hardway's kthw layout against Kubernetes The Hard Way's own
// repository and prints every difference. Nothing of KTHW is copied into hardway: the repository
// is read from a git folder given on the command line (a clone or a bare mirror).
//
//   node harness/layouts/kthw/compare-with-kthw.ts <kthw git dir> [--verbatim] [--config <cluster.yaml>]
//
// Compared: units/* and configs/* with each rendered file (units and TOML line by line, YAML and
// JSON as data, SUBNET and ${ENCRYPTION_KEY} substituted as chapters 06 and 09 do); ca.conf with
// hardway's profiles written as an openssl config (ca-conf.ts), section by section; the
// certificates chapter 04's own openssl commands make with the ones hardway issues, field by field;
// the kubeconfigs chapter 05's own kubectl commands make with hardway's, structure by structure.
// Each difference is matched to the deviation that explains it (deviations.ts); an unexplained one
// makes the exit code 1. --verbatim renders KTHW's files without the lab's deviations.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries, CLUSTER_COMPONENTS } from '../../binaries/binaries.ts';
import { loadCluster } from '../../model/load.ts';
import { x509 } from '../../pki/keys.ts';
import { render, type TreeFile } from '../../render/render.ts';
import { caConf } from './ca-conf.ts';
import { FILE_DEVIATIONS, INSTALL_DEVIATIONS } from './deviations.ts';
import { CONTAINERD_DROP_IN } from './files.ts';
import * as P from './paths.ts';

const args = process.argv.slice(2);
const gitDir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--config');
if (!gitDir) {
  process.stderr.write('usage: compare-with-kthw.ts <kthw git dir> [--verbatim] [--config <cluster.yaml>]\n');
  process.exit(2);
}
const verbatim = args.includes('--verbatim');
const config =
  args[args.indexOf('--config') + 1] && args.includes('--config')
    ? args[args.indexOf('--config') + 1]!
    : resolve(import.meta.dirname, '../../../fixtures/lab-kthw/cluster.yaml');
const kthw = (path: string) => execFileSync('git', ['-C', gitDir, 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 1 << 24 });

interface Difference {
  file: string;
  what: string;
  deviation?: string;
}
const found: Difference[] = [];
const WHY: Record<string, string> = Object.fromEntries(
  [...Object.values(FILE_DEVIATIONS), ...INSTALL_DEVIATIONS].map((d) => [d.id, d.why]),
);

/** Which deviation explains a difference (by file and what differs). */
function explain(file: string, what: string): string | undefined {
  if (file === 'units/kube-apiserver.service' && /--service-cluster-ip-range=/.test(what)) return FILE_DEVIATIONS.serviceClusterIpRange.id;
  if (file === 'configs/containerd-config.toml' && /restrict_oom_score_adj = true/.test(what))
    return FILE_DEVIATIONS.restrictOomScoreAdj.id;
  if (file === 'configs/kube-proxy-config.yaml' && /^\+ (\d+\.)?conntrack(\.|:)/.test(what)) return FILE_DEVIATIONS.conntrackMaxPerCore.id;
  if (file === CONTAINERD_DROP_IN) return FILE_DEVIATIONS.containerdModprobe.id;
  return undefined;
}
const differ = (file: string, what: string) =>
  found.push({ file, what, ...(explain(file, what) ? { deviation: explain(file, what)! } : {}) });

/** Line diff (longest common subsequence): "- line" only in KTHW, "+ line" only in hardway. */
function lineDiff(a: string, b: string): string[] {
  const x = a.replace(/\n+$/, '').split('\n');
  const y = b.replace(/\n+$/, '').split('\n');
  const l = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--) l[i]![j] = x[i] === y[j] ? l[i + 1]![j + 1]! + 1 : Math.max(l[i + 1]![j]!, l[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i === x.length || l[i]![j + 1]! >= l[i + 1]![j]!)) out.push(`+ ${y[j++]}`);
    else out.push(`- ${x[i++]}`);
  }
  return out;
}

/** Differences between two parsed documents, as "- path: value" / "+ path: value". */
function dataDiff(a: unknown, b: unknown, path = ''): string[] {
  const show = (v: unknown) => JSON.stringify(v);
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a)) return [`+ ${p}: ${show((b as Record<string, unknown>)[k])}`];
      if (!(k in b)) return [`- ${p}: ${show((a as Record<string, unknown>)[k])}`];
      return dataDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p);
    });
  }
  return a === b ? [] : [`- ${path}: ${show(a)}`, `+ ${path}: ${show(b)}`];
}

const yamlDocs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as unknown);

// --- the rendering ---------------------------------------------------------------------------
const cluster = loadCluster(config);
if (cluster.layout !== 'kthw') throw new Error(`${config} is not a kthw-layout model`);
process.stderr.write(`rendering ${config} (${verbatim ? 'verbatim' : "with the lab's deviations"}) ...\n`);
const r = await render(cluster, { options: { verbatim } });
const server = cluster.masters[0]!;
const file = (host: string, path: string): string => {
  const f = (r.hosts.get(host) ?? []).find((x: TreeFile) => x.path === path);
  if (!f) throw new Error(`hardway renders no ${host}:${path}`);
  return f.content;
};

// --- units and configs ------------------------------------------------------------------------
const UNITS: [string, string][] = [
  ['etcd', server.host],
  ['kube-apiserver', server.host],
  ['kube-controller-manager', server.host],
  ['kube-scheduler', server.host],
  ...['containerd', 'kubelet', 'kube-proxy'].flatMap((u) => cluster.workers.map((w) => [u, w.host] as [string, string])),
];
let compared = 0;
for (const [unit, host] of UNITS) {
  compared++;
  for (const d of lineDiff(kthw(`units/${unit}.service`), file(host, P.unitPath(unit))))
    differ(`units/${unit}.service`, `${d}   (${host})`);
}
for (const w of cluster.workers) {
  const extra = (r.hosts.get(w.host) ?? []).find((f) => f.path === CONTAINERD_DROP_IN);
  if (extra)
    differ(
      CONTAINERD_DROP_IN,
      `+ a drop-in KTHW does not have (${w.host}): ${extra.content
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join(' | ')}`,
    );
}
const encryptionKey = r.encryptionKey!;
const CONFIGS: { kthw: string; host: string; path: string; kind: 'yaml' | 'json' | 'text'; subst?: (s: string) => string }[] = [
  { kthw: 'configs/kube-scheduler.yaml', host: server.host, path: P.SCHEDULER_CONFIG, kind: 'yaml' },
  { kthw: 'configs/kube-apiserver-to-kubelet.yaml', host: server.host, path: P.RBAC_FILE, kind: 'yaml' },
  {
    kthw: 'configs/encryption-config.yaml',
    host: server.host,
    path: P.ENCRYPTION_CONFIG,
    kind: 'yaml',
    subst: (s) => s.replace('${ENCRYPTION_KEY}', encryptionKey),
  },
  ...cluster.workers.flatMap((w) => [
    { kthw: 'configs/kubelet-config.yaml', host: w.host, path: P.KUBELET_CONFIG, kind: 'yaml' as const },
    { kthw: 'configs/kube-proxy-config.yaml', host: w.host, path: P.KUBE_PROXY_CONFIG, kind: 'yaml' as const },
    {
      kthw: 'configs/10-bridge.conf',
      host: w.host,
      path: P.BRIDGE_CONF,
      kind: 'json' as const,
      subst: (s: string) => s.replace(/SUBNET/g, w.podSubnet!),
    },
    { kthw: 'configs/99-loopback.conf', host: w.host, path: P.LOOPBACK_CONF, kind: 'json' as const },
    { kthw: 'configs/containerd-config.toml', host: w.host, path: P.CONTAINERD_CONFIG, kind: 'text' as const },
  ]),
];
for (const c of CONFIGS) {
  compared++;
  const theirs = (c.subst ?? ((s: string) => s))(kthw(c.kthw));
  const ours = file(c.host, c.path);
  const diffs =
    c.kind === 'text'
      ? lineDiff(theirs, ours)
      : c.kind === 'json'
        ? dataDiff(JSON.parse(theirs), JSON.parse(ours))
        : dataDiff(yamlDocs(theirs), yamlDocs(ours));
  for (const d of diffs) differ(c.kthw, `${d}   (${c.host}:${c.path})`);
}

// --- ca.conf, section by section ----------------------------------------------------------------
type Ini = Map<string, [string, string][]>;
function parseIni(text: string): Ini {
  const out: Ini = new Map();
  let cur: [string, string][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const sec = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (sec) out.set(sec[1]!, (cur = []));
    else if (line.includes('=')) cur.push([line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()]);
  }
  return out;
}
/** One certificate's recipe from an openssl config: its subject and extensions, references resolved. */
function recipe(ini: Ini, section: string): Record<string, string> {
  const get = (s: string, k: string) => ini.get(s)?.find(([a]) => a === k)?.[1];
  const exts = get(section, 'x509_extensions') ?? get(section, 'req_extensions');
  const out: Record<string, string> = {
    subject: (ini.get(get(section, 'distinguished_name') ?? '') ?? []).map(([k, v]) => `${k}=${v}`).join(', '),
  };
  for (const [k, v] of ini.get(exts ?? '') ?? []) {
    if (k === 'subjectAltName' && v.startsWith('@'))
      out[k] = (ini.get(v.slice(1)) ?? []).map(([t, x]) => `${t.split('.')[0]}:${x}`).join(', ');
    else if (k === 'keyUsage')
      out[k] = v
        .split(',')
        .map((s) => s.trim())
        .sort()
        .join(', ');
    else out[k] = v.replace(/^"(.*)"$/, '$1');
  }
  return out;
}
{
  compared++;
  const theirs = parseIni(kthw('ca.conf'));
  const ours = parseIni(caConf(cluster));
  const sections = ['req', ...[...ours.keys()].filter((s) => ours.get(s)!.some(([k]) => k === 'req_extensions'))];
  for (const s of new Set([...sections, ...[...theirs.keys()].filter((x) => theirs.get(x)!.some(([k]) => k === 'req_extensions'))])) {
    if (!theirs.has(s)) {
      differ('ca.conf', `+ [${s}]: a certificate KTHW's ca.conf has no section for`);
      continue;
    }
    if (!ours.has(s)) {
      differ('ca.conf', `- [${s}]: a certificate hardway does not issue`);
      continue;
    }
    for (const d of dataDiff(recipe(theirs, s), recipe(ours, s))) differ('ca.conf', `[${s}] ${d}`);
  }
}

// --- chapter 04's certificates and chapter 05's kubeconfigs, made by KTHW's own commands --------
const bashBlocks = (md: string) => [...md.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
const work = mkdtempSync(join(tmpdir(), 'hardway-kthw-compare-'));
try {
  writeFileSync(join(work, 'ca.conf'), kthw('ca.conf'));
  const ch04 = bashBlocks(kthw('docs/04-certificate-authority.md')).filter((b) => /openssl|^certs=\(/m.test(b) && !/scp|ssh /.test(b));
  process.stderr.write(`running chapter 04's ${ch04.length} openssl blocks in ${work} ...\n`);
  execFileSync('bash', ['-c', `set -e\n${ch04.join('\n')}`], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
  const kubectlDir = (
    await ensureBinaries(
      'build',
      () => undefined,
      CLUSTER_COMPONENTS.filter((x) => x.name === 'kubernetes'),
    )
  )
    .get('kubectl')!
    .replace(/\/kubectl$/, '');
  const ch05 = bashBlocks(kthw('docs/05-kubernetes-configuration-files.md')).filter((b) => /kubectl config/.test(b) && !/scp|ssh /.test(b));
  process.stderr.write(`running chapter 05's ${ch05.length} kubectl config blocks ...\n`);
  execFileSync('bash', ['-c', `set -e\n${ch05.join('\n')}`], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: `${kubectlDir}:${process.env.PATH}` },
  });

  /** A certificate as fields to compare: everything but serial, key and the moment of issue. */
  const fields = (pem: string) => {
    const c = new x509.X509Certificate(pem);
    const ski = c.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    return {
      subject: c.subject,
      // DER, so attribute order and string types (PrintableString, UTF8String) count too.
      subjectDer: Buffer.from(c.subjectName.toArrayBuffer()).toString('hex'),
      issuer: c.issuer,
      issuerDer: Buffer.from(c.issuerName.toArrayBuffer()).toString('hex'),
      signature: `${c.signatureAlgorithm.name}/${(c.signatureAlgorithm as { hash?: { name: string } }).hash?.name}`,
      publicKey: `${c.publicKey.algorithm.name}/${(c.publicKey.algorithm as { modulusLength?: number }).modulusLength}`,
      days: Math.round((c.notAfter.getTime() - c.notBefore.getTime()) / 86_400_000),
      serialBytes: Math.ceil(c.serialNumber.replace(/^0+/, '').length / 2),
      extensions: c.extensions.map((e) => `${e.type}${e.critical ? ' critical' : ''}`).join(' '),
      ...Object.fromEntries(
        c.extensions.filter((e) => !['2.5.29.14', '2.5.29.35'].includes(e.type)).map((e) => [e.type, Buffer.from(e.value).toString('hex')]),
      ),
      authorityKeyIsIssuers: c.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId !== undefined ? 'yes' : 'no',
      subjectKeyIdentifier: ski ? 'hash' : 'none',
    };
  };
  const issued = new Map([['ca', r.pki.ca.certPem], ...[...r.pki.certs].map(([id, c]) => [id, c.certPem] as [string, string])]);
  for (const [id, pem] of issued) {
    compared++;
    let theirs: string;
    try {
      theirs = readFileSync(join(work, `${id}.crt`), 'utf8');
    } catch {
      differ(`${id}.crt`, '+ hardway issues a certificate chapter 04 does not');
      continue;
    }
    for (const d of dataDiff(fields(theirs), fields(pem))) differ(`${id}.crt`, d);
  }
  const mask = (text: string) => yamlDocs(text.replace(/(-data: )\S+/g, '$1<data>'));
  const KUBECONFIGS: [string, string, string][] = [
    ...cluster.workers.map((w) => [`${w.host}.kubeconfig`, w.host, P.KUBELET_KUBECONFIG] as [string, string, string]),
    ['kube-proxy.kubeconfig', cluster.workers[0]!.host, P.KUBE_PROXY_KUBECONFIG],
    ['kube-controller-manager.kubeconfig', server.host, P.KCM_KUBECONFIG],
    ['kube-scheduler.kubeconfig', server.host, P.SCHEDULER_KUBECONFIG],
    ['admin.kubeconfig', server.host, P.ADMIN_KUBECONFIG],
  ];
  for (const [name, host, path] of KUBECONFIGS) {
    compared++;
    const theirs = readFileSync(join(work, name), 'utf8');
    for (const d of dataDiff(mask(theirs), mask(file(host, path)))) differ(name, `${d}   (${host}:${path})`);
    for (const d of lineDiff(theirs.replace(/(-data: )\S+/g, '$1<data>'), file(host, path).replace(/(-data: )\S+/g, '$1<data>')))
      differ(name, `text ${d}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// --- the report ---------------------------------------------------------------------------------
const byFile = new Map<string, Difference[]>();
for (const d of found) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
process.stdout.write(
  `hardway kthw layout vs ${resolve(gitDir)} (${execFileSync('git', ['-C', gitDir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}), ${verbatim ? 'verbatim' : 'lab rendering'}: ${compared} files compared (final newlines ignored)\n`,
);
for (const [f, ds] of byFile) {
  process.stdout.write(`\n${f}\n`);
  for (const d of ds) process.stdout.write(`  ${d.what}\n    ${d.deviation ? `deviation ${d.deviation}` : 'UNDOCUMENTED'}\n`);
}
const undocumented = found.filter((d) => !d.deviation);
const used = [...new Set(found.map((d) => d.deviation).filter(Boolean))] as string[];
process.stdout.write(`\n${found.length} differences, ${undocumented.length} undocumented.\n`);
for (const id of used) process.stdout.write(`  ${id}: ${WHY[id]}\n`);
process.stdout.write('\nNot in the files (install deviations, docs/lab.md):\n');
for (const d of INSTALL_DEVIATIONS) process.stdout.write(`  ${d.id}: ${d.what}\n`);
process.exit(undocumented.length ? 1 : 0);
