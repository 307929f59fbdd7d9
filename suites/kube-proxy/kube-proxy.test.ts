// The kube-proxy suite from the facts: its mode and where it is set, what iptables mode programs
// (recorded iptables-save of the seed lab), and the nat-rules check not applying outside iptables mode.
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { componentOn } from '../../harness/discovery/facts.ts';
import { factsFromFiles } from '../../harness/discovery/from-files.ts';
import { recorded } from '../../harness/discovery/parse/testing.ts';
import { kthwCluster, kthwFacts, kthwFiles, liveTarget, seedFacts, seedFiles, withFiles } from '../../harness/testing/facts-fixtures.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { makeContext, runCheck } from '../../harness/verify/engine.ts';
import { countAnswers, endpointsProgrammed, kubeProxySuite, proxyMode, servicesProgrammed } from './kube-proxy.ts';

const CONFIG = '/var/lib/kube-proxy/kube-proxy-config.yaml';

describe("kube-proxy's mode", () => {
  it('from its config file (seed, KTHW), from --proxy-mode, or the default iptables', async () => {
    expect(proxyMode(componentOn(await seedFacts(), 'node-1', 'kube-proxy')!)).toEqual({
      mode: 'iptables',
      source: 'node-1:/var/lib/kubernetes/kube-proxy/kube-proxy-config.yaml mode',
    });
    expect(proxyMode(componentOn(await kthwFacts(), 'node-0', 'kube-proxy')!)).toEqual({
      mode: 'iptables',
      source: 'node-0:/var/lib/kube-proxy/kube-proxy-config.yaml mode',
    });
    const noConfig = withFiles(kthwFiles(), 'node-0', (x) => ({
      ...x,
      '/etc/systemd/system/kube-proxy.service': x['/etc/systemd/system/kube-proxy.service']!.replace(
        `--config=${CONFIG}`,
        '--proxy-mode=ipvs',
      ),
    }));
    expect(proxyMode(componentOn(await factsFromFiles(noConfig), 'node-0', 'kube-proxy')!)).toEqual({
      mode: 'ipvs',
      source: 'node-0:/etc/systemd/system/kube-proxy.service --proxy-mode',
    });
    const bare = withFiles(kthwFiles(), 'node-0', (x) => ({
      ...x,
      '/etc/systemd/system/kube-proxy.service': x['/etc/systemd/system/kube-proxy.service']!.replace(`--config=${CONFIG}`, '--v=2'),
    }));
    expect(proxyMode(componentOn(await factsFromFiles(bare), 'node-0', 'kube-proxy')!)).toEqual({
      mode: 'iptables',
      source: "node-0: kube-proxy's default mode iptables",
    });
  });
});

describe('what iptables mode programs (recorded on node-1)', () => {
  it('KUBE-SERVICES sends each ClusterIP to its KUBE-SVC chain; a missing chain is told apart', () => {
    expect(servicesProgrammed(recorded('iptables/S.nat.KUBE-SERVICES.node-1.txt'), ['10.32.0.1', '10.32.0.49'])).toEqual({
      missing: [],
      noChain: false,
    });
    expect(servicesProgrammed(recorded('iptables/S.nat.KUBE-SERVICES.node-1.txt'), ['10.32.0.1', '10.32.0.99'])).toEqual({
      missing: ['10.32.0.99'],
      noChain: false,
    });
    expect(servicesProgrammed(recorded('iptables/S.nat.no-chain.node-1.txt'), ['10.32.0.1'])).toEqual({
      missing: ['10.32.0.1'],
      noChain: true,
    });
  });

  it('a DNAT rule per ready endpoint', () => {
    const nat = recorded('iptables/S.nat.node-1.txt');
    expect(endpointsProgrammed(nat, ['10.200.85.4'], 80)).toBe(true);
    expect(endpointsProgrammed(nat, ['10.200.85.4', '10.200.95.9'], 80)).toBe(false);
  });
});

describe('kube-proxy.nat-rules outside iptables mode', () => {
  it('is not applicable on a node whose kube-proxy runs ipvs, naming the mode and where it is set', async () => {
    const files = withFiles(kthwFiles(), 'node-0', (x) => ({ ...x, [CONFIG]: x[CONFIG]!.replace('mode: iptables', 'mode: ipvs') }));
    const ctx = makeContext(
      liveTarget(kthwCluster(), files, () => undefined),
      DEFAULT_OPTIONS,
      { facts: await factsFromFiles(files) },
    );
    const r = await runCheck(ctx, kubeProxySuite.checks.find((c) => c.id === 'kube-proxy.nat-rules')!, 'node-0');
    expect(r).toMatchObject({ status: 'skipped', skip: 'not-applicable' });
    expect(r.diagnosis).toBe(
      'kube-proxy on node-0 runs in ipvs mode (node-0:/var/lib/kube-proxy/kube-proxy-config.yaml mode): services are not KUBE-SVC chains of the nat table ' +
        '(ipvsadm -Ln); kube-proxy.clusterip-spread judges them by what they do',
    );
  });

  it('seed files keep iptables mode on both workers', async () => {
    const f = await factsFromFiles(seedFiles());
    expect(['node-1', 'node-2'].map((h) => proxyMode(componentOn(f, h, 'kube-proxy')!).mode)).toEqual(['iptables', 'iptables']);
  });
});

const hasCurl = !spawnSync('curl', ['--version']).error;

describe('kube-proxy.clusterip-spread requests', () => {
  // curl is what the check runs on the nodes (bin/prepare-machine installs it here).
  it.skipIf(!hasCurl)('one curl sends every request on a connection of its own and counts the answers that are ok', async () => {
    // kube-proxy chooses a backend per connection: requests sharing one would all reach one pod.
    let connections = 0;
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end(requests === 3 ? 'not ok' : 'ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const cmd = countAnswers(`http://127.0.0.1:${port}/status/`, 12);
      const { stdout } = await promisify(execFile)('sh', ['-c', cmd]);
      expect(stdout.trim()).toBe('11');
      expect(requests).toBe(12);
      expect(connections).toBe(12);
    } finally {
      server.close();
    }
  });
});
