// The ingress suite's pure logic: HTTPRoutes as hardway installs them, the redirect decision, the
// chain judgement's codes, which TLS errors are certificate errors (recorded from Node's client),
// and the checks' verdicts that need no cluster (no edge, no names, no browser).
import { describe, expect, it } from 'vitest';
import type { CmObject } from '../../harness/edge/acme-status.ts';
import { appObjects } from '../../harness/edge/manifests.ts';
import type { Cluster } from '../../harness/model/cluster.ts';
import { loadCluster } from '../../harness/model/load.ts';
import { issueCa, issueLeaf } from '../../harness/pki/issue.ts';
import { generateRsaKey } from '../../harness/pki/keys.ts';
import { serverSpec } from '../../harness/pki/plan.ts';
import type { Target } from '../../harness/targets/target.ts';
import { DEFAULT_OPTIONS } from '../../harness/verify/check.ts';
import { makeContext, runCheck, runSuite } from '../../harness/verify/engine.ts';
import { type RouteInfo, ingressSuite, isCertificateError, judgeChain, judgeRedirect, routeInfo } from './ingress.ts';

const cluster = loadCluster('fixtures/lab/cluster.yaml');
const NAME = 'kubernetes-example.lab.test';
const ADDRESS = '10.240.0.21';

/** The HTTPRoutes hardway's edge installs, as the API returns them (namespace filled in). */
function installedRoutes(): RouteInfo[] {
  return appObjects({ cluster, appSecretToken: 't' })
    .filter((o) => o.kind === 'HTTPRoute')
    .map((o) => routeInfo({ ...o, metadata: { namespace: 'kubernetes-example', ...o.metadata } } as CmObject));
}

describe('HTTPRoutes as installed', () => {
  it('reads backends, listeners and the redirect', () => {
    const routes = installedRoutes();
    expect(routes.map((r) => r.name).sort()).toEqual(['kubernetes-example', 'kubernetes-example-redirect', 'no-https']);
    const app = routes.find((r) => r.name === 'kubernetes-example')!;
    expect(app).toEqual({
      name: 'kubernetes-example',
      namespace: 'kubernetes-example',
      backends: [{ namespace: 'kubernetes-example', name: 'kubernetes-example' }],
      sections: ['https'],
    });
    expect(routes.find((r) => r.name === 'kubernetes-example-redirect')).toMatchObject({
      backends: [],
      sections: ['http'],
      redirect: { scheme: 'https', statusCode: 301 },
    });
  });
});

describe('the redirect decision', () => {
  const routes = installedRoutes().filter((r) => r.name !== 'no-https');
  const withoutRedirect = routes.filter((r) => !r.redirect);

  it('passes the redirect the route asks for', () => {
    expect(judgeRedirect(NAME, ADDRESS, routes, { status: 301, location: `https://${NAME}/status/` })).toEqual({
      kind: 'ok',
      note: `http://${NAME}/status/ via ${ADDRESS}: 301 -> https://${NAME}/status/`,
    });
  });

  it('a redirect elsewhere, or with another status, is redirect-wrong', () => {
    expect(judgeRedirect(NAME, ADDRESS, routes, { status: 302, location: `https://${NAME}/status/` })).toMatchObject({
      kind: 'finding',
      code: 'redirect-wrong',
    });
    expect(judgeRedirect(NAME, ADDRESS, routes, { status: 301, location: 'http://elsewhere.test/' })).toMatchObject({
      kind: 'finding',
      code: 'redirect-wrong',
    });
    expect(judgeRedirect(NAME, ADDRESS, routes, { status: 301 })).toMatchObject({
      kind: 'finding',
      code: 'redirect-wrong',
      message: expect.stringMatching(/redirects to nowhere/),
    });
  });

  it('no redirect answered though the route asks: diagnosed as a failed request, naming the route', () => {
    expect(judgeRedirect(NAME, ADDRESS, routes, { error: 'connect ECONNREFUSED 10.240.0.21:80', code: 'ECONNREFUSED' })).toEqual({
      kind: 'diagnose',
      asks: 'route kubernetes-example/kubernetes-example-redirect asks for a 301 redirect to HTTPS',
    });
    expect(judgeRedirect(NAME, ADDRESS, routes, { status: 503, body: 'no healthy upstream' })).toMatchObject({ kind: 'diagnose' });
  });

  it('the redirect route gone while the site is routed: redirect-missing, whatever plain HTTP answers', () => {
    const gone404 = judgeRedirect(NAME, ADDRESS, withoutRedirect, { status: 404, body: 'not found' });
    expect(gone404).toMatchObject({ kind: 'finding', code: 'redirect-missing' });
    expect(gone404.kind === 'finding' && gone404.message).toMatch(
      /its routes: kubernetes-example\/kubernetes-example\); at 10\.240\.0\.21 it answers 404: visitors .* do not reach the site/,
    );
    const clear = judgeRedirect(
      NAME,
      ADDRESS,
      [...withoutRedirect, { name: 'clear', namespace: 'x', backends: [{ namespace: 'x', name: 'app' }], sections: ['http'] }],
      { status: 200, body: 'ok' },
    );
    expect(clear.kind === 'finding' && clear.message).toMatch(/get the site in clear text/);
    expect(
      judgeRedirect(NAME, ADDRESS, withoutRedirect, { error: 'connect ECONNREFUSED 10.240.0.21:80', code: 'ECONNREFUSED' }),
    ).toMatchObject({ kind: 'finding', code: 'redirect-missing' });
    // Redirected to HTTPS by other means than a route of the name: not a finding.
    expect(judgeRedirect(NAME, ADDRESS, withoutRedirect, { status: 308, location: `https://${NAME}/status/` })).toMatchObject({
      kind: 'ok',
    });
  });

  it('no route serves the name at all: nothing to redirect', () => {
    expect(judgeRedirect(NAME, ADDRESS, [], {})).toEqual({ kind: 'unrouted' });
  });
});

describe("the chain judgement's codes", () => {
  const spec = serverSpec;
  const subject = 'secret/kubernetes-example/kubernetes-example-tls';

  it('a leaf for the host whose chain reaches the ACME root: no finding', async () => {
    const root = await issueCa(spec('Pebble Root CA'));
    const key = await generateRsaKey();
    const leaf = await issueLeaf(root, spec('', [NAME]), key, { notAfter: new Date(Date.now() + 90 * 86400_000) });
    const v = await judgeChain(subject, NAME, leaf.certPem, key.pem, { roots: [root.certPem], source: 'the root' });
    expect(v.findings).toEqual([]);
    expect(v.notes[0]).toMatch(/^secret\/kubernetes-example\/kubernetes-example-tls: .* issued by CN=Pebble Root CA/);
  });

  it('self-signed, foreign CA, missing name, foreign key, long lifetime, expired, empty', async () => {
    const root = await issueCa(spec('Pebble Root CA'));
    const anchor = { roots: [root.certPem], source: 'the root' };
    const self = await issueCa(spec(NAME));
    const s = await judgeChain(subject, NAME, self.certPem, self.key.pem, anchor);
    // issueCa's CA lifetime is years: longer than browsers accept, too.
    expect(s.findings.map((f) => f.code).sort()).toEqual(['lifetime-too-long', 'name-missing', 'self-signed']);
    expect(s.findings.every((f) => f.subject === subject && f.fix && !f.fix.startsWith('fix:'))).toBe(true);
    expect(s.problems.join('\n')).toMatch(/self-signed \(CN=kubernetes-example\.lab\.test[^)]*\), not issued by the ACME CA/);

    const other = await issueCa(spec('Another CA'));
    const key = await generateRsaKey();
    const foreign = await issueLeaf(other, spec('', [NAME]), key, { notAfter: new Date(Date.now() + 90 * 86400_000) });
    expect((await judgeChain(subject, NAME, foreign.certPem, key.pem, anchor)).findings.map((f) => f.code)).toEqual(['foreign-ca']);

    const long = await issueLeaf(root, spec('', [NAME]), key, { notAfter: new Date(Date.now() + 5 * 365 * 86400_000) });
    expect(
      (await judgeChain(subject, NAME, long.certPem, (await generateRsaKey()).pem, anchor)).findings.map((f) => f.code).sort(),
    ).toEqual(['key-mismatch', 'lifetime-too-long']);

    const old = await issueLeaf(root, spec('', [NAME]), key, {
      notBefore: new Date(Date.now() - 30 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    expect((await judgeChain(subject, NAME, old.certPem, key.pem, anchor)).findings.map((f) => f.code)).toEqual(['expired']);

    expect((await judgeChain(subject, NAME, '', undefined, anchor)).findings.map((f) => f.code)).toEqual(['tls-crt-empty']);
  });
});

describe("TLS errors of the HTTPS request (recorded from Node's https client)", () => {
  it('certificate errors are told apart from connection errors', () => {
    for (const m of [
      'self-signed certificate',
      'unable to verify the first certificate',
      'unable to get local issuer certificate',
      "Hostname/IP does not match certificate's altnames: Host: other.example. is not cert's CN: probe",
      'certificate has expired',
    ]) {
      expect(isCertificateError(m)).toBe(true);
    }
    for (const m of ['connect ECONNREFUSED 10.240.0.21:443', 'no answer within 5 s', 'socket hang up', 'read ECONNRESET'])
      expect(isCertificateError(m)).toBe(false);
  });
});

// ---- verdicts that need no cluster -----------------------------------------------------------

function liveTarget(c: Cluster): Target {
  const host = (name: string) => ({
    host: name,
    readFile: async () => undefined,
    listFiles: async () => [],
    exec: async () => ({ code: 1, stdout: '', stderr: '' }),
  });
  return { name: 'fake', cluster: c, modelGiven: true, live: true, ownedByHardway: false, host, close: async () => undefined };
}
const check = (id: string) => ingressSuite.checks.find((c) => c.id === id)!;

describe('the ingress suite without the parts it checks', () => {
  it('without an ingress section every check is not-applicable (needs: edge)', async () => {
    const { ingress: _ingress, ...noEdge } = cluster;
    void _ingress;
    const results = await runSuite(makeContext(liveTarget(noEdge), DEFAULT_OPTIONS), ingressSuite);
    expect(results.length).toBe(4 + 4 * 2); // 4 cluster checks, 4 host checks on 2 workers
    expect(results.every((r) => r.status === 'skipped' && r.skip === 'not-applicable' && /no HTTPS edge/.test(r.diagnosis ?? ''))).toBe(
      true,
    );
  });

  it('no plainHosts, no hosts: not-applicable; no browser in the run: inconclusive', async () => {
    const ctx = (c: Cluster) => makeContext(liveTarget(c), DEFAULT_OPTIONS);
    const plainless = { ...cluster, ingress: { ...cluster.ingress!, plainHosts: [] } };
    expect(await runCheck(ctx(plainless), check('ingress.plain-http'), 'node-1')).toMatchObject({
      status: 'skipped',
      skip: 'not-applicable',
    });
    const hostless = { ...cluster, ingress: { ...cluster.ingress!, hosts: [] } };
    for (const id of ['ingress.redirect', 'ingress.https'])
      expect(await runCheck(ctx(hostless), check(id), 'node-1')).toMatchObject({ status: 'skipped', skip: 'not-applicable' });
    for (const id of ['ingress.issuer', 'ingress.certificate', 'ingress.browser'])
      expect(await runCheck(ctx(hostless), check(id))).toMatchObject({ status: 'skipped', skip: 'not-applicable' });
    expect(await runCheck(ctx(cluster), check('ingress.browser'))).toMatchObject({ status: 'skipped', skip: 'inconclusive' });
  });

  it('every check declares its codes', () => {
    for (const c of ingressSuite.checks) expect(Object.keys(c.codes).length).toBeGreaterThan(0);
  });
});
