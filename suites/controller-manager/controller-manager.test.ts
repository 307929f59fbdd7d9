// The controller-manager suite from the facts: the service range kube-apiserver really allocates
// from (its default when KTHW gives it none), the components that must agree with it, the
// kubernetes service's endpoints against the addresses the apiservers advertise on their own hosts,
// and the leader leases as kube-controller-manager and kube-scheduler are configured.
import { describe, expect, it } from 'vitest';
import { componentOn, componentsOf } from '../../harness/discovery/facts.ts';
import { factsFromFiles } from '../../harness/discovery/from-files.ts';
import { initSystem } from '../../harness/system/init-system.ts';
import {
  kthwCluster,
  kthwFacts,
  kthwFiles,
  liveTarget,
  seedCluster,
  seedFacts,
  seedFiles,
  withFiles,
} from '../../harness/testing/facts-fixtures.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { makeContext, runCheck } from '../../harness/verify/engine.ts';
import { schedulerLease } from '../scheduler/scheduler.ts';
import { controllerManagerSuite, endpointFindings, kcmLease, rangeFindings, serviceRange } from './controller-manager.ts';

const systemd = () => initSystem('systemd');
const KCM = '/etc/systemd/system/kube-controller-manager.service';

describe('the service range', () => {
  it("is kube-apiserver's --service-cluster-ip-range, or its default 10.0.0.0/24 (verbatim KTHW), saying so", async () => {
    expect(serviceRange(componentsOf(await seedFacts(), 'kube-apiserver')[0]!)).toEqual({
      cidr: '10.32.0.0/24',
      source: 'master:/etc/systemd/system/kube-apiserver.service --service-cluster-ip-range',
      defaulted: false,
    });
    expect(serviceRange(componentsOf(await kthwFacts(), 'kube-apiserver')[0]!)).toEqual({
      cidr: '10.0.0.0/24',
      source: "kube-apiserver's default 10.0.0.0/24: no --service-cluster-ip-range in /etc/systemd/system/kube-apiserver.service on server",
      defaulted: true,
    });
    expect(serviceRange(componentsOf(await kthwFacts({ deviations: true }), 'kube-apiserver')[0]!).cidr).toBe('10.32.0.0/24');
  });

  it("verbatim KTHW: kube-controller-manager's 10.32.0.0/24 against the apiserver's default, with the flag to add", async () => {
    expect(rangeFindings(await seedFacts(), systemd)).toEqual([]);
    expect(rangeFindings(await kthwFacts({ deviations: true }), systemd)).toEqual([]);
    expect(rangeFindings(await kthwFacts(), systemd)).toEqual([
      {
        code: 'service-range-mismatch',
        host: 'server',
        subject: 'kube-controller-manager --service-cluster-ip-range',
        message:
          "kube-apiserver on server allocates service addresses from 10.0.0.0/24 (kube-apiserver's default 10.0.0.0/24: no --service-cluster-ip-range in " +
          '/etc/systemd/system/kube-apiserver.service on server), but kube-controller-manager on server has 10.32.0.0/24 (server:/etc/systemd/system/kube-controller-manager.service --service-cluster-ip-range)',
        fix:
          "add --service-cluster-ip-range=10.32.0.0/24 to kube-apiserver's ExecStart in /etc/systemd/system/kube-apiserver.service on server, then systemctl daemon-reload && " +
          "systemctl restart kube-apiserver; then kubectl delete service kubernetes -n default (the apiserver re-creates it at the range's first address)",
      },
    ]);
  });
});

describe("the kubernetes service's endpoints", () => {
  it("seed: --advertise-address backs it; an advertised address that is not the host's own fails (the fault)", async () => {
    const api = componentOn(await seedFacts(), 'master', 'kube-apiserver')!;
    const mine = [{ c: api, own: ['127.0.0.1', '10.240.0.10'], preferred: '10.240.0.10', init: systemd() }];
    expect(endpointFindings(mine, ['10.240.0.10'])).toEqual([]);
    const files = withFiles(seedFiles(), 'master', (x) => ({
      ...x,
      '/etc/systemd/system/kube-apiserver.service': x['/etc/systemd/system/kube-apiserver.service']!.replace(
        '--advertise-address=10.240.0.10',
        '--advertise-address=10.240.0.99',
      ),
    }));
    const wrong = componentOn(await factsFromFiles(files), 'master', 'kube-apiserver')!;
    const f = endpointFindings([{ ...mine[0]!, c: wrong }], ['10.240.0.99']);
    expect(f.map((x) => x.code)).toEqual(['kubernetes-endpoints']);
    expect(f[0]!.message).toBe(
      "kube-apiserver on master advertises 10.240.0.99 (master:/etc/systemd/system/kube-apiserver.service --advertise-address), which is not an address of master (127.0.0.1, 10.240.0.10): the service's endpoints send clients nowhere",
    );
    expect(f[0]!.fix).toBe(
      "set --advertise-address=10.240.0.10 in kube-apiserver's ExecStart in /etc/systemd/system/kube-apiserver.service on master, then systemctl daemon-reload && systemctl restart kube-apiserver",
    );
  });

  it('KTHW (no --advertise-address): any address of the server backs it; none, or a stranger, fails', async () => {
    const api = componentOn(await kthwFacts(), 'server', 'kube-apiserver')!;
    const server = [{ c: api, own: ['127.0.0.1', '10.241.0.10'], preferred: '10.241.0.10', init: systemd() }];
    expect(endpointFindings(server, ['10.241.0.10'])).toEqual([]);
    expect(endpointFindings(server, [])[0]!.message).toBe(
      "endpoints (none) lack an address of server (no --advertise-address: kube-apiserver takes its default route's)",
    );
    expect(endpointFindings(server, ['10.241.0.10', '10.241.0.50']).map((x) => x.message)).toEqual([
      'endpoints 10.241.0.50 belong to no kube-apiserver of the target: clients of the service reach something else',
    ]);
  });
});

describe('leader leases as the components are configured', () => {
  it('kube-controller-manager: its flags and defaults; off with --leader-elect=false', async () => {
    expect(kcmLease(componentOn(await seedFacts(), 'master', 'kube-controller-manager')!)).toEqual({
      elect: true,
      namespace: 'kube-system',
      name: 'kube-controller-manager',
      source: "master: kube-controller-manager's default lease",
    });
    const custom = withFiles(seedFiles(), 'master', (x) => ({
      ...x,
      [KCM]: x[KCM]!.replace('--leader-elect=true', '--leader-elect=true \\\n  --leader-elect-resource-name=kcm-a'),
    }));
    expect(kcmLease(componentOn(await factsFromFiles(custom), 'master', 'kube-controller-manager')!)).toMatchObject({
      name: 'kcm-a',
      source: 'master:/etc/systemd/system/kube-controller-manager.service --leader-elect-resource-name',
    });
    const off = withFiles(seedFiles(), 'master', (x) => ({ ...x, [KCM]: x[KCM]!.replace('--leader-elect=true', '--leader-elect=false') }));
    const facts = await factsFromFiles(off);
    expect(kcmLease(componentOn(facts, 'master', 'kube-controller-manager')!).elect).toBe(false);
    const leader = controllerManagerSuite.checks.find((c) => c.id === 'controller-manager.leader')!;
    const r = await runCheck(
      makeContext(
        liveTarget(seedCluster(), off, () => undefined),
        DEFAULT_OPTIONS,
        { facts },
      ),
      leader,
    );
    expect(r).toMatchObject({
      status: 'skipped',
      skip: 'not-applicable',
      diagnosis:
        'kube-controller-manager runs without leader election (master:/etc/systemd/system/kube-controller-manager.service --leader-elect): it holds no lease',
    });
  });

  it('kube-scheduler: its KubeSchedulerConfiguration (seed and KTHW), off when it says leaderElect: false', async () => {
    expect(schedulerLease(componentOn(await seedFacts(), 'master', 'kube-scheduler')!)).toEqual({
      elect: true,
      namespace: 'kube-system',
      name: 'kube-scheduler',
      source: 'master:/var/lib/kubernetes/kube-scheduler/kube-scheduler.yaml leaderElection',
    });
    expect(schedulerLease(componentOn(await kthwFacts(), 'server', 'kube-scheduler')!)).toMatchObject({
      elect: true,
      source: 'server:/etc/kubernetes/config/kube-scheduler.yaml leaderElection',
    });
    const off = withFiles(kthwFiles(), 'server', (x) => ({
      ...x,
      '/etc/kubernetes/config/kube-scheduler.yaml': x['/etc/kubernetes/config/kube-scheduler.yaml']!.replace(
        'leaderElect: true',
        'leaderElect: false\n  resourceName: sched',
      ),
    }));
    expect(schedulerLease(componentOn(await factsFromFiles(off), 'server', 'kube-scheduler')!)).toMatchObject({
      elect: false,
      name: 'sched',
    });
  });

  it('no kube-controller-manager on any host: the lease check does not apply', async () => {
    const files = withFiles(kthwFiles(), 'server', (x) => Object.fromEntries(Object.entries(x).filter(([p]) => p !== KCM)));
    const leader = controllerManagerSuite.checks.find((c) => c.id === 'controller-manager.leader')!;
    const r = await runCheck(
      makeContext(
        liveTarget(kthwCluster(), files, () => undefined),
        DEFAULT_OPTIONS,
        { facts: await factsFromFiles(files) },
      ),
      leader,
    );
    expect(r).toMatchObject({ status: 'skipped', skip: 'not-applicable', diagnosis: 'no host runs kube-controller-manager' });
  });
});
