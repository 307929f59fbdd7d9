import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allHosts } from './cluster.ts';
import { ModelError, loadCluster, parseCluster } from './load.ts';

const FILE = 'models/broken.yaml';

/** A minimal valid model; line numbers below refer to this text. */
const BASE = `${[
  'name: t', //                      1
  'masters:', //                     2
  '  - host: master', //             3
  '    address: 10.240.0.10', //     4
  'workers:', //                     5
  '  - host: node-1', //             6
  '    address: 10.240.0.21', //     7
  '  - host: node-2', //             8
  '    address: 10.240.0.22', //     9
].join('\n')}\n`;

/** Parses `text` expecting a ModelError; returns its problems. */
function problemsOf(text: string, file = FILE): string[] {
  try {
    parseCluster(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    const err = e as ModelError;
    expect(err.message).toBe(err.problems.join('\n'));
    return err.problems;
  }
  throw new Error('expected a ModelError, but the model was accepted');
}

/** The single problem of `text`. */
function oneProblem(text: string): string {
  const problems = problemsOf(text);
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

describe('loading the lab fixture', () => {
  const c = loadCluster('fixtures/lab/cluster.yaml');

  it('reads the topology: one master, two workers', () => {
    expect(c.name).toBe('lab');
    expect(c.masters.map((h) => [h.host, h.role, h.address])).toEqual([['master', 'master', '10.240.0.10']]);
    expect(c.workers.map((h) => [h.host, h.role, h.address])).toEqual([
      ['node-1', 'worker', '10.240.0.21'],
      ['node-2', 'worker', '10.240.0.22'],
    ]);
  });

  it('derives the kubernetes service address from serviceCIDR', () => {
    expect(c.serviceCIDR).toBe('10.32.0.0/24');
    expect(c.kubernetesServiceIP).toBe('10.32.0.1');
  });

  it('fills host defaults: nodeName = host, internalAddress = address, init = systemd (node-2 says openrc)', () => {
    // The master sets no nodeName in the fixture; workers set it to their host name explicitly.
    for (const h of allHosts(c)) {
      expect(h.nodeName).toBe(h.host);
      expect(h.internalAddress).toBe(h.address);
      expect(h.init).toBe(h.host === 'node-2' ? 'openrc' : 'systemd');
    }
  });

  it('fills section defaults the fixture leaves out', () => {
    expect(c.flannel).toEqual({ backend: 'vxlan', vni: 1, port: 8472, etcdPrefix: '/coreos.com/network' });
    expect(c.cniBinDir).toBe('/opt/cni/bin');
    expect(c.dns).toEqual({ upstreams: ['10.240.0.2'], probeName: 'upstream-probe.lab.test' });
    expect(c.kubeProxy).toEqual({ conntrackMaxPerCore: 0 });
    expect(c.kubelet).toEqual({ systemReserved: { cpu: '100m', memory: '200Mi' } });
    expect(c.ingress?.acmeServer).toBe('https://10.240.0.2:14000/dir');
  });
});

describe('defaults of a minimal model', () => {
  const c = parseCluster(BASE, FILE);

  it('takes the seed defaults for every omitted field', () => {
    expect(c).toMatchObject({
      clusterDomain: 'cluster.local',
      podCIDR: '10.200.0.0/16',
      podSubnetLength: 24,
      serviceCIDR: '10.32.0.0/24',
      kubernetesServiceIP: '10.32.0.1',
      apiserver: { port: 6443, staticToken: true },
      flannel: { backend: 'vxlan', vni: 1, port: 8472, etcdPrefix: '/coreos.com/network' },
      dns: { upstreams: ['/etc/resolv.conf'] },
      kubelet: {},
      kubeProxy: {},
      cniBinDir: '/opt/cni/bin',
    });
    expect(c.ingress).toBeUndefined();
    expect(c.dns.probeName).toBeUndefined();
  });

  it('keeps overrides: nodeName, internalAddress, init, a different serviceCIDR', () => {
    const text = BASE.replace('name: t\n', 'name: t\nserviceCIDR: 10.96.0.0/12\n').replace(
      '  - host: node-1\n',
      '  - host: node-1\n    nodeName: w40k.net\n    internalAddress: 192.168.164.230\n    init: openrc\n',
    );
    const v = parseCluster(text, FILE);
    expect(v.kubernetesServiceIP).toBe('10.96.0.1');
    expect(v.workers[0]).toEqual({
      host: 'node-1',
      role: 'worker',
      nodeName: 'w40k.net',
      address: '10.240.0.21',
      internalAddress: '192.168.164.230',
      init: 'openrc',
    });
    expect(v.workers[1]!.nodeName).toBe('node-2');
  });
});

describe('precise errors: file:line:col, field path, what was expected', () => {
  it('unknown top-level key', () => {
    const p = oneProblem(`${BASE}colour: blue\n`);
    expect(p).toMatch(/^models\/broken\.yaml:10:1: colour: unknown key "colour" \(known keys: name, clusterDomain, .*masters, workers\)$/);
  });

  it('unknown nested key (masters[0].adress), plus the now-missing address', () => {
    const problems = problemsOf(BASE.replace('    address: 10.240.0.10', '    adress: 10.240.0.10'));
    expect(problems).toEqual([
      'models/broken.yaml:4:5: masters[0].adress: unknown key "adress" (known keys: host, nodeName, address, internalAddress, init)',
      'models/broken.yaml:3:5: masters[0].address: is required',
    ]);
  });

  it('unknown key in a section (flannel.vnid)', () => {
    const p = oneProblem(`flannel:\n  vnid: 1\n${BASE}`);
    expect(p).toBe('models/broken.yaml:2:3: flannel.vnid: unknown key "vnid" (known keys: backend, vni, port, etcdPrefix)');
  });

  it('serviceCIDR overlapping podCIDR', () => {
    const p = oneProblem(`serviceCIDR: 10.200.5.0/24\n${BASE}`);
    expect(p).toBe('models/broken.yaml:1:14: serviceCIDR: 10.200.5.0/24 overlaps podCIDR 10.200.0.0/16; pick disjoint ranges');
  });

  it("duplicate node name: a nodeName override colliding with another worker's default", () => {
    // node-1 registers as "node-2"; node-2 sets no nodeName, so it registers as "node-2" too.
    const p = oneProblem(BASE.replace('  - host: node-1\n', '  - host: node-1\n    nodeName: node-2\n'));
    expect(p).toContain(`${FILE}:9:5: `);
    expect(p).toContain('workers[1].nodeName');
    expect(p).toContain('defaults to host');
    expect(p).toContain('duplicate node name "node-2" (also at workers[0].nodeName)');
  });

  it("duplicate node name: an override equal to another host's name points at the override", () => {
    const p = oneProblem(BASE.replace('    address: 10.240.0.22\n', '    address: 10.240.0.22\n    nodeName: node-1\n'));
    expect(p).toBe(
      `${FILE}:10:15: workers[1].nodeName: duplicate node name "node-1" (also at workers[0].nodeName (not set, defaults to host))`,
    );
  });

  it('duplicate address', () => {
    const p = oneProblem(BASE.replace('10.240.0.22', '10.240.0.21'));
    expect(p).toBe(`${FILE}:9:14: workers[1].address: duplicate address "10.240.0.21" (also at workers[0].address)`);
  });

  it('duplicate host name across masters and workers', () => {
    // The defaulted node names then collide too; both are reported.
    expect(problemsOf(BASE.replace('  - host: node-2', '  - host: master'))).toEqual([
      `${FILE}:8:11: workers[1].host: duplicate host name "master" (also at masters[0].host)`,
      `${FILE}:8:5: workers[1].nodeName (not set, defaults to host): duplicate node name "master" (also at masters[0].nodeName (not set, defaults to host))`,
    ]);
  });

  it('an address that is not an IP (10.0.0.300)', () => {
    const p = oneProblem(BASE.replace('10.240.0.22', '10.0.0.300'));
    expect(p).toBe(`${FILE}:9:14: workers[1].address: expected an IPv4 or IPv6 address, got "10.0.0.300"`);
  });

  it('a host address inside the pod CIDR is reported once, at the address', () => {
    const p = oneProblem(BASE.replace('10.240.0.22', '10.200.3.4'));
    expect(p).toBe(
      `${FILE}:9:14: workers[1].address: 10.200.3.4 lies inside podCIDR 10.200.0.0/16; host addresses must be outside cluster ranges`,
    );
  });

  it('an internal address inside the service CIDR', () => {
    const p = oneProblem(BASE.replace('    address: 10.240.0.10\n', '    address: 10.240.0.10\n    internalAddress: 10.32.0.10\n'));
    expect(p).toBe(
      `${FILE}:5:22: masters[0].internalAddress: 10.32.0.10 lies inside serviceCIDR 10.32.0.0/24; host addresses must be outside cluster ranges`,
    );
  });

  it('a wrong flannel backend', () => {
    const p = oneProblem(`flannel:\n  backend: udp\n${BASE}`);
    expect(p).toBe(`${FILE}:2:12: flannel.backend: expected "vxlan" or "host-gw", got "udp"`);
  });

  it('a wrong init system', () => {
    const p = oneProblem(BASE.replace('    address: 10.240.0.22\n', '    address: 10.240.0.22\n    init: upstart\n'));
    expect(p).toBe(`${FILE}:10:11: workers[1].init: expected "systemd" or "openrc", got "upstart"`);
  });

  it.each([
    ['64.5', '64.5'],
    ['"6443"', '"6443"'],
    ['0', '0'],
    ['70000', '70000'],
  ])('a non-integer or out-of-range port (%s)', (yamlValue, shown) => {
    const p = oneProblem(`apiserver:\n  port: ${yamlValue}\n${BASE}`);
    expect(p).toBe(`${FILE}:2:9: apiserver.port: expected an integer from 1 to 65535, got ${shown}`);
  });

  it('an empty upstream list (CoreDNS would not start with `forward .` alone)', () => {
    const p = oneProblem(`dns:\n  upstreams: []\n${BASE}`);
    expect(p).toBe(`${FILE}:2:14: dns.upstreams: expected at least one upstream (leave the key out for /etc/resolv.conf)`);
  });

  it('an upstream that is neither a path nor an address', () => {
    const p = oneProblem(`dns:\n  upstreams: [/etc/resolv.conf, dns.google]\n${BASE}`);
    expect(p).toBe(`${FILE}:2:33: dns.upstreams[1]: expected a resolv.conf path or an address, got "dns.google"`);
  });

  it('podCIDR too small for one subnet per worker', () => {
    const p = oneProblem(`podCIDR: 10.200.0.0/24\npodSubnetLength: 24\n${BASE}`);
    expect(p).toBe(`${FILE}:2:18: podSubnetLength: podCIDR 10.200.0.0/24 has room for fewer than 2 /24 worker subnets`);
  });

  it('a non-boolean staticToken', () => {
    const p = oneProblem(`apiserver:\n  staticToken: "yes"\n${BASE}`);
    expect(p).toBe(`${FILE}:2:16: apiserver.staticToken: expected true or false, got "yes"`);
  });

  it('invalid YAML names the position and says so', () => {
    const problems = problemsOf('name: t\nmasters: [\n  { host: master, address: 10.240.0.10 }\nworkers: x\n');
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/^models\/broken\.yaml:\d+:\d+: not valid YAML: \S/);
  });

  it('a repeated key is invalid YAML', () => {
    const p = oneProblem(`${BASE}name: u\n`);
    expect(p).toBe(`${FILE}:10:1: not valid YAML: Map keys must be unique`);
  });

  it('missing masters', () => {
    const p = oneProblem(BASE.replace('masters:\n  - host: master\n    address: 10.240.0.10\n', ''));
    expect(p).toBe(`${FILE}:1:1: masters: at least one master is required`);
  });

  it('an empty masters list', () => {
    const p = oneProblem(BASE.replace('masters:\n  - host: master\n    address: 10.240.0.10\n', 'masters: []\n'));
    expect(p).toBe(`${FILE}:2:10: masters: at least one master is required`);
  });

  it('a document that is not a mapping', () => {
    expect(problemsOf('- just\n- a list\n')).toEqual([`${FILE}:1:1: (top level): expected a mapping of keys to values`]);
    expect(problemsOf('')).toEqual([`${FILE}: expected a mapping at the top level`]);
  });

  it('reports every problem of a file, each on its own line', () => {
    const text =
      BASE.replace('name: t', 'name: Lab_1')
        .replace('10.240.0.22', '10.0.0.300')
        .replace('    address: 10.240.0.10', '    adress: 10.240.0.10') +
      'flannel:\n  backend: udp\n  port: x\ncolour: blue\nserviceCIDR: 10.200.0.0/24\n';
    const problems = problemsOf(text);
    const want = [
      [`${FILE}:13:1: colour:`, 'unknown key "colour"'],
      [`${FILE}:4:5: masters[0].adress:`, 'unknown key "adress"'],
      [`${FILE}:3:5: masters[0].address:`, 'is required'],
      [`${FILE}:1:7: name:`, 'expected a host name'],
      [`${FILE}:11:12: flannel.backend:`, 'expected "vxlan" or "host-gw", got "udp"'],
      [`${FILE}:12:9: flannel.port:`, 'expected an integer from 1 to 65535, got "x"'],
      [`${FILE}:9:14: workers[1].address:`, 'expected an IPv4 or IPv6 address, got "10.0.0.300"'],
      [`${FILE}:14:14: serviceCIDR:`, 'overlaps podCIDR 10.200.0.0/16'],
    ];
    for (const [prefix, what] of want) {
      expect(
        problems.filter((p) => p.startsWith(prefix!) && p.includes(what!)),
        `${prefix} ${what}`,
      ).toHaveLength(1);
    }
    expect(problems).toHaveLength(want.length);
  });
});

describe('loadCluster', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hardway-load-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the missing path and the --config option', () => {
    const missing = join(dir, 'nope', 'cluster.yaml');
    let err: unknown;
    try {
      loadCluster(missing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    const m = (err as ModelError).message;
    expect(m).toContain(missing);
    expect(m).toContain('ENOENT');
    expect(m).toContain('--config');
  });

  it('reports problems with the path it was given', async () => {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, BASE.replace('10.240.0.22', '10.0.0.300'));
    expect(() => loadCluster(file)).toThrow(`${file}:9:14: workers[1].address: expected an IPv4 or IPv6 address, got "10.0.0.300"`);
  });

  it('loads a valid file', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, BASE);
    expect(loadCluster(file).workers.map((w) => w.host)).toEqual(['node-1', 'node-2']);
  });
});

describe('docs/cluster-model.md', () => {
  const doc = readFileSync('docs/cluster-model.md', 'utf8');
  const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('documents every key the loader accepts', () => {
    const keys = [
      'name',
      'clusterDomain',
      'podCIDR',
      'podSubnetLength',
      'serviceCIDR',
      'cniBinDir',
      'masters',
      'workers',
      'apiserver.port',
      'apiserver.staticToken',
      'flannel.backend',
      'flannel.vni',
      'flannel.port',
      'flannel.etcdPrefix',
      'dns.upstreams',
      'dns.probeName',
      'kubelet.systemReserved.cpu',
      'kubelet.systemReserved.memory',
      'kubeProxy.conntrackMaxPerCore',
      'ingress.hosts',
      'ingress.plainHosts',
      'ingress.acmeServer',
      'ingress.acmeEmail',
      'host',
      'nodeName',
      'address',
      'internalAddress',
      'init',
    ];
    // Table cells may be padded (the docs are formatted).
    for (const k of keys) expect(doc, k).toMatch(new RegExp(`\\|\\s*\`${k.replace(/\./g, '\\.')}\`\\s*\\|`));
  });

  it('the annotated lab example is the lab fixture', () => {
    expect(yamlBlocks).toHaveLength(2);
    expect(parseCluster(yamlBlocks[0]!, 'docs lab example')).toEqual(loadCluster('fixtures/lab/cluster.yaml'));
  });

  it('the VPS example loads, with the nodeName override and the OpenRC worker', () => {
    const c = parseCluster(yamlBlocks[1]!, 'docs VPS example');
    expect(c.workers.map((w) => [w.host, w.nodeName, w.init])).toEqual([
      ['node-1', 'w40k.net', 'systemd'],
      ['node-2', 'node-2', 'openrc'],
    ]);
    expect(c.kubernetesServiceIP).toBe('10.32.0.1');
    expect(c.masters[0]!.internalAddress).toBe('192.168.153.60');
  });
});
