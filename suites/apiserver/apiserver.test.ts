// The apiserver suite from the facts: where each apiserver is reached (--secure-port, --bind-address),
// the CA and server name its clients verify it with (a component's kubeconfig), TLS verification
// for a DNS or an IP name without any DNS lookup, and the checks through the engine against an
// HTTPS server on loopback laid out as KTHW does (server.kubernetes.local in the kubeconfigs).
import { once } from 'node:events';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factsFromFiles } from '../../harness/discovery/from-files.ts';
import { issueCa, issueLeaf } from '../../harness/pki/issue.ts';
import { generateRsaKey } from '../../harness/pki/keys.ts';
import type { Cluster } from '../../harness/model/cluster.ts';
import {
  type HostFiles,
  kthwCluster,
  kthwFacts,
  kthwFiles,
  liveTarget,
  seedCluster,
  seedFacts,
  testKubeconfig,
  withFiles,
} from '../../harness/testing/facts-fixtures.ts';
import type { Target } from '../../harness/targets/target.ts';
import { DEFAULT_OPTIONS, type VerifyOptions } from '../../harness/verify/check.ts';
import { makeContext, runCheck } from '../../harness/verify/engine.ts';
import { apiserverSuite } from './apiserver.ts';
import { apiEndpoint, apiTrust, httpsGet, isCertificateError } from './endpoint.ts';

const check = (id: string) => apiserverSuite.checks.find((c) => c.id === id)!;

let caPem = '';
let otherCaPem = '';
let port = 0;
let server: Server;

beforeAll(async () => {
  const ca = await issueCa({ id: 'ca', title: 'test CA', cn: 'test CA', usages: [], dnsNames: [], ipAddresses: [] });
  const other = await issueCa({ id: 'other', title: 'other CA', cn: 'other CA', usages: [], dnsNames: [], ipAddresses: [] });
  caPem = ca.certPem;
  otherCaPem = other.certPem;
  // KTHW's kube-api-server.crt: names and 127.0.0.1, 10.32.0.1, not the server's own address.
  const leaf = await issueLeaf(
    ca,
    {
      id: 'api',
      title: 'api',
      cn: 'kubernetes',
      usages: ['server'],
      dnsNames: ['kubernetes', 'server.kubernetes.local'],
      ipAddresses: ['127.0.0.1', '10.32.0.1'],
    },
    await generateRsaKey(),
  );
  server = createServer({ cert: leaf.certPem, key: leaf.key.pem }, (req, res) => {
    if (req.url === '/api/v1/') {
      const ok = req.headers.authorization === 'Bearer good-token';
      res
        .writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
        .end(ok ? '{"kind":"APIResourceList"}' : '{"kind":"Status","code":401}');
    } else res.writeHead(200).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server?.close());

describe('verifying the apiserver as its clients do (loopback server, no DNS)', () => {
  const at = () => ({ host: '127.0.0.1', port });

  it('a DNS name the certificate carries verifies, through SNI, without resolving it', async () => {
    expect((await httpsGet(at(), '/readyz', { ca: caPem, name: 'server.kubernetes.local' })).status).toBe(200);
    expect((await httpsGet(at(), '/readyz', { ca: caPem, name: '127.0.0.1' })).status).toBe(200);
  });

  it('a name or IP the certificate lacks, or another CA, is a certificate error, not "unreachable"', async () => {
    for (const [name, ca] of [
      ['api.other.local', caPem],
      ['10.241.0.10', caPem],
      ['server.kubernetes.local', otherCaPem],
    ] as const) {
      const e = await httpsGet(at(), '/readyz', { ca, name }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isCertificateError(e), `${name}`).toBe(true);
    }
    const refused = await httpsGet({ host: '127.0.0.1', port: 1 }, '/', { ca: caPem, name: 'x' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isCertificateError(refused)).toBe(false);
  });
});

describe('where each apiserver is reached and verified, from the facts', () => {
  it("KTHW: the host address at the default port 6443, verified as server.kubernetes.local (kube-controller-manager's kubeconfig)", async () => {
    const c = kthwCluster();
    const ctx = makeContext(
      liveTarget(c, kthwFiles(), () => undefined),
      DEFAULT_OPTIONS,
      { facts: await kthwFacts() },
    );
    const h = ctx.host('server');
    const ep = await apiEndpoint(ctx, h, h.facts.components.find((x) => x.kind === 'kube-apiserver')!);
    expect([ep.connect, ep.portSource, ep.url('/readyz')]).toEqual([
      { host: '10.241.0.10', port: 6443 },
      "server: kube-apiserver's default --secure-port 6443",
      'https://10.241.0.10:6443/readyz',
    ]);
    expect(await apiTrust(ctx, h)).toMatchObject({
      name: 'server.kubernetes.local',
      from: 'server:/var/lib/kubernetes/kube-controller-manager.kubeconfig (kube-controller-manager)',
    });
  });

  it('seed: --secure-port and the IP in its kubeconfigs; a loopback --bind-address is reached through a tunnel from the host', async () => {
    const c = seedCluster();
    const ctx = makeContext(
      liveTarget(c, {}, () => undefined),
      DEFAULT_OPTIONS,
      { facts: await seedFacts() },
    );
    const h = ctx.host('master');
    const api = h.facts.components.find((x) => x.kind === 'kube-apiserver')!;
    expect((await apiEndpoint(ctx, h, api)).portSource).toBe('master:/etc/systemd/system/kube-apiserver.service --secure-port');
    expect(await apiTrust(ctx, h)).toMatchObject({ name: '10.240.0.10' });
    const files = withFiles(kthwFiles(), 'server', (x) => ({
      ...x,
      '/etc/systemd/system/kube-apiserver.service': x['/etc/systemd/system/kube-apiserver.service']!.replace(
        '--bind-address=0.0.0.0',
        '--bind-address=127.0.0.1',
      ),
    }));
    const tunnels: string[] = [];
    const base = liveTarget(kthwCluster(), files, () => undefined);
    const target: Target = {
      ...base,
      host: (n) => ({ ...base.host(n), tunnel: async (host, p) => (tunnels.push(`${n} ${host}:${p}`), 40001) }),
    };
    const k = makeContext(target, DEFAULT_OPTIONS, { facts: await factsFromFiles(files) });
    const s = k.host('server');
    const ep = await apiEndpoint(k, s, s.facts.components.find((x) => x.kind === 'kube-apiserver')!);
    expect([ep.connect, ep.local, tunnels]).toEqual([{ host: '127.0.0.1', port: 40001 }, '127.0.0.1', ['server 127.0.0.1:6443']]);
  });
});

describe('the apiserver checks against a KTHW-style server on loopback', () => {
  /** KTHW's server at 127.0.0.1 with --secure-port of the test server and the given token file. */
  function cluster(): Cluster {
    const c = kthwCluster();
    return { ...c, masters: [{ ...c.masters[0]!, address: '127.0.0.1', internalAddress: '127.0.0.1' }] };
  }
  function files(opts: { token?: string; serverName?: string } = {}): HostFiles {
    const flags = [`--secure-port=${port}`, ...(opts.token ? ['--token-auth-file=/var/lib/kubernetes/token.csv'] : [])];
    return withFiles(kthwFiles(), 'server', (x) => ({
      ...x,
      '/etc/systemd/system/kube-apiserver.service': x['/etc/systemd/system/kube-apiserver.service']!.replace(
        '--bind-address=0.0.0.0',
        ['--bind-address=0.0.0.0', ...flags].join(' \\\n  '),
      ),
      '/var/lib/kubernetes/kube-controller-manager.kubeconfig': testKubeconfig(
        `https://${opts.serverName ?? 'server.kubernetes.local'}:${port}`,
        'system:kube-controller-manager',
        caPem,
      ),
      ...(opts.token ? { '/var/lib/kubernetes/token.csv': `${opts.token},admin,admin,"system:masters"\n` } : {}),
    }));
  }
  async function run(
    id: string,
    f: HostFiles,
    options: VerifyOptions = DEFAULT_OPTIONS,
    exec: (cmd: string) => { code: number } | undefined = () => undefined,
  ) {
    const ctx = makeContext(
      liveTarget(cluster(), f, (_h, cmd) => exec(cmd)),
      options,
      { facts: await factsFromFiles(f) },
    );
    return runCheck(ctx, check(id), 'server');
  }

  it('bearer-token: the token of --token-auth-file passes, verified for the name the clients use', async () => {
    const r = await run('apiserver.bearer-token', files({ token: 'good-token' }));
    expect(r).toMatchObject({
      status: 'passed',
      notes: [
        'authenticated with the first token of /var/lib/kubernetes/token.csv',
        'verified as server.kubernetes.local with the CA of server:/var/lib/kubernetes/kube-controller-manager.kubeconfig (kube-controller-manager)',
      ],
    });
  });

  it("bearer-token: a refused token names the file, the flag's unit and the restart", async () => {
    const r = await run('apiserver.bearer-token', files({ token: 'changed-token' }));
    expect(r.findings?.map((f) => f.code)).toEqual(['token-refused']);
    expect(r.diagnosis).toMatch(
      /\(\/var\/lib\/kubernetes\/token\.csv was changed, or --token-auth-file \(server:\/etc\/systemd\/system\/kube-apiserver\.service --token-auth-file\) points elsewhere\); fix: put the token back into \/var\/lib\/kubernetes\/token\.csv on server and systemctl daemon-reload && systemctl restart kube-apiserver, or record the new one for hardway \(the inventory's apiserverTokenFile\)$/,
    );
  });

  it('no static token: a ServiceAccount token needs --active', async () => {
    const r = await run('apiserver.bearer-token', files(), { ...DEFAULT_OPTIONS, active: false });
    expect(r).toMatchObject({
      status: 'skipped',
      skip: 'needs-active',
      diagnosis: 'kube-apiserver has no --token-auth-file, and creating a ServiceAccount token needs --active',
    });
  });

  it("readyz: passes for the clients' name; a name the certificate lacks is certificate-not-trusted with the file to re-issue", async () => {
    expect((await run('apiserver.readyz', files())).status).toBe('passed');
    const r = await run('apiserver.readyz', files({ serverName: 'api.other.local' }));
    expect(r.findings?.map((f) => f.code)).toEqual(['certificate-not-trusted']);
    expect(r.diagnosis).toMatch(
      /fix: re-issue kube-apiserver's --tls-cert-file \(server:\/etc\/systemd\/system\/kube-apiserver\.service --tls-cert-file\) from that CA with api\.other\.local among/,
    );
  });

  it('versions: not applicable without kubectl on the host', async () => {
    const r = await run('apiserver.versions', files(), DEFAULT_OPTIONS, (cmd) =>
      cmd.includes('command -v kubectl') ? { code: 127 } : undefined,
    );
    expect(r).toMatchObject({
      status: 'skipped',
      skip: 'not-applicable',
      diagnosis: "no kubectl on server (command -v kubectl finds none): no client version to hold against the apiserver's",
    });
  });
});
