// The etcd suite: the store under the apiserver and flannel. Health of every member, the member
// list, flannel's network config and one subnet lease per worker — the seed's
// `etcdctl ls /coreos.com/network/subnets/`, with the v3 API flannel speaks today.
import type { Cluster } from '../../harness/model/cluster.ts';
import { CA_CERT, K8S_DIR } from '../../harness/pki/plan.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { cidrContains, parseCidr } from '../../harness/model/net.ts';

const etcdctl = (endpoints: string) =>
  `ETCDCTL_API=3 etcdctl --endpoints=${endpoints} --cacert=${CA_CERT} --cert=${K8S_DIR}/kubernetes.pem --key=${K8S_DIR}/kubernetes-key.pem --command-timeout=5s`;

const master = (c: Cluster) => c.masters[0]!.host;
const onMaster = (c: Cluster) => [master(c)];
const FIX_ETCD = (host: string) => `fix: systemctl status etcd and journalctl -u etcd -e on ${host}`;

async function run(ctx: CheckContext, cmd: string): Promise<{ code: number; out: string; err: string }> {
  const r = await ctx.target.host(master(ctx.cluster)).exec!(cmd, { timeoutMs: 30_000 });
  return { code: r.code, out: r.stdout, err: r.stderr.trim().split('\n').slice(-1)[0] ?? '' };
}

const health: Check = {
  id: 'etcd.health',
  title: 'every etcd member answers its health check',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    const endpoints = ctx.cluster.masters.map((m) => `https://${m.internalAddress}:2379`);
    const r = await run(ctx, `${etcdctl(endpoints.join(','))} endpoint health 2>&1`);
    const unhealthy = endpoints.filter((e) => !new RegExp(`${e.replace(/[.]/g, '\\.')} is healthy`).test(r.out));
    return {
      problems: unhealthy.map((e) => {
        const line = r.out.split('\n').find((l) => l.includes(e))?.trim() ?? r.err;
        return `${host}: etcd member ${e} is not healthy (${line.slice(0, 200) || 'no answer'}); ${FIX_ETCD(e.replace(/^https:\/\/|:2379$/g, ''))}`;
      }),
    };
  },
};

const members: Check = {
  id: 'etcd.members',
  title: 'the member list holds every master, all started',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    const r = await run(ctx, `${etcdctl('https://127.0.0.1:2379')} member list -w simple 2>&1`);
    if (r.code !== 0) return { problems: [`${host}: etcdctl member list failed: ${r.err || r.out.trim().slice(0, 200)}; ${FIX_ETCD(host!)}`] };
    // id, status, name, peer addrs, client addrs, is learner
    const rows = r.out.trim().split('\n').map((l) => l.split(',').map((x) => x.trim()));
    const problems: string[] = [];
    for (const m of ctx.cluster.masters) {
      const row = rows.find((x) => x[2] === m.host);
      if (!row) problems.push(`${host}: etcd has no member named ${m.host} (members: ${rows.map((x) => x[2]).join(', ')}); fix: check --name and --initial-cluster in etcd.service`);
      else if (row[1] !== 'started') problems.push(`${host}: etcd member ${m.host} is ${row[1]}; ${FIX_ETCD(m.host)}`);
    }
    return { problems };
  },
};

interface FlannelConfig {
  Network?: string;
  SubnetLen?: number;
  Backend?: { Type?: string; VNI?: number };
}

const flannelConfig: Check = {
  id: 'etcd.flannel-config',
  title: 'flannel\'s network config is in etcd and matches the model',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    const key = `${ctx.cluster.flannel.etcdPrefix}/config`;
    const r = await run(ctx, `${etcdctl('https://127.0.0.1:2379')} get --print-value-only ${key} 2>&1`);
    if (r.code !== 0) return { problems: [`${host}: cannot read ${key} from etcd: ${r.err}; ${FIX_ETCD(host!)}`] };
    if (!r.out.trim()) return { problems: [`${host}: ${key} is missing from etcd: flanneld cannot allocate subnets; fix: put the network config there (the seed's set-flannel-config.sh; hardway's installer writes ${K8S_DIR}/flannel/net-conf.json)`] };
    let cfg: FlannelConfig;
    try {
      cfg = JSON.parse(r.out) as FlannelConfig;
    } catch {
      return { problems: [`${host}: ${key} is not JSON: ${r.out.trim().slice(0, 120)}; fix: rewrite it`] };
    }
    const c = ctx.cluster;
    const problems: string[] = [];
    if (cfg.Network !== c.podCIDR) problems.push(`${host}: ${key} has Network ${cfg.Network}, the model's podCIDR is ${c.podCIDR}; fix: correct one of them (changing the network means re-creating every flannel lease)`);
    if ((cfg.SubnetLen ?? 24) !== c.podSubnetLength) problems.push(`${host}: ${key} has SubnetLen ${cfg.SubnetLen}, the model says ${c.podSubnetLength}`);
    if ((cfg.Backend?.Type ?? 'udp') !== c.flannel.backend) {
      problems.push(`${host}: ${key} has backend ${cfg.Backend?.Type}, the model says ${c.flannel.backend}; fix: the seed — delete the config, write the new one and restart flanneld on every worker`);
    }
    return { problems };
  },
};

interface Lease {
  subnet: string;
  publicIP?: string;
  backend?: string;
}

const leases: Check = {
  id: 'etcd.subnet-leases',
  title: 'one flannel subnet lease per worker, inside the pod network',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    const prefix = `${ctx.cluster.flannel.etcdPrefix}/subnets/`;
    const r = await run(ctx, `${etcdctl('https://127.0.0.1:2379')} get --prefix ${prefix} -w json 2>&1`);
    if (r.code !== 0) return { problems: [`${host}: cannot list ${prefix}: ${r.err}; ${FIX_ETCD(host!)}`] };
    const kvs = (JSON.parse(r.out) as { kvs?: { key: string; value: string }[] }).kvs ?? [];
    const list: Lease[] = kvs.map((kv) => {
      const key = Buffer.from(kv.key, 'base64').toString();
      const v = JSON.parse(Buffer.from(kv.value, 'base64').toString()) as { PublicIP?: string; BackendType?: string };
      return { subnet: key.slice(prefix.length).replace('-', '/'), ...(v.PublicIP ? { publicIP: v.PublicIP } : {}), ...(v.BackendType ? { backend: v.BackendType } : {}) };
    });
    const pod = parseCidr(ctx.cluster.podCIDR)!;
    const problems: string[] = [];
    for (const w of ctx.cluster.workers) {
      const mine = list.filter((l) => l.publicIP === w.address);
      if (mine.length === 0) problems.push(`${host}: no flannel lease for ${w.host} (${w.address}) under ${prefix}: flanneld there is not running or cannot reach etcd; fix: systemctl status flanneld and journalctl -u flanneld on ${w.host}`);
      else if (mine.length > 1) problems.push(`${host}: ${w.host} holds ${mine.length} leases (${mine.map((l) => l.subnet).join(', ')}); fix: delete the stale ones from etcd and restart flanneld on ${w.host}`);
    }
    for (const l of list) {
      const c = parseCidr(l.subnet);
      if (!c || !cidrContains(pod, l.subnet.split('/')[0]!) || c.prefix !== ctx.cluster.podSubnetLength) {
        problems.push(`${host}: lease ${l.subnet} (${l.publicIP}) is not a /${ctx.cluster.podSubnetLength} of ${ctx.cluster.podCIDR}: a leftover of another network config; fix: delete it from etcd`);
      }
    }
    return { problems };
  },
};

export const etcdSuite: Suite = {
  name: 'etcd',
  title: 'etcd: member health, members, flannel network config and subnet leases',
  dependsOn: [],
  checks: [health, members, flannelConfig, leases],
};
