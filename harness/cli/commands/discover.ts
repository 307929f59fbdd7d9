// `hardway discover`: what a cluster really runs, as a cluster model. Reads every host of the
// target (read-only) and prints the model in cluster.yaml's format, each value commented with
// where it was read; `--facts` prints what discovery found per host instead.
import { type Command, need, parse } from '../command.ts';

export const discoverCommand: Command = {
  name: 'discover',
  summary: 'read what a cluster really runs and print it as a cluster model (cluster.yaml)',
  help: `Usage: hardway discover --target <target> [--facts]

Reads every host of the target, read-only: the services that run Kubernetes components (found by
what they execute, whatever the unit is called), their flags, and the files those name. Prints
the cluster model they describe in cluster.yaml's format, each value commented with where it was
read (# node-1:/etc/systemd/system/kubelet.service --config). Keep it as the inventory's cluster:
and hardway verify's drift suite reports whenever the cluster leaves it.

Targets: an inventory (its cluster: is not needed), lab, lab:<name>, dir:<tree> (a tree with the
hosts' unit files: DIR/<host>/etc/systemd/system/*.service).

  --facts   print the components found on each host, their units, and every file they use
`,
  async run(argv) {
    const { values } = parse('discover', argv, { target: { type: 'string', short: 't' }, facts: { type: 'boolean' } });
    if (values.help) return (process.stdout.write(this.help), 0);
    const spec = need('discover', values.target, '--target');
    const { openTarget } = await import('../../targets/open.ts');
    const { discoverTarget } = await import('../../verify/context.ts');
    const { printModel } = await import('../../discovery/print.ts');
    const { redact } = await import('../../report/redact.ts');
    const target = await openTarget(spec, {});
    try {
      await target.preflight?.();
      const { facts, derived } = await discoverTarget(target);
      if (values.facts) {
        // Flags and problem lines quote what the hosts hold: through the redaction filter too.
        const out = (line: string) => process.stdout.write(redact(line));
        for (const h of facts.hosts) {
          out(`${h.host} (${h.init}${h.hostname && h.hostname !== h.host ? `, hostname ${h.hostname}` : ''})\n`);
          for (const c of h.components) {
            out(
              `  ${c.kind}: unit ${c.unit} (${c.definedIn.join(', ')})${c.state ? `, ${c.state.active}/${c.state.enabled}, Restart=${c.state.restart}` : ''}\n`,
            );
            for (const f of c.files) out(`    ${f.role.padEnd(22)} ${f.path}  # ${f.source}\n`);
          }
          if (h.cni?.containerd) out(`  CNI: ${h.cni.containerd.file} (${h.cni.containerd.types.join(', ')})\n`);
          for (const p of h.problems) out(`  problem: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}\n`);
        }
        return 0;
      }
      const header = [
        `The cluster model of ${spec}, as hardway discover read it on ${new Date().toISOString()}.`,
        'Each value says where it was read; "default" means no configuration sets it and the component uses its default.',
        ...derived.problems.map((p) => `problem: ${p}`),
      ];
      process.stdout.write(redact(printModel(derived, header)));
      return derived.problems.length ? 1 : 0;
    } finally {
      await target.close();
    }
  },
};
