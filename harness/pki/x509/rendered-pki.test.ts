// hardway's own PKI (harness/pki/issue.ts, for the seed's layout and for KTHW's) judged for every
// usage of its plan, by the library and by the Go oracle: Go accepts each certificate, hardway
// reports no finding; the seed layout gives no warning either.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCluster } from '../../model/load.ts';
import { issuePki } from '../issue.ts';
import { certPlan } from '../plan.ts';
import { judgeCredential } from './judge.ts';
import { type OracleCase, type OracleResult, buildOracle, runOracle } from './oracle.ts';
import type { CredentialInput, Judgement } from './types.ts';

const FIXTURES = { seed: 'fixtures/lab/cluster.yaml', kthw: 'fixtures/lab-kthw/cluster.yaml' } as const;
let problem: string | undefined;
const judged = new Map<string, { layout: keyof typeof FIXTURES; hw: Judgement; go: OracleResult }>();

beforeAll(async () => {
  let oracle;
  try {
    oracle = await buildOracle();
  } catch (e) {
    problem = (e as Error).message;
    return;
  }
  const inputs: [keyof typeof FIXTURES, string, CredentialInput][] = [];
  for (const [layout, file] of Object.entries(FIXTURES) as [keyof typeof FIXTURES, string][]) {
    const plan = certPlan(loadCluster(file));
    const pki = await issuePki(plan);
    const trust = [{ path: '/var/lib/kubernetes/ca.pem', pem: pki.ca.certPem, source: 'the cluster CA' }];
    for (const spec of plan.certs) {
      const issued = pki.certs.get(spec.id)!;
      for (const usage of spec.usages) {
        const purpose = usage === 'server' ? 'serving' : 'client';
        inputs.push([
          layout,
          `${layout} ${spec.id} ${purpose}`,
          {
            component: spec.title,
            purpose,
            source: spec.id,
            trust,
            cert: { path: `${spec.id}.pem`, pem: issued.certPem },
            key: { path: `${spec.id}-key.pem`, pem: issued.key.pem },
            ...(purpose === 'serving'
              ? { names: [...spec.dnsNames, ...spec.ipAddresses] }
              : { expectedIdentity: { cn: spec.cn, ...(spec.o ? { o: [spec.o] } : {}) } }),
          },
        ]);
      }
    }
  }
  // After issuing: KTHW's layout issues from "now" on, without backdating, as openssl does.
  const now = new Date();
  for (const [, , u] of inputs) u.now = now;
  const cases: OracleCase[] = inputs.map(([, id, u]) => ({
    id,
    kind: 'pair',
    purpose: u.purpose,
    cert: u.cert.pem!,
    key: u.key!.pem!,
    trust: u.trust[0]!.pem!,
    names: u.names ?? [],
    now: now.toISOString(),
  }));
  const go = await runOracle(oracle.path, cases);
  for (const [layout, id, u] of inputs) judged.set(id, { layout, hw: judgeCredential(u), go: go.get(id)! });
}, 600_000);

describe("hardway's own PKI is judged as Go judges it", () => {
  beforeEach(() => {
    if (problem) throw new Error(problem);
  });

  it('Go accepts every certificate of both layouts for every usage; hardway reports no finding', () => {
    expect([...judged.values()].filter((j) => j.layout === 'seed').length).toBeGreaterThanOrEqual(8);
    expect([...judged.values()].filter((j) => j.layout === 'kthw').length).toBeGreaterThanOrEqual(8);
    for (const [id, j] of judged) {
      expect(j.go.ok, `${id}: Go: ${j.go.stage}: ${j.go.error}`).toBe(true);
      expect(
        j.hw.findings.map((f) => `${f.code}: ${f.message}`),
        id,
      ).toEqual([]);
    }
  });

  it('the seed layout gives no warning either', () => {
    for (const [id, j] of judged)
      if (j.layout === 'seed')
        expect(
          j.hw.warnings.map((w) => `${w.code}: ${w.message}`),
          id,
        ).toEqual([]);
  });
});
