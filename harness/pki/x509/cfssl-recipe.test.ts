// The seed's cfssl recipe (suites/certs/cfssl-recipe.ts, run with the real cfssl), judged as
// each component uses its certificate, by hardway and by the Go oracle. Go accepts every one;
// hardway must give no finding and, for this clean PKI, no warning either.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCluster } from '../../model/load.ts';
import { type CfsslPki, buildCfsslPki, cfsslMissing, kubernetesHostnames } from '../../../suites/certs/cfssl-recipe.ts';
import { judgeCredential } from './judge.ts';
import { type OracleResult, buildOracle, runOracle } from './oracle.ts';
import { judgeServiceAccountKeys } from './service-account.ts';
import type { CredentialInput, Judgement } from './types.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
let problem: string | undefined;
let dir: string;
let pki: CfsslPki;
const judged = new Map<string, { hw: Judgement; go: OracleResult }>();
let sa: ReturnType<typeof judgeServiceAccountKeys>;
let saGo: OracleResult;

function uses(): CredentialInput[] {
  const ca = { path: '/var/lib/kubernetes/ca.pem', pem: pki.ca.cert, source: 'kube-apiserver --client-ca-file' };
  const pair = (id: string) => {
    const p = pki.certs.get(id)!;
    return { cert: { path: `${id}.pem`, pem: p.cert }, key: { path: `${id}-key.pem`, pem: p.key } };
  };
  const client = (id: string, component: string, cn: string, o: string, oAdvisory = false): CredentialInput => ({
    host: 'master',
    component,
    purpose: 'client',
    source: `${component} kubeconfig`,
    ...pair(id),
    trust: [ca],
    expectedIdentity: { cn, o: [o], oAdvisory },
  });
  return [
    {
      host: 'master',
      component: 'kube-apiserver',
      purpose: 'serving',
      source: 'kube-apiserver --tls-cert-file',
      ...pair('kubernetes'),
      trust: [ca],
      names: kubernetesHostnames(cluster),
    },
    {
      host: 'master',
      component: 'etcd',
      purpose: 'client',
      source: 'kube-apiserver --etcd-certfile',
      ...pair('kubernetes'),
      trust: [{ ...ca, source: 'etcd --trusted-ca-file' }],
    },
    ...cluster.workers.flatMap((w): CredentialInput[] => [
      {
        host: w.host,
        component: 'kubelet',
        purpose: 'serving',
        source: 'kubelet --tls-cert-file',
        ...pair(`kubelet-${w.host}`),
        trust: [{ ...ca, source: 'kube-apiserver --kubelet-certificate-authority' }],
        names: [...new Set([w.nodeName, w.address, w.internalAddress])],
      },
      client(`kubelet-${w.host}`, 'kubelet', `system:node:${w.nodeName}`, 'system:nodes'),
    ]),
    client('admin', 'admin (kubectl)', 'admin', 'system:masters'),
    client('kube-controller-manager', 'kube-controller-manager', 'system:kube-controller-manager', 'system:kube-controller-manager', true),
    client('kube-scheduler', 'kube-scheduler', 'system:kube-scheduler', 'system:kube-scheduler', true),
    client('kube-proxy', 'kube-proxy', 'system:kube-proxy', 'system:node-proxier', true),
  ];
}

const key = (u: CredentialInput) => `${u.component} ${u.purpose} ${u.cert.path}`;

beforeAll(async () => {
  problem = cfsslMissing();
  if (problem) return;
  let oracle;
  try {
    oracle = await buildOracle();
  } catch (e) {
    problem = (e as Error).message;
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'hardway-x509-cfssl-'));
  pki = await buildCfsslPki(cluster, dir);
  const now = new Date();
  const list = uses();
  const go = await runOracle(oracle.path, [
    ...list.map((u) => ({
      id: key(u),
      kind: 'pair' as const,
      purpose: u.purpose,
      cert: u.cert.pem!,
      key: u.key!.pem!,
      trust: pki.ca.cert,
      names: u.names ?? [],
      now: now.toISOString(),
    })),
    { id: 'sa', kind: 'sa', verifyKeys: [pki.certs.get('service-account')!.cert], signingKey: pki.certs.get('service-account')!.key },
  ]);
  for (const u of list) judged.set(key(u), { hw: judgeCredential({ ...u, now }), go: go.get(key(u))! });
  const s = pki.certs.get('service-account')!;
  sa = judgeServiceAccountKeys({
    verifyFiles: [{ path: '/var/lib/kubernetes/service-account.pem', pem: s.cert }],
    signingKey: { path: '/var/lib/kubernetes/service-account-key.pem', pem: s.key },
  });
  saGo = go.get('sa')!;
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the seed's cfssl recipe is judged as Go judges it", () => {
  beforeEach(() => {
    if (problem) throw new Error(problem);
  });

  it('Go accepts every certificate as its component uses it; hardway reports neither a finding nor a warning', () => {
    expect(judged.size).toBe(4 + 2 * cluster.workers.length + 2);
    for (const [k, j] of judged) {
      expect(j.go.ok, `${k}: Go: ${j.go.stage}: ${j.go.error}`).toBe(true);
      expect(
        j.hw.findings.map((f) => `${f.code}: ${f.message}`),
        k,
      ).toEqual([]);
      expect(
        j.hw.warnings.map((f) => `${f.code}: ${f.message}`),
        k,
      ).toEqual([]);
    }
    expect(saGo.ok, saGo.error).toBe(true);
    expect([...sa.findings, ...sa.warnings]).toEqual([]);
  });
});
