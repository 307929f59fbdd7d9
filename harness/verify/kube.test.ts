// How the admin kubeconfig found on a master is made usable here: referenced files are read on
// the master (a missing one is an error, never a file of this machine), and a server only the
// master reaches goes through a tunnel from it (none offered: an error, never the local port).
import { describe, expect, it } from 'vitest';
import { parseCluster } from '../model/load.ts';
import type { HostAccess, Target } from '../targets/target.ts';
import { DEFAULT_OPTIONS } from './check.ts';
import { makeContext } from './engine.ts';
import { KubeAccessError, kube } from './kube.ts';

const cluster = parseCluster(`name: t
masters: [{ host: master, address: 10.9.0.10 }]
workers: [{ host: node-1, address: 10.9.0.21 }]
`);

const kubeconfig = (server: string, user: string) => `apiVersion: v1
kind: Config
current-context: admin
clusters: [{ name: c, cluster: { server: '${server}', certificate-authority-data: Q0E= } }]
contexts: [{ name: admin, context: { cluster: c, user: admin } }]
users: [{ name: admin, user: { ${user} } }]
`;

function targetWith(files: Record<string, string>, tunnel?: HostAccess['tunnel']): { target: Target; tunnels: string[] } {
  const tunnels: string[] = [];
  const access = (host: string): HostAccess => ({
    host,
    readFile: async (p) => (host === 'master' ? files[p] : undefined),
    listFiles: async () => [],
    ...(tunnel ? { tunnel: async (h: string, p: number) => (tunnels.push(`${h}:${p}`), tunnel(h, p)) } : {}),
  });
  const target: Target = {
    name: 't',
    cluster,
    modelGiven: true,
    live: true,
    ownedByHardway: false,
    host: access,
    close: async () => undefined,
  };
  return { target, tunnels };
}

const data = 'client-certificate-data: Q0VSVA==, client-key-data: S0VZ';

describe('the admin kubeconfig of a master', () => {
  it('a referenced file missing on the master is an error naming it (not read on this machine)', async () => {
    const { target } = targetWith({
      '/root/.kube/config': kubeconfig('https://10.9.0.10:6443', 'client-certificate: admin.pem, client-key: /etc/k/admin-key.pem'),
      '/root/.kube/admin.pem': 'CERT',
    });
    const err = await kube(makeContext(target, DEFAULT_OPTIONS)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(KubeAccessError);
    expect((err as Error).message).toMatch(
      /^the admin kubeconfig master:\/root\/\.kube\/config references client-key \/etc\/k\/admin-key\.pem, which is missing \(or not readable\) on master; fix: /,
    );
  });

  it('referenced files found on the master are embedded', async () => {
    const { target } = targetWith({
      '/root/.kube/config': kubeconfig('https://10.9.0.10:6443', 'client-certificate: admin.pem, client-key: admin-key.pem'),
      '/root/.kube/admin.pem': 'CERT',
      '/root/.kube/admin-key.pem': 'KEY',
    });
    const k = await kube(makeContext(target, DEFAULT_OPTIONS));
    const user = k.kc.getCurrentUser()!;
    expect([user.certFile, user.keyFile, user.certData, user.keyData]).toEqual([undefined, undefined, 'Q0VSVA==', 'S0VZ']);
    expect(k.kc.getCurrentCluster()!.server).toBe('https://10.9.0.10:6443');
  });

  it.each([
    [
      'a loopback address',
      'https://127.0.0.1:6443',
      /names the API server 127\.0\.0\.1:6443, a loopback address: the API is reachable only from master, and the target offers no tunnel/,
    ],
    [
      'a name only the master resolves',
      'https://server.kubernetes.local:6443',
      /a name the master resolves: the API is reachable only from master, and the target offers no tunnel/,
    ],
  ])('%s without a tunnel is an error, never used as-is', async (_, server, message) => {
    const { target } = targetWith({ '/root/.kube/config': kubeconfig(server, data) });
    const err = await kube(makeContext(target, DEFAULT_OPTIONS)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(KubeAccessError);
    expect((err as Error).message).toMatch(message);
  });

  it('a name only the master resolves, with a tunnel: reached through it, verified for the name', async () => {
    const { target, tunnels } = targetWith(
      { '/root/.kube/config': kubeconfig('https://server.kubernetes.local:6443', data) },
      async () => 40123,
    );
    const k = await kube(makeContext(target, DEFAULT_OPTIONS));
    expect(tunnels).toEqual(['server.kubernetes.local:6443']);
    expect(k.kc.getCurrentCluster()!.server).toBe('https://127.0.0.1:40123');
    expect(k.kc.getCurrentCluster()!.tlsServerName).toBe('server.kubernetes.local');
  });
});
