// flannel's network config lives where flanneld reads it: in etcd under <prefix>/config (the
// seed's way), or in net-conf.json with -kube-subnet-mgr. Read it from there, with the credentials
// the cluster itself uses: the apiserver's etcd client certificate on a master (etcdctl), or the
// file on a worker.
import type { HostAccess } from '../targets/target.ts';
import { type ClusterFacts, componentsOf } from './facts.ts';
import { type FlannelNetConf, parseFlannelNetConf } from './parse/flannel.ts';
import { readFiles } from './read-host.ts';

export interface FlannelStore {
  /** The network config as flanneld reads it (net-conf.json's format, in etcd too). */
  config?: FlannelNetConf;
  /** Where it was read. */
  source: string;
  problem?: string;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** etcdctl flags for a client configured as the apiserver is (endpoints and TLS files). */
export interface EtcdClient {
  /** Where etcdctl runs: the host whose files the TLS flags name. */
  host: string;
  /** --endpoints and the TLS flags. */
  args: string;
  endpoints: string[];
  /** The TLS flags alone (empty for plain http): to ask one endpoint with the same credentials. */
  tls: string;
  /** Whose configuration this is: "kube-apiserver's --etcd-servers (master:/etc/...)". */
  source: string;
}

export function etcdctlFor(f: ClusterFacts): EtcdClient | undefined {
  const api = componentsOf(f, 'kube-apiserver')[0];
  if (api) {
    const endpoints = api.flags.list('etcd-servers');
    const tls = [
      ['cacert', 'etcd-cafile'],
      ['cert', 'etcd-certfile'],
      ['key', 'etcd-keyfile'],
    ]
      .filter(([, flag]) => api.flags.get(flag!))
      .map(([o, flag]) => `--${o}=${shq(api.flags.get(flag!)!)}`);
    const source = `kube-apiserver's etcd client configuration (${api.source('etcd-servers')})`;
    const args = `--endpoints=${shq(endpoints.join(','))} ${tls.join(' ')}`;
    if (endpoints.length) return { host: api.host, endpoints, tls: tls.join(' '), source, args };
  }
  const etcd = componentsOf(f, 'etcd')[0];
  if (etcd) {
    const endpoints = etcd.flags.list('advertise-client-urls');
    const tls = [
      ['cacert', 'trusted-ca-file'],
      ['cert', 'cert-file'],
      ['key', 'key-file'],
    ]
      .filter(([, flag]) => etcd.flags.get(flag!))
      .map(([o, flag]) => `--${o}=${shq(etcd.flags.get(flag!)!)}`);
    const source = `etcd's own client URLs and certificates (${etcd.source('advertise-client-urls')})`;
    const args = `--endpoints=${shq(endpoints.join(','))} ${tls.join(' ')}`;
    if (endpoints.length) return { host: etcd.host, endpoints, tls: tls.join(' '), source, args };
  }
  return undefined;
}

export async function readFlannelStore(f: ClusterFacts, hosts: (name: string) => HostAccess): Promise<FlannelStore | undefined> {
  const flanneld = componentsOf(f, 'flanneld')[0];
  if (!flanneld?.flannel) return undefined;
  const o = flanneld.flannel;
  if (o.kubeSubnetMgr) {
    const text = (await readFiles(hosts(flanneld.host), [o.netConfPath])).get(o.netConfPath);
    const source = `${flanneld.host}:${o.netConfPath}`;
    if (text === undefined) return { source, problem: `${source} is not there (flanneld -kube-subnet-mgr reads it)` };
    const c = parseFlannelNetConf(text, source).value;
    return { source, ...(c ? { config: c } : { problem: `${source} is not a flannel network config` }) };
  }
  const key = `${o.etcdPrefix}/config`;
  const client = etcdctlFor(f);
  if (!client) return { source: `etcd ${key}`, problem: 'no etcd client configuration found (no kube-apiserver --etcd-servers)' };
  const h = hosts(client.host);
  if (!h.exec) return { source: `etcd ${key}`, problem: 'etcd can only be read on a live target' };
  const r = await h.exec(`ETCDCTL_API=3 etcdctl ${client.args} --command-timeout=5s get --print-value-only ${shq(key)}`, {
    timeoutMs: 20_000,
  });
  const source = `etcd ${key} (read on ${client.host} with kube-apiserver's etcd client certificate)`;
  if (r.code !== 0 || !r.stdout.trim())
    return { source, problem: r.code !== 0 ? `etcdctl failed: ${r.stderr.trim().split('\n').pop()?.slice(0, 160)}` : `${key} is empty` };
  const c = parseFlannelNetConf(r.stdout, source).value;
  return c ? { source, config: c } : { source, problem: `${key} is not a flannel network config` };
}
