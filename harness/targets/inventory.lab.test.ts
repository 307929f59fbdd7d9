// The lab addressed only through an inventory file over SSH, as if it were a production cluster:
// read-only by default (checks that need workloads are skipped with the reason), every suite
// with --active and nothing left behind, one-line errors for bad input, and no secret in any
// output or report.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ReportDocument } from '../report/document.ts';
import { PKI_DIR } from '../render/render.ts';
import { ADMIN_KUBECONFIG } from '../pki/plan.ts';
import { SUITES } from '../verify/registry.ts';
import { REPORTS_DIR } from '../verify/verify.ts';
import { OWNER_LABEL, RUN_LABEL, runIdOf } from '../verify/workspace.ts';
import { REPO, hardway, inventoryDoc, must, openLab, writeInventory } from '../testing/lab-inventory.ts';

const lab = openLab(inject('labConfig'));
const tmp = mkdtempSync(join(tmpdir(), 'hardway-prodlike-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const master = lab.cluster.masters[0]!;
const net = master.address.replace(/\.\d+$/, '');

/** Namespaces a run made that still exist (by the run label every test namespace carries). */
async function namespacesOfRun(runDir: string): Promise<string> {
  return (await must(lab, 'master', `kubectl get ns -l ${OWNER_LABEL}=hardway,${RUN_LABEL}=${runIdOf(runDir)} -o name`)).trim();
}

// ---------------------------------------------------------------------------------------------
// The secrets that must never show: the apiserver's static token, the SSH key, the admin
// kubeconfig's client key (as embedded base64 and as PEM lines).

const token = readFileSync(join(lab.dir, 'rendered', PKI_DIR, 'token'), 'utf8').trim();
const sshKey = readFileSync(join(lab.dir, 'id_ed25519'), 'utf8');
const adminKubeconfig = join(lab.dir, 'rendered', 'master', ADMIN_KUBECONFIG);
const clientKeyData = (parseYaml(readFileSync(adminKubeconfig, 'utf8')) as { users: { user: Record<string, string> }[] }).users[0]!.user[
  'client-key-data'
]!;
const pemBody = (pem: string) =>
  pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .filter((l) => l.length >= 16);
const SECRETS: [string, string][] = [
  ['the apiserver token', token],
  ['the SSH private key', pemBody(sshKey).join('')],
  ...pemBody(sshKey).map((l, i) => [`line ${i + 1} of the SSH private key`, l] as [string, string]),
  ['the kubeconfig client-key-data', clientKeyData],
  ...pemBody(Buffer.from(clientKeyData, 'base64').toString()).map(
    (l, i) => [`line ${i + 1} of the admin client key`, l] as [string, string],
  ),
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every place a secret could leak: the outputs and every file of the run's report folder. */
function leaks(outputs: Record<string, string>, runDir: string): string[] {
  const places: [string, string][] = [
    ...Object.entries(outputs),
    ...filesUnder(runDir).map((f) => [f, readFileSync(f).toString('latin1')] as [string, string]),
    [join(REPORTS_DIR, 'index.html'), readFileSync(join(REPORTS_DIR, 'index.html'), 'utf8')],
  ];
  return places.flatMap(([where, text]) => SECRETS.filter(([, s]) => text.includes(s)).map(([what]) => `${what} in ${where}`));
}

/** Skips that are no failure of the run: a lab model without an ingress section has no edge. */
const noEdge = (diagnosis?: string) => !lab.cluster.ingress && /the cluster model has no ingress section/.test(diagnosis ?? '');

/** What does not apply to the seed lab reached as any cluster, each for its own reason: flannel
 * programs the routes (pod-network.routes is KTHW's static routes), and an inventory's cluster has
 * no rendering of hardway's to compare the units with. */
const seedNotApplicable = (c: { id: string; skip?: string; diagnosis?: string }) =>
  c.skip === 'not-applicable' &&
  ((c.id === 'pod-network.routes' && /^flannel programs the routes/.test(c.diagnosis ?? '')) ||
    (c.id === 'drift.units' && /^hardway did not render this cluster/.test(c.diagnosis ?? '')));

function runDirOf(doc: ReportDocument): string {
  return join(REPORTS_DIR, doc.run!);
}

describe('the lab through an inventory file, as if it were prod', () => {
  const inventory = writeInventory(join(tmp, 'lab.yaml'), inventoryDoc(lab));

  it('read-only by default: every suite passes, checks that need workloads are skipped with the reason, nothing is written', async () => {
    expect(readFileSync(inventory, 'utf8')).not.toMatch(/BEGIN|token:/);
    const r = await hardway(['verify', '--target', inventory, '--reporter', 'json'], { cwd: tmp });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as ReportDocument;
    expect(doc.target).toBe(inventory);
    expect(doc.suites.map((s) => s.name)).toEqual(SUITES.map((s) => s.name));
    const checks = doc.suites.flatMap((s) => s.checks.map((c) => ({ ...c, suite: s.name })));
    expect(checks.filter((c) => c.status === 'failed')).toEqual([]);
    expect(checks.filter(seedNotApplicable).length).toBe(2 * (lab.cluster.masters.length + lab.cluster.workers.length));
    const skipped = checks.filter((c) => c.status === 'skipped' && !noEdge(c.diagnosis) && !seedNotApplicable(c));
    expect(skipped.length).toBeGreaterThanOrEqual(6);
    for (const c of skipped) expect(`${c.id}@${c.host}: ${c.diagnosis}`).toMatch(/--active/);
    expect(checks.filter((c) => c.status === 'passed').length).toBeGreaterThan(50);
    // The security suite ran against the lab like against prod: its deliberate token is accepted.
    const st = checks.find((c) => c.id === 'security.static-token')!;
    expect(st.status).toBe('passed');
    expect(st.warnings?.[0]).toMatch(
      /^master:\/var\/lib\/kubernetes\/token\.csv: accepted by the inventory \(accept: security\.static-token\)/,
    );
    // Nothing written: the read-only run made no namespace (and it would carry its run label).
    expect(await namespacesOfRun(runDirOf(doc))).toBe('');
    expect(leaks({ stdout: r.out, stderr: r.err }, runDirOf(doc))).toEqual([]);
  });

  it('--active: every check passes (what does not apply to the seed lab named), the run removes what it made, and no secret shows', async () => {
    // Known secrets handed to the run: the static token and the admin kubeconfig as local files.
    const kc = join(tmp, 'admin.kubeconfig');
    copyFileSync(adminKubeconfig, kc);
    const tok = join(tmp, 'token');
    writeFileSync(tok, `${token}\n`, { mode: 0o600 });
    const inv = writeInventory(join(tmp, 'lab-secrets.yaml'), { ...inventoryDoc(lab), kubeconfig: kc, apiserverTokenFile: tok });
    const r = await hardway(['verify', '--target', inv, '--active'], { cwd: tmp });
    expect(
      r.code,
      r.out
        .split('\n')
        .filter((l) => /^✗|^ {4}/.test(l))
        .join('\n'),
    ).toBe(0);
    const runDir = /reports: (\S+)\/report\.html/.exec(r.out)![1]!;
    const doc = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as ReportDocument;
    const checks = doc.suites.flatMap((s) => s.checks);
    expect(doc.suites.map((s) => s.name)).toEqual(SUITES.map((s) => s.name));
    expect(
      checks
        .filter((c) => c.status !== 'passed' && !noEdge(c.diagnosis) && !seedNotApplicable(c))
        .map((c) => `${c.id}@${c.host}: ${c.status}: ${c.diagnosis}`),
    ).toEqual([]);
    // The recorded token was used (the apiserver suite says where its token came from).
    expect(checks.find((c) => c.id === 'apiserver.bearer-token')!.notes?.[0]).toBe(
      'authenticated with the static token recorded at install',
    );
    // Workloads ran (in the run's namespace), and verify waited until the namespace was gone.
    expect(checks.find((c) => c.id === 'scheduler.job')!.status).toBe('passed');
    expect(r.err).toContain("removing this run's test namespace");
    expect(await namespacesOfRun(runDir)).toBe('');
    expect(leaks({ stdout: r.out, stderr: r.err }, runDir)).toEqual([]);
    expect(readFileSync(join(REPORTS_DIR, 'index.html'), 'utf8')).toContain(`href="${encodeURIComponent(doc.run!)}/report.html"`);
  });
});

describe('bad input: one line naming the host and the fix, exit code 2', () => {
  const base = () => inventoryDoc(lab);
  const knownHosts = readFileSync(join(lab.dir, 'known_hosts'), 'utf8').split('\n').filter(Boolean);
  const line = (addr: string) => knownHosts.find((l) => l.startsWith(`${addr} `))!;

  async function bad(name: string, doc: unknown | string): Promise<string> {
    const file = join(tmp, `${name}.yaml`);
    if (typeof doc === 'string') writeFileSync(file, doc);
    else writeInventory(file, doc);
    const r = await hardway(['verify', '--target', file, '--suite', 'hosts'], { cwd: tmp });
    expect(r.out).toBe('');
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines, r.err).toHaveLength(1);
    return lines[0]!;
  }

  it('an unknown host key: the fingerprint and how to check and record it', async () => {
    const kh = join(tmp, 'kh-without-master');
    writeFileSync(kh, `${knownHosts.filter((l) => !l.startsWith(`${master.address} `)).join('\n')}\n`);
    expect(await bad('unknown-key', { ...base(), knownHosts: kh })).toMatch(
      new RegExp(
        `^hardway verify: master \\(root@${master.address}:22\\): unknown host key SHA256:\\S+; fix: check the fingerprint on the host .* add it to ${kh} \\(ssh-keyscan -p 22 ${master.address} >> ${kh}\\)$`,
      ),
    );
  });

  it('a changed host key: both fingerprints, the fix, and the warning', async () => {
    const kh = join(tmp, 'kh-changed');
    const n1 = lab.cluster.workers[0]!.address;
    writeFileSync(
      kh,
      `${knownHosts.filter((l) => !l.startsWith(`${master.address} `)).join('\n')}\n${line(n1).replace(`${n1} `, `${master.address} `)}\n`,
    );
    expect(await bad('changed-key', { ...base(), knownHosts: kh })).toMatch(
      new RegExp(
        `^hardway verify: master \\(root@${master.address}:22\\): HOST KEY CHANGED: presented SHA256:\\S+, ${kh} has ssh-ed25519 SHA256:\\S+ \\(line \\d+\\); fix: .*ssh-keygen -f ${kh} -R '${master.address}'.*someone may be intercepting the connection$`,
      ),
    );
  });

  it('an unreachable host (an ~/.ssh/config alias for an address nobody has)', async () => {
    const cfg = join(tmp, 'ssh_config');
    writeFileSync(cfg, `Host ghost-node\n  HostName ${net}.99\n`);
    const doc = base();
    const w = lab.cluster.workers[1]!.host;
    doc.sshConfig = cfg;
    doc.ssh.connectTimeout = 4;
    doc.hosts.find((h) => h.name === w)!.address = 'ghost-node';
    expect(await bad('unreachable', doc)).toMatch(
      new RegExp(
        `^hardway verify: ${w} \\(root@${net.replace(/\./g, '\\.')}\\.99:22\\): cannot connect \\((EHOSTUNREACH|ETIMEDOUT|handshake timed out)\\); fix: check the address and port in the inventory, that the host is up and sshd listens there$`,
      ),
    );
  });

  it('a wrong user', async () => {
    const doc = base();
    const w = lab.cluster.workers[0]!;
    doc.hosts.find((h) => h.name === w.host)!.user = 'nobody-here';
    expect(await bad('wrong-user', doc)).toBe(
      `hardway verify: ${w.host} (nobody-here@${w.address}:22): authentication refused for user "nobody-here" with the key ${join(lab.dir, 'id_ed25519')}; fix: check the user name and that the public key is in ~nobody-here/.ssh/authorized_keys on ${w.address}`,
    );
  });

  it('a missing key file', async () => {
    const doc = base();
    const w = lab.cluster.workers[1]!;
    doc.hosts.find((h) => h.name === w.host)!.key = 'keys/missing_ed25519';
    const key = join(tmp, 'keys/missing_ed25519');
    expect(await bad('missing-key', doc)).toBe(
      `hardway verify: ${w.host} (root@${w.address}:22): private key file ${key} not found; fix: correct the key path in the inventory or create the key (ssh-keygen -t ed25519 -f ${key})`,
    );
  });

  it('a malformed inventory', async () => {
    const file = join(tmp, 'malformed.yaml');
    expect(await bad('malformed', `cluster: ${lab.config}\nhosts:\n  - name: master\n    role: [master\n`)).toMatch(
      new RegExp(
        `^hardway verify: ${file}:\\d+:\\d+: not a valid YAML inventory: .*; fix: correct the syntax \\(see docs/inventory\\.md\\)$`,
      ),
    );
  });

  function ansibleIni(node2Vars: string): string {
    const [w1, w2] = lab.cluster.workers;
    return `# groups, children, group vars and host vars, as an Ansible inventory has them
[masters]
${master.host} ansible_host=${master.address}

[workers]
${w1!.host} ansible_host=${w1!.address}
${w2!.host} ansible_host=${w2!.address} ${node2Vars}

[k8s:children]
masters
workers

[k8s:vars]
ansible_user=root
ansible_ssh_private_key_file=${join(lab.dir, 'id_ed25519')}

[all:vars]
hardway_cluster=${lab.config}
hardway_known_hosts=${join(lab.dir, 'known_hosts')}
hardway_ssh_config=none
hardway_accept=security.static-token
`;
  }

  it('an Ansible inventory with groups and host vars is imported and verified over SSH', async () => {
    writeFileSync(join(tmp, 'hosts.ini'), ansibleIni('ansible_port=22'));
    const r = await hardway(['verify', '--target', 'ansible:hosts.ini', '--suite', 'hosts', '--reporter', 'json'], { cwd: tmp });
    expect(r.code, r.err).toBe(0);
    const checks = (JSON.parse(r.out) as ReportDocument).suites.flatMap((s) => s.checks);
    expect(checks.length).toBeGreaterThan(10);
    expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
  });

  it('an Ansible inventory with a wrong host var: the host and the fix', async () => {
    const w2 = lab.cluster.workers[1]!;
    writeFileSync(join(tmp, 'bad-port.ini'), ansibleIni('ansible_port=2'));
    const r = await hardway(['verify', '--target', 'ansible:bad-port.ini', '--suite', 'hosts'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(
      `hardway verify: ${w2.host} (root@${w2.address}:2): cannot connect (ECONNREFUSED); fix: check the address and port in the inventory, that the host is up and sshd listens there`,
    );
  });
});

describe('bin/nightly-verify', () => {
  function nightly(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
    return new Promise((res) => {
      const p = spawn(join(REPO, 'bin/nightly-verify'), [], { cwd: tmp, env: { ...process.env, NO_COLOR: '1', ...env } });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => res({ code: code ?? -1, out, err }));
    });
  }

  it('takes the secrets from the environment, fails the job on a failed check, reports the change, removes the secret files', async () => {
    const secretsDir = join(tmp, 'nightly-tmp');
    mkdirSync(secretsDir);
    const secretDirs = () => readdirSync(secretsDir).filter((n) => n.startsWith('hardway-secrets'));
    const { accept: _a, ...doc } = inventoryDoc(lab);
    void _a;
    // The inventory names the secret files only through the variables the script exports.
    const ci = {
      ...doc,
      knownHosts: '${HARDWAY_KNOWN_HOSTS_FILE}',
      kubeconfig: '${HARDWAY_KUBECONFIG_FILE}',
      ssh: { ...doc.ssh, key: '${HARDWAY_SSH_KEY_FILE}' },
    };
    const inv = writeInventory(join(tmp, 'nightly.yaml'), ci);
    const env = {
      HARDWAY_TARGET: inv,
      HARDWAY_VERIFY_ARGS: '--suite security',
      HARDWAY_SSH_KEY: sshKey,
      HARDWAY_KNOWN_HOSTS: readFileSync(join(lab.dir, 'known_hosts'), 'utf8'),
      HARDWAY_KUBECONFIG: readFileSync(adminKubeconfig, 'utf8'),
      TMPDIR: secretsDir,
    };
    // Without accept: the lab's static token is a finding, as on prod: the job fails.
    const failing = await nightly(env);
    expect(failing.code, failing.err).toBe(1);
    expect(failing.out).toMatch(/✗ security\.static-token @master/);
    // Strict by default: a night where a check could not tell is not green either.
    expect(failing.out).toContain(`nightly-verify: hardway verify --target ${inv} --strict --suite security`);
    expect(secretDirs()).toEqual([]);
    const runA = /reports: (\S+)\/report\.html/.exec(failing.out)![1]!;
    expect(leaks({ stdout: failing.out, stderr: failing.err }, runA)).toEqual([]);
    // The owner accepts it: the next run passes and says what changed.
    writeInventory(inv, { ...ci, accept: ['security.static-token'] });
    const passing = await nightly(env);
    expect(passing.code, passing.err).toBe(0);
    expect(passing.out).toContain('nightly-verify: since the previous run:');
    expect(passing.out).toMatch(/\(FAILED\) -> \S+ \(OK\)\nfixed \(1\):\n {2}security\.static-token@master\n/);
    expect(secretDirs()).toEqual([]);
    const runB = /reports: (\S+)\/report\.html/.exec(passing.out)![1]!;
    expect(leaks({ stdout: passing.out, stderr: passing.err }, runB)).toEqual([]);
  });
});
