// The etcd suite from the facts: which endpoint stands for a member, the client configuration it
// is asked with (the apiserver's), where flanneld keeps its keys, and the checks through the
// engine on the seed lab's recorded units and answers and on a KTHW cluster (plain http, one
// member named "controller", no flannel).
import { describe, expect, it } from 'vitest';
import { componentOn } from '../../harness/discovery/facts.ts';
import { factsFromFiles } from '../../harness/discovery/from-files.ts';
import { recorded } from '../../harness/discovery/parse/testing.ts';
import {
  kthwCluster,
  kthwFacts,
  kthwFiles,
  liveTarget,
  seedCluster,
  seedFacts,
  seedFiles,
  withFiles,
  type HostFiles,
} from '../../harness/testing/facts-fixtures.ts';
import type { Cluster } from '../../harness/model/cluster.ts';
import type { ExecResult } from '../../harness/targets/target.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { makeContext, runCheck, runSuite } from '../../harness/verify/engine.ts';
import { etcdSuite, flannelInEtcd, memberEndpoint } from './etcd.ts';

const check = (id: string) => etcdSuite.checks.find((c) => c.id === id)!;
type Answer = (host: string, cmd: string) => Partial<ExecResult> | undefined;

async function run(cluster: Cluster, files: HostFiles, answer: Answer, id: string, host?: string) {
  const target = liveTarget(cluster, files, answer);
  const ctx = makeContext(target, DEFAULT_OPTIONS, { facts: await factsFromFiles(files) });
  return { result: await runCheck(ctx, check(id), host), calls: target.calls };
}

const health = (endpoint: string, ok: boolean) =>
  JSON.stringify([{ endpoint, health: ok, took: '5ms', ...(ok ? {} : { error: 'context deadline exceeded' }) }]);
const memberList = (name: string, peer: string, client: string) =>
  recorded('etcdctl/member-list.master.json')
    .replace('"name":"master"', `"name":"${name}"`)
    .replace('https://10.240.0.10:2380', peer)
    .replace('https://10.240.0.10:2379', client);

describe('the endpoint that stands for a member', () => {
  it("is the apiserver's --etcd-servers entry that reaches it: the seed's address, KTHW's loopback on the same host", async () => {
    const seed = await seedFacts();
    const etcd = componentOn(seed, 'master', 'etcd')!;
    expect(memberEndpoint(etcd, ['10.240.0.10'], { host: 'master', endpoints: ['https://10.240.0.10:2379'] })).toEqual({
      endpoint: 'https://10.240.0.10:2379',
      usedByClient: true,
    });
    const kthw = await kthwFacts();
    const controller = componentOn(kthw, 'server', 'etcd')!;
    expect(memberEndpoint(controller, ['10.241.0.10'], { host: 'server', endpoints: ['http://127.0.0.1:2379'] })).toEqual({
      endpoint: 'http://127.0.0.1:2379',
      usedByClient: true,
    });
  });

  it("loopback reaches a member only on the client's own host; an unused member is asked at an address it advertises", async () => {
    const kthw = await kthwFacts();
    const controller = componentOn(kthw, 'server', 'etcd')!;
    expect(memberEndpoint(controller, ['10.241.0.10'], { host: 'elsewhere', endpoints: ['http://127.0.0.1:2379'] })).toEqual({
      usedByClient: false,
      why: 'etcd on server advertises http://127.0.0.1:2379 only, which elsewhere cannot reach',
    });
    const seed = await seedFacts();
    const etcd = componentOn(seed, 'master', 'etcd')!;
    expect(memberEndpoint(etcd, ['10.240.0.10'], { host: 'master', endpoints: ['https://10.240.0.99:2379'] })).toEqual({
      endpoint: 'https://10.240.0.10:2379',
      usedByClient: false,
    });
  });
});

describe('where flanneld keeps its network', () => {
  it('in etcd under its -etcd-prefix on the seed; nowhere on KTHW; not in etcd with -kube-subnet-mgr', async () => {
    const seed = flannelInEtcd(await seedFacts());
    expect('prefix' in seed && [seed.prefix, seed.flanneld.map((c) => c.host)]).toEqual(['/coreos.com/network', ['node-1', 'node-2']]);
    expect(flannelInEtcd(await kthwFacts())).toEqual({
      notApplicable: 'flanneld does not run on any host: its network config and leases are not in etcd',
    });
    const subnetMgr = (f: HostFiles) =>
      withFiles(f, 'node-1', (x) => ({
        ...x,
        '/etc/systemd/system/flanneld.service': x['/etc/systemd/system/flanneld.service']!.replace('-ip-masq', '-ip-masq -kube-subnet-mgr'),
      }));
    const files = subnetMgr(
      withFiles(seedFiles(), 'node-2', (x) => Object.fromEntries(Object.entries(x).filter(([p]) => !p.includes('flanneld')))),
    );
    expect(flannelInEtcd(await factsFromFiles(files))).toEqual({
      notApplicable:
        'flanneld uses -kube-subnet-mgr (node-1:/etc/systemd/system/flanneld.service --kube-subnet-mgr): it reads /etc/kube-flannel/net-conf.json and leases node podCIDRs, nothing in etcd',
    });
  });
});

describe('etcd checks on the seed lab (recorded answers)', () => {
  const cluster = seedCluster();
  const files = seedFiles();

  it("health asks the member's endpoint with the apiserver's etcd client certificate, on the apiserver's host", async () => {
    const { result, calls } = await run(
      cluster,
      files,
      (_h, cmd) => (cmd.includes('endpoint health') ? { stdout: health('https://10.240.0.10:2379', true) } : undefined),
      'etcd.health',
      'master',
    );
    expect(result).toMatchObject({ status: 'passed', examined: 1 });
    expect(calls.map((c) => c.host)).toEqual(['master']);
    expect(calls[0]!.cmd).toContain(
      "--endpoints='https://10.240.0.10:2379' --cacert='/var/lib/kubernetes/ca.pem' --cert='/var/lib/kubernetes/kubernetes.pem' --key='/var/lib/kubernetes/kubernetes-key.pem'",
    );
  });

  it('etcd down: member-unhealthy, member-list-failed, etcd-unreadable', async () => {
    const down: Answer = (_h, cmd) =>
      cmd.includes('endpoint health')
        ? {
            code: 1,
            stdout: health('https://10.240.0.10:2379', false),
            stderr: recorded('etcdctl/endpoint-health-one-down.master.stderr.txt'),
          }
        : { code: 1, stderr: 'Error: context deadline exceeded\n' };
    const h = await run(cluster, files, down, 'etcd.health', 'master');
    expect(h.result.findings?.map((f) => f.code)).toEqual(['member-unhealthy']);
    expect(h.result.diagnosis).toBe(
      'master: etcd member master (https://10.240.0.10:2379): is not healthy (context deadline exceeded); fix: systemctl status etcd and journalctl -u etcd -e on master',
    );
    expect((await run(cluster, files, down, 'etcd.members')).result.findings?.map((f) => f.code)).toEqual(['member-list-failed']);
    expect((await run(cluster, files, down, 'etcd.flannel-config')).result.findings?.map((f) => f.code)).toEqual(['etcd-unreadable']);
    expect((await run(cluster, files, down, 'etcd.subnet-leases')).result.findings?.map((f) => f.code)).toEqual(['etcd-unreadable']);
  });

  it('no etcdctl on the host is inconclusive, a client that cannot even ask is etcdctl-failed', async () => {
    expect((await run(cluster, files, () => ({ code: 127 }), 'etcd.health', 'master')).result).toMatchObject({
      status: 'skipped',
      skip: 'inconclusive',
    });
    const tls = await run(
      cluster,
      files,
      () => ({ code: 1, stderr: 'Error: open /var/lib/kubernetes/kubernetes.pem: no such file or directory\n' }),
      'etcd.health',
      'master',
    );
    expect(tls.result.findings?.map((f) => f.code)).toEqual(['etcdctl-failed']);
  });

  it('the member list holds the member by its --name; one that is not there is member-missing', async () => {
    const ok = await run(cluster, files, () => ({ stdout: recorded('etcdctl/member-list.master.json') }), 'etcd.members');
    expect(ok.result).toMatchObject({ status: 'passed', notes: ['members: master'] });
    const other = await run(
      cluster,
      files,
      () => ({ stdout: memberList('old', 'https://10.240.0.10:2380', 'https://10.240.0.10:2379') }),
      'etcd.members',
    );
    expect(other.result.findings?.map((f) => f.code)).toEqual(['member-missing']);
    expect(other.result.diagnosis).toMatch(
      /^master: etcd member master: runs on master \(--name master, master:\/etc\/systemd\/system\/etcd\.service --name\) but is not in the member list \(members: old\)/,
    );
  });

  it("flannel's config and leases under flanneld's prefix (recorded get --prefix)", async () => {
    const answer: Answer = (_h, cmd) =>
      cmd.includes("get --prefix '/coreos.com/network/'") ? { stdout: recorded('etcdctl/get-prefix-flannel.master.json') } : undefined;
    const cfg = await run(cluster, files, answer, 'etcd.flannel-config');
    expect(cfg.result).toMatchObject({ status: 'passed', examined: 3 });
    expect(cfg.result.notes).toContain('Network 10.200.0.0/16, SubnetLen 24, backend vxlan');
    const leases = await run(cluster, files, answer, 'etcd.subnet-leases');
    expect(leases.result).toMatchObject({ status: 'passed', examined: 4 });
    // Fewer leases than flanneld: the one without is named.
    const one = (_h: string, cmd: string) =>
      cmd.includes('get --prefix')
        ? {
            stdout: recorded('etcdctl/get-prefix-flannel.master.json')
              .replace('"count":3', '"count":2')
              .replace(/,\{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjIwMC45NS4wLTI0"[^}]*\}/, ''),
          }
        : undefined;
    const missing = await run(cluster, files, one, 'etcd.subnet-leases');
    expect(missing.result.findings?.map((f) => f.code)).toEqual(['lease-missing']);
    expect(missing.result.diagnosis).toMatch(/has no flannel lease for node-2 \(10\.240\.0\.22\)/);
  });

  it("flannel's Network against kube-controller-manager's --cluster-cidr: a mismatch names both sources", async () => {
    const changed = withFiles(files, 'master', (x) => ({
      ...x,
      '/etc/systemd/system/kube-controller-manager.service': x['/etc/systemd/system/kube-controller-manager.service']!.replace(
        '--cluster-cidr=10.200.0.0/16',
        '--cluster-cidr=10.100.0.0/16',
      ),
    }));
    const r = await run(cluster, changed, () => ({ stdout: recorded('etcdctl/get-prefix-flannel.master.json') }), 'etcd.flannel-config');
    expect(r.result.findings?.map((f) => f.code)).toEqual(['flannel-config-mismatch']);
    expect(r.result.diagnosis).toMatch(
      /has Network 10\.200\.0\.0\/16, while kube-controller-manager --cluster-cidr \(master:\/etc\/systemd\/system\/kube-controller-manager\.service --cluster-cidr\) is 10\.100\.0\.0\/16/,
    );
  });
});

describe('etcd checks on a KTHW cluster (plain http on 127.0.0.1, member "controller", no flannel)', () => {
  const cluster = kthwCluster();
  const files = kthwFiles();

  it('health asks http://127.0.0.1:2379 on the server without TLS flags', async () => {
    const { result, calls } = await run(cluster, files, () => ({ stdout: health('http://127.0.0.1:2379', true) }), 'etcd.health', 'server');
    expect(result.status).toBe('passed');
    expect(calls[0]).toMatchObject({ host: 'server' });
    expect(calls[0]!.cmd).toMatch(/^ETCDCTL_API=3 etcdctl --endpoints='http:\/\/127\.0\.0\.1:2379' {2}--dial-timeout/);
  });

  it('the member named by --name controller is found; flannel checks are not applicable, with the reason', async () => {
    const members = await run(
      cluster,
      files,
      () => ({ stdout: memberList('controller', 'http://127.0.0.1:2380', 'http://127.0.0.1:2379') }),
      'etcd.members',
    );
    expect(members.result).toMatchObject({ status: 'passed', notes: ['members: controller'] });
    const ctx = makeContext(
      liveTarget(cluster, files, () => undefined),
      DEFAULT_OPTIONS,
      { facts: await factsFromFiles(files) },
    );
    const results = await runSuite(ctx, { ...etcdSuite, checks: [check('etcd.flannel-config'), check('etcd.subnet-leases')] });
    expect(results.map((r) => `${r.id} ${r.skip}: ${r.diagnosis}`)).toEqual([
      'etcd.flannel-config not-applicable: flanneld does not run on any host: its network config and leases are not in etcd',
      'etcd.subnet-leases not-applicable: flanneld does not run on any host: its network config and leases are not in etcd',
    ]);
  });
});
