// docs/fault-catalogue.md from the catalogue itself (npm run docs:faults), so the table never drifts from
// the faults: a unit test (doc.test.ts) fails when the committed file is not what this prints.
import { loadCluster } from '../model/load.ts';
import { catalogue } from './catalogue.ts';
import { type Expected, keyOf, rolesOf } from './fault.ts';
import { suiteOf } from './run.ts';

const LAB_MODELS = { seed: 'fixtures/lab/cluster.yaml', kthw: 'fixtures/lab-kthw/cluster.yaml' } as const;

const cell = (list: Expected[]) =>
  list
    .map((e) => `\`${keyOf(e)}\` (${[...e.codes, ...(e.oneOf?.length ? [`one of ${e.oneOf.join('/')}`] : [])].join(', ')})`)
    .join('<br>') || '—';

export function faultCatalogueMarkdown(root = '.'): string {
  // Roles of the seed's lab name the hosts (master, node-1, node-2); KTHW-only faults use KTHW's.
  const roles = { seed: rolesOf(loadCluster(`${root}/${LAB_MODELS.seed}`)), kthw: rolesOf(loadCluster(`${root}/${LAB_MODELS.kthw}`)) };
  const faults = catalogue();
  const rows = faults.map((f) => {
    const layouts = f.on === 'tree' ? 'tree (offline)' : `${(f.layouts ?? ['seed']).join(', ')}${f.layoutsWhy ? ` (${f.layoutsWhy})` : ''}`;
    const r = f.on === 'lab' && !(f.layouts ?? ['seed']).includes('seed') ? roles.kthw : roles.seed;
    const suite = suiteOf((f.expect(r)[0] ?? f.warn?.(r)[0])!.check);
    return `| ${suite} | \`${f.id}\` | ${layouts} | ${f.title} | ${cell(f.expect(r))} | ${cell(f.warn?.(r) ?? [])} |`;
  });
  const lab = faults.filter((f) => f.on === 'lab');
  return `# The fault catalogue

Generated from the catalogue (\`npm run docs:faults\`; a unit test keeps it current). Every check
is proven by at least one fault below: the fault breaks the thing, exactly the listed checks fail
(on the listed hosts, each with at least the listed codes), the lab is repaired and proven
healthy. \`lab\` faults run on the running lab of the listed layouts (\`hardway faults\`, the lab
tests); \`tree\` faults break a copy of a rendering offline (unit tests). Host names are those of
the seed's lab (master, node-1, node-2), or KTHW's (server, node-0, node-1) for KTHW-only faults.
In the seed's lab node-1 runs systemd and node-2 OpenRC: a worker-service fault and its mirror
(\`...-first-worker\`, \`...-last-worker\`: the same fault at the other end of the worker list)
break that service under both init systems.

${faults.length} faults: ${lab.length} on the lab (${lab.filter((f) => (f.layouts ?? ['seed']).includes('seed')).length} seed, ${lab.filter((f) => f.layouts?.includes('kthw')).length} KTHW), ${faults.length - lab.length} on a rendered tree.

| suite | fault | where | what is broken | checks that must fail (codes) | checks that must warn |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

if (import.meta.main) process.stdout.write(faultCatalogueMarkdown());
