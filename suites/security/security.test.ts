// The security suite's judgement, and its TLS probe against servers on loopback.
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCa } from '../../harness/pki/issue.ts';
import {
  applyAccepted, curlOutcome, judgeAnonymous, judgeEtcd, judgeKubelet, judgeStaticToken, kubeletConfigOf, tlsProbe, tlsReason, unitFlags,
} from './security.ts';

const UNIT = `# /etc/systemd/system/kube-apiserver.service
[Service]
ExecStart=/usr/local/bin/kube-apiserver \\
  --advertise-address=10.240.0.10 \\
  --authorization-mode=Node,RBAC \\
  --token-auth-file=/var/lib/kubernetes/token.csv \\
  --enable-bootstrap-token-auth \\
  --v=1
# --anonymous-auth=false (a comment, not a flag)
`;

describe('flags of a unit', () => {
  it('reads --name=value and bare --name across continuation lines, not from comments', () => {
    const f = unitFlags(UNIT);
    expect(f.get('authorization-mode')).toBe('Node,RBAC');
    expect(f.get('token-auth-file')).toBe('/var/lib/kubernetes/token.csv');
    expect(f.get('enable-bootstrap-token-auth')).toBe('true');
    expect(f.has('anonymous-auth')).toBe(false);
    expect(unitFlags('command_args="--anonymous-auth=false --authorization-mode=AlwaysAllow"').get('authorization-mode')).toBe('AlwaysAllow');
  });
});

describe('judgements', () => {
  it('static token: failed on targets hardway did not create, a warning in the lab, accepted by the inventory', () => {
    const facts = { file: '/var/lib/kubernetes/token.csv', tokens: 1, admins: 1, modelStaticToken: true, ownedByHardway: false };
    const prod = judgeStaticToken('master', facts);
    expect(prod.problems).toEqual(['master: kube-apiserver on master accepts static tokens from /var/lib/kubernetes/token.csv (1 token, 1 in system:masters): the seed\'s debugging token never expires and makes its holder cluster-admin; fix: remove --token-auth-file from kube-apiserver\'s unit and delete /var/lib/kubernetes/token.csv on master, then systemctl daemon-reload && systemctl restart kube-apiserver (set apiserver.staticToken: false in cluster.yaml); if you keep it on purpose, list security.static-token under accept: in the inventory']);
    expect(judgeStaticToken('master', { ...facts, ownedByHardway: true })).toMatchObject({ problems: [], warnings: [expect.stringMatching(/expected in a lab hardway built/)] });
    expect(judgeStaticToken('master', { ...facts, modelStaticToken: false, ownedByHardway: true }).problems[0]).toMatch(/although the model says apiserver\.staticToken: false; fix:/);
    const accepted = applyAccepted('security.static-token', ['security.static-token'], prod);
    expect(accepted.problems).toEqual([]);
    expect(accepted.warnings![0]).toMatch(/^accepted by the inventory \(accept: security\.static-token\): master: kube-apiserver .*cluster\.yaml\)$/);
    expect(applyAccepted('security.static-token', ['security.other'], prod)).toBe(prod);
    expect(judgeStaticToken('master', { modelStaticToken: false, ownedByHardway: false })).toEqual({ problems: [], notes: ['no --token-auth-file: static tokens are off'] });
  });

  it('anonymous access: 401/403 pass, 200 fails, AlwaysAllow fails, unreachable is skipped', () => {
    const flags = unitFlags(UNIT);
    const url = 'https://10.240.0.10:6443/api/v1/namespaces';
    expect(judgeAnonymous('master', url, flags, [{ from: 'this machine', status: 403 }]).problems).toEqual([]);
    expect(judgeAnonymous('master', url, flags, [{ from: 'this machine', status: 200 }]).problems).toEqual([`master: ${url} without credentials answered HTTP 200 (from this machine): anonymous users can list namespaces; fix: find the binding that grants it (kubectl get clusterrolebindings,rolebindings -A -o wide | grep -E 'system:(anonymous|unauthenticated)') and delete it, or run kube-apiserver with --anonymous-auth=false`]);
    expect(judgeAnonymous('master', url, new Map([['authorization-mode', 'AlwaysAllow']]), [{ from: 'this machine', status: 401 }]).problems[0]).toMatch(/--authorization-mode including AlwaysAllow.*fix: --authorization-mode=Node,RBAC/);
    expect(judgeAnonymous('master', url, flags, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }, { from: 'master', unreachable: 'no curl on the host' }]).skipped).toMatch(/gave no answer that tells/);
    // An apiserver in trouble (etcd down) answers 5xx: that says nothing about anonymous access.
    expect(judgeAnonymous('master', url, flags, [{ from: 'this machine', status: 503 }]).skipped).toMatch(/gave no answer that tells \(this machine: HTTP 503\)/);
  });

  it('etcd: any HTTP answer without a client certificate fails; refusals pass; no connection is inconclusive', () => {
    const url = 'https://10.240.0.10:2379';
    expect(judgeEtcd('master', url, [{ from: 'this machine', refused: 'tlsv13 alert certificate required' }, { from: 'node-1', refused: 'curl exit 56' }])).toMatchObject({ problems: [] });
    expect(judgeEtcd('master', url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }, { from: 'node-1', status: 404 }]).problems).toEqual([`master: etcd at ${url} answered HTTP 404 (from node-1) to a client without a certificate: whoever reaches port 2379 reads and writes the whole cluster state, Secrets included; fix: --client-cert-auth=true and --trusted-ca-file=/var/lib/kubernetes/ca.pem in etcd's unit on master, then systemctl restart etcd (and firewall 2379 to the masters and workers)`]);
    expect(judgeEtcd('master', url, [{ from: 'this machine', unreachable: 'ECONNREFUSED' }]).skipped).toMatch(/cannot tell whether it requires client certificates/);
  });

  it('kubelet: 200 fails naming the config; AlwaysAllow fails; anonymous with Webhook authorization warns', () => {
    const url = 'https://10.240.0.21:10250/pods';
    const cfgPath = '/var/lib/kubernetes/kubelet/kubelet-config.yaml';
    const open = kubeletConfigOf('authentication:\n  anonymous: { enabled: true }\nauthorization:\n  mode: AlwaysAllow\n');
    expect(open).toEqual({ anonymous: true, mode: 'AlwaysAllow' });
    expect(judgeKubelet('node-1', url, [{ from: 'this machine', status: 200 }], open, cfgPath).problems).toEqual([`node-1: kubelet's API ${url} answered HTTP 200 (from this machine) without credentials: whoever reaches port 10250 lists pods and runs commands in them (authentication.anonymous.enabled is true, authorization.mode AlwaysAllow); fix: in ${cfgPath} on node-1 set authentication.anonymous.enabled: false, authentication.webhook.enabled: true and authorization.mode: Webhook, then systemctl restart kubelet`]);
    expect(judgeKubelet('node-1', url, [{ from: 'this machine', status: 401 }], { anonymous: false, mode: 'Webhook' }, cfgPath)).toMatchObject({ problems: [] });
    expect(judgeKubelet('node-1', url, [{ from: 'this machine', status: 403 }], { anonymous: true, mode: 'Webhook' }, cfgPath).warnings![0]).toMatch(/accepts anonymous requests/);
    expect(judgeKubelet('node-1', url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], { mode: 'AlwaysAllow' }, cfgPath).problems[0]).toMatch(/authorization\.mode AlwaysAllow/);
    expect(judgeKubelet('node-1', url, [{ from: 'this machine', unreachable: 'ETIMEDOUT' }], undefined, cfgPath).skipped).toMatch(/gave no answer that tells/);
    expect(judgeKubelet('node-1', url, [{ from: 'this machine', status: 500 }], undefined, cfgPath).skipped).toMatch(/gave no answer that tells/);
  });

  it('curl outcomes and OpenSSL reasons', () => {
    expect(curlOutcome('node-1', '401 0\n')).toEqual({ from: 'node-1', status: 401 });
    expect(curlOutcome('node-1', '000 7')).toEqual({ from: 'node-1', unreachable: 'curl exit 7 (connection refused)' });
    expect(curlOutcome('node-1', '000 56')).toEqual({ from: 'node-1', refused: 'curl exit 56 (TLS alert: certificate required)' });
    expect(tlsReason({ message: '40CD04CDB07F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 116' })).toBe('tlsv13 alert certificate required');
  });
});

describe('the TLS probe (servers on loopback)', () => {
  let certPem = '';
  let keyPem = '';
  const servers: { close(): void }[] = [];
  beforeAll(async () => {
    const ca = await issueCa({ id: 'ca', title: 'probe', cn: 'probe', usages: ['server'], dnsNames: [], ipAddresses: [] });
    certPem = ca.certPem;
    keyPem = ca.key.pem;
  });
  afterAll(() => servers.forEach((s) => s.close()));

  async function listen(requireCert: boolean): Promise<number> {
    const s = createTlsServer({ cert: certPem, key: keyPem, requestCert: requireCert, rejectUnauthorized: requireCert, ca: [certPem] }, (sock) => {
      sock.on('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    s.on('tlsClientError', () => undefined);
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    servers.push(s);
    return (s.address() as AddressInfo).port;
  }

  it('a server that requires a client certificate refuses the probe', async () => {
    const p = await tlsProbe('this machine', '127.0.0.1', await listen(true), '/version');
    expect(p.status).toBeUndefined();
    expect(p.refused).toMatch(/certificate/);
  });

  it('a server that does not answers it', async () => {
    expect(await tlsProbe('this machine', '127.0.0.1', await listen(false), '/version')).toEqual({ from: 'this machine', status: 200 });
  });

  it('a closed port is inconclusive', async () => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    s.close();
    expect(await tlsProbe('this machine', '127.0.0.1', port, '/')).toEqual({ from: 'this machine', unreachable: 'ECONNREFUSED' });
  });
});
