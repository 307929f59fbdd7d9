// The drift suite: where the cluster has left its model. With a model (an inventory's cluster:,
// --config, the lab's), every field the running configuration decides is compared with what
// discovery read (harness/discovery/model.ts), each difference naming where the running value
// was read; on a cluster hardway rendered, every unit's command line is compared with the
// rendered one, flag by flag.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseFlags } from '../../harness/discovery/parse/flags.ts';
import { parseOpenrcService } from '../../harness/discovery/parse/openrc.ts';
import { parseService, resolveExecStart } from '../../harness/discovery/parse/systemd-unit.ts';
import type { Cluster, Host } from '../../harness/model/cluster.ts';
import { type Finding, type Suite, clusterCheck, hostCheck, notApplicable, outcome } from '../../harness/verify/check.ts';

type Field = [path: string, given: unknown, running: unknown];

/** The fields of the model that a cluster's configuration decides, given against running. */
export function modelDifferences(
  given: Cluster,
  running: Cluster,
  sources: Record<string, string>,
): { field: string; given: unknown; running: unknown; source: string }[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const fields: Field[] = [
    ['clusterDomain', given.clusterDomain, running.clusterDomain],
    ['podCIDR', given.podCIDR, running.podCIDR],
    ['podSubnetLength', given.podSubnetLength, running.podSubnetLength],
    ['serviceCIDR', given.serviceCIDR, running.serviceCIDR],
    ['apiserver.port', given.apiserver.port, running.apiserver.port],
    ['apiserver.staticToken', given.apiserver.staticToken, running.apiserver.staticToken],
    ['flannel.backend', given.flannel.backend, running.flannel.backend],
    ['flannel.vni', given.flannel.vni, running.flannel.vni],
    ['dns.upstreams', given.dns.upstreams, running.dns.upstreams],
    ['containerd.restrictOomScoreAdj', given.containerd.restrictOomScoreAdj, running.containerd.restrictOomScoreAdj],
    ['kubelet.systemReserved', given.kubelet.systemReserved, running.kubelet.systemReserved],
    ['kubeProxy.conntrackMaxPerCore', given.kubeProxy.conntrackMaxPerCore, running.kubeProxy.conntrackMaxPerCore],
  ];
  const out = fields
    .filter(([path, g, r]) => sources[path] && !sources[path]!.startsWith('default') && !same(g, r))
    .map(([field, g, r]) => ({ field, given: g, running: r, source: sources[field]! }));
  const hosts = (c: Cluster, role: 'masters' | 'workers') => new Map(c[role].map((h) => [h.host, h]));
  for (const role of ['masters', 'workers'] as const) {
    const g = hosts(given, role);
    const r = hosts(running, role);
    for (const [name, gh] of g) {
      const rh = r.get(name);
      if (!rh) {
        out.push({
          field: `${role}.${name}`,
          given: role.slice(0, -1),
          running: 'absent',
          source: `${name}: discovery found no ${role === 'masters' ? 'kube-apiserver or etcd' : 'kubelet'} there`,
        });
        continue;
      }
      for (const f of ['nodeName', 'internalAddress', 'init'] as (keyof Host)[]) {
        if (role === 'masters' && f === 'nodeName') continue;
        const key = `${role}.${name}.${f}`;
        if (!same(gh[f], rh[f]) && sources[key] && !sources[key]!.startsWith('its address'))
          out.push({ field: key, given: gh[f], running: rh[f], source: sources[key]! });
      }
    }
    for (const name of r.keys())
      if (!g.has(name))
        out.push({
          field: `${role}.${name}`,
          given: 'absent',
          running: role.slice(0, -1),
          source: `${name} runs ${role === 'masters' ? 'kube-apiserver' : 'a kubelet'}`,
        });
  }
  return out;
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

const model = clusterCheck({
  id: 'drift.model',
  title: 'the running configuration is the model: every field the cluster decides agrees with it',
  codes: { 'model-drift': 'a value the cluster runs with differs from its model' },
  async run(ctx) {
    if (!ctx.target.modelGiven) return notApplicable('no model was given: the discovered model is the model (hardway discover prints it)');
    const derived = ctx.derived;
    if (!derived || !ctx.facts.hosts.some((h) => h.components.length))
      return notApplicable('discovery found no component to compare the model with');
    const diffs = modelDifferences(ctx.cluster, derived.cluster, derived.sources);
    const findings: Finding[] = diffs.map((d) => ({
      code: 'model-drift',
      subject: d.field,
      message: `the model says ${show(d.given)}, the cluster runs ${show(d.running)} (${d.source})`,
      fix: ctx.target.ownedByHardway
        ? 'hardway lab up again, or change the model to what runs'
        : `change the running configuration (${d.source}) or the model to agree`,
    }));
    return outcome(findings, Object.keys(derived.sources).length);
  },
});

/** The flags of a command line as name=value strings (repeated flags in order). */
const flagList = (argv: string[]) => parseFlags(argv).value.occurrences.map((o) => `--${o.name}=${o.value}`);

/** The command line the rendering gives a component: its systemd unit's ExecStart, or the argv
 * its OpenRC script (and conf.d file) starts, read by the parsers discovery reads the host with. */
async function renderedArgv(dir: string, host: string, definedIn: string[]): Promise<string[] | undefined> {
  const read = (path: string | undefined) => (path ? readFile(join(dir, host, path), 'utf8').catch(() => undefined) : undefined);
  const first = definedIn[0];
  const text = await read(first);
  if (text === undefined || !first) return undefined;
  if (first.startsWith('/etc/init.d/')) {
    const name = first.slice('/etc/init.d/'.length);
    const confd = await read(`/etc/conf.d/${name}`);
    const svc = parseOpenrcService({ path: first, text }, confd !== undefined ? { path: `/etc/conf.d/${name}`, text: confd } : undefined, {
      name,
    }).value;
    return svc.argv.length ? svc.argv : undefined;
  }
  return resolveExecStart(parseService([{ path: first, text }]).value).value?.argv;
}

const units = hostCheck({
  id: 'drift.units',
  title: 'on a cluster hardway rendered, every component runs the command line hardway rendered for it',
  on: {},
  codes: { 'unit-drift': "a component's command line differs from the rendered one" },
  async run(ctx, h) {
    const dir = ctx.target.renderedDir;
    if (!dir)
      return notApplicable('hardway did not render this cluster: there is no rendering to compare with (drift.model compares the model)');
    if (!h.facts.components.length) return notApplicable(`discovery found no component on ${h.name}`);
    const findings: Finding[] = [];
    let examined = 0;
    for (const c of h.facts.components) {
      const argv = await renderedArgv(dir, h.name, c.definedIn);
      if (!argv) continue;
      examined++;
      const want = flagList(argv);
      const have = flagList(c.argv);
      const added = have.filter((f) => !want.includes(f));
      const removed = want.filter((f) => !have.includes(f));
      if (added.length || removed.length) {
        findings.push({
          code: 'unit-drift',
          host: h.name,
          subject: c.unit,
          message: `runs ${[...added.map((a) => `+${a}`), ...removed.map((r) => `-${r}`)].join(' ')} against the rendered ${c.definedIn[0]} (${c.definedIn.slice(1).length ? `${c.definedIn[0]!.startsWith('/etc/init.d/') ? 'with' : 'drop-ins:'} ${c.definedIn.slice(1).join(', ')}` : 'edited in place'})`,
          fix: `restore ${c.definedIn[0]} from the rendering (hardway lab up, or copy ${join(dir, h.name, c.definedIn[0]!)}), or render the change into the model`,
        });
      }
    }
    if (!examined) return notApplicable(`no unit of ${h.name} is in the rendering`);
    return outcome(findings, examined);
  },
});

export const driftSuite: Suite = {
  name: 'drift',
  title: 'Drift: the running cluster against its model (and, where hardway rendered it, against the rendering)',
  dependsOn: [],
  checks: [model, units],
};
