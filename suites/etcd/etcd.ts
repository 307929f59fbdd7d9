// The etcd suite: the store under the apiserver (and under flannel, where flanneld keeps its network
// in etcd). Every member's health and the member list, asked as kube-apiserver asks: with its
// --etcd-servers and --etcd-cafile/certfile/keyfile (plain http when it has none), on its host;
// flannel's network config and one subnet lease per flanneld under flanneld's -etcd-prefix (the
// seed's `etcdctl ls /coreos.com/network/subnets/`, with the v3 API flannel speaks today).
import { type ClusterFacts, type ComponentFacts, componentsOf } from '../../harness/discovery/facts.ts';
import { commandFile, statusHint } from '../../harness/discovery/fix-text.ts';
import { type EtcdClient, etcdctlFor } from '../../harness/discovery/flannel-store.ts';
import { parseFlannelNetConf } from '../../harness/discovery/parse/flannel.ts';
import { type KeyValue, flannelLeases, parseEndpointHealth, parseGet, parseMemberList } from '../../harness/hostio/etcdctl.ts';
import { cidrContains, isIpAddress, parseCidr } from '../../harness/model/net.ts';
import {
  type CheckContext,
  type Finding,
  type Outcome,
  type Suite,
  clusterCheck,
  hostCheck,
  inconclusive,
  notApplicable,
  outcome,
  passed,
} from '../../harness/verify/check.ts';

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const ETCDCTL = 'ETCDCTL_API=3 etcdctl';
const lastLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => !/^\{"level":/.test(l))
    .pop()
    ?.trim()
    .slice(0, 200) ?? '';

export interface ClientUrl {
  url: string;
  host: string;
  port: number;
}

export function clientUrl(u: string): ClientUrl | undefined {
  try {
    const x = new URL(u);
    return { url: u, host: x.hostname.replace(/^\[|\]$/g, ''), port: Number(x.port || (x.protocol === 'https:' ? 443 : 80)) };
  } catch {
    return undefined;
  }
}

export const isLoopback = (h: string) => /^(127\.|localhost$|::1$)/.test(h);
const isWildcard = (h: string) => h === '' || h === '0.0.0.0' || h === '::';

/** etcd's own defaults (etcd 3.5 embed.NewConfig). */
const DEFAULT_CLIENT_URL = 'http://localhost:2379';

/** A member's client URLs: what it advertises and what it listens on. */
export function memberClientUrls(c: ComponentFacts): { advertise: ClientUrl[]; listen: ClientUrl[] } {
  const list = (flag: string) => {
    const v = c.flags.list(flag);
    return (v.length ? v : [DEFAULT_CLIENT_URL]).map(clientUrl).filter((u): u is ClientUrl => !!u);
  };
  return { advertise: list('advertise-client-urls'), listen: list('listen-client-urls') };
}

/** The name the member has in the member list: --name, etcd's default "default". */
export const memberName = (c: ComponentFacts) => c.flags.get('name') ?? 'default';

export interface MemberEndpoint {
  endpoint?: string;
  /** The endpoint is one of kube-apiserver's --etcd-servers. */
  usedByClient: boolean;
  why?: string;
}

/**
 * The endpoint to ask about one member from the client's host: the client endpoint that reaches it
 * (same port, and its address, a wildcard listener on one of `addresses`, or loopback when etcd
 * runs on the client's host), else a client URL it advertises that the client's host can reach.
 */
export function memberEndpoint(
  member: ComponentFacts,
  addresses: readonly string[],
  client: Pick<EtcdClient, 'host' | 'endpoints'>,
): MemberEndpoint {
  const local = member.host === client.host;
  const { advertise, listen } = memberClientUrls(member);
  const mine = [...advertise, ...listen];
  const hostMatches = (m: ClientUrl, e: ClientUrl) =>
    isLoopback(e.host)
      ? local && (isLoopback(m.host) || isWildcard(m.host))
      : m.host === e.host || (isWildcard(m.host) && addresses.includes(e.host));
  const reaches = (e: ClientUrl) => mine.some((m) => m.port === e.port && hostMatches(m, e));
  const used = client.endpoints.find((e) => {
    const u = clientUrl(e);
    return !!u && reaches(u);
  });
  if (used) return { endpoint: used, usedByClient: true };
  const reachable = advertise.find((a) => !isWildcard(a.host) && (local || !isLoopback(a.host)));
  if (reachable) return { endpoint: reachable.url, usedByClient: false };
  const urls = advertise.map((a) => a.url).join(', ');
  return { usedByClient: false, why: `etcd on ${member.host} advertises ${urls} only, which ${client.host} cannot reach` };
}

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function run(ctx: CheckContext, host: string, cmd: string, timeoutMs = 30_000): Promise<Ran> {
  const r = await ctx.host(host).access.exec!(cmd, { timeoutMs });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const noEtcdctl = (host: string, client: EtcdClient) => `no etcdctl on ${host}: cannot ask etcd with ${client.source}`;

/** What `etcdctl ... -w json` could not do, for a finding's message. */
const failure = (r: Ran) => `etcdctl failed (exit ${r.code}): ${lastLine(r.err) || lastLine(r.out) || 'no output'}`;
const TIMEOUTS = '--dial-timeout=3s --command-timeout=5s';

const health = hostCheck({
  id: 'etcd.health',
  title: 'every etcd member answers its health check, asked as kube-apiserver asks it',
  on: { component: 'etcd' },
  needs: ['live'],
  codes: {
    'member-unhealthy': 'the member does not answer its health check',
    'etcdctl-failed': "etcdctl could not ask the member with kube-apiserver's etcd client configuration",
  },
  async run(ctx, h) {
    const c = h.facts.components.find((x) => x.kind === 'etcd')!;
    const client = etcdctlFor(ctx.facts);
    if (!client) {
      return inconclusive(`no etcd client configuration: no kube-apiserver --etcd-servers, etcd on ${h.name} no --advertise-client-urls`);
    }
    const ep = memberEndpoint(c, [h.model.address, h.model.internalAddress], client);
    if (!ep.endpoint) return inconclusive(ep.why!);
    const name = memberName(c);
    const r = await run(ctx, client.host, `${ETCDCTL} --endpoints=${shq(ep.endpoint)} ${client.tls} ${TIMEOUTS} endpoint health -w json`);
    if (r.code === 127) return inconclusive(noEtcdctl(client.host, client));
    const notes = [`${ep.endpoint} asked from ${client.host} with ${client.source}`];
    if (!ep.usedByClient) notes.push(`${ep.endpoint} is not one of the client's endpoints (${client.endpoints.join(', ')})`);
    const answer = parseEndpointHealth(r.out).value;
    const entry = answer.find((e) => e.endpoint === ep.endpoint) ?? answer[0];
    const subject = `etcd member ${name} (${ep.endpoint})`;
    if (entry?.health) return passed(1, notes);
    if (entry) {
      const message = `is not healthy (${entry.error?.slice(0, 200) || 'no answer'})`;
      return outcome([{ code: 'member-unhealthy', host: h.name, subject, message, fix: statusHint(h.init, c.unit, h.name) }], 1, { notes });
    }
    return outcome(
      [
        {
          code: 'etcdctl-failed',
          host: client.host,
          subject,
          message: `cannot be asked with ${client.source}: ${failure(r)}`,
          fix: `check the endpoint and the TLS files that configuration names on ${client.host}, and ${statusHint(h.init, c.unit, h.name)}`,
        },
      ],
      1,
      { notes },
    );
  },
});

const members = clusterCheck({
  id: 'etcd.members',
  title: 'the member list holds every etcd the hosts run (by its --name), all started',
  needs: ['live'],
  codes: {
    'member-list-failed': 'etcdctl member list failed',
    'member-missing': 'an etcd a host runs is not a member',
    'member-not-started': 'a member is not started',
  },
  async run(ctx) {
    const etcds = componentsOf(ctx.facts, 'etcd');
    const client = etcdctlFor(ctx.facts);
    if (!client) return notApplicable('no host runs etcd and kube-apiserver has no --etcd-servers');
    const r = await run(ctx, client.host, `${ETCDCTL} ${client.args} ${TIMEOUTS} member list -w json`);
    if (r.code === 127) return inconclusive(noEtcdctl(client.host, client));
    const parsed = parseMemberList(r.out);
    const local = etcds.find((e) => e.host === client.host) ?? etcds[0];
    if (r.code !== 0 || parsed.problems.length) {
      const fix = local ? statusHint(ctx.host(local.host).init, local.unit, local.host) : `check ${client.source}`;
      const message = `failed with ${client.source}: ${failure(r)}`;
      return outcome([{ code: 'member-list-failed', host: client.host, subject: 'etcdctl member list', message, fix }], 1);
    }
    const list = parsed.value;
    const findings: Finding[] = [];
    for (const c of etcds) {
      const name = memberName(c);
      const init = ctx.host(c.host).init;
      const subject = `etcd member ${name}`;
      const m = list.find((x) => x.name === name);
      if (m) continue;
      const peers = c.flags.list('initial-advertise-peer-urls');
      const waiting = list.find((x) => !x.started && x.peerURLs.some((p) => peers.includes(p)));
      if (waiting) {
        findings.push({
          code: 'member-not-started',
          host: c.host,
          subject,
          message: `was added (peer URLs ${waiting.peerURLs.join(', ')}) but never started`,
          fix: `${init.start(c.unit)} on ${c.host}, then ${statusHint(init, c.unit, c.host)}`,
        });
        continue;
      }
      const names = list.map((x) => x.name || `(unstarted ${x.peerURLs.join(',')})`).join(', ');
      findings.push({
        code: 'member-missing',
        host: c.host,
        subject,
        message:
          `runs on ${c.host} (--name ${name}${c.flags.has('name') ? `, ${c.source('name')}` : ": etcd's default"}) ` +
          `but is not in the member list (members: ${names})`,
        fix:
          `check --name and --initial-cluster in ${commandFile(c)} on ${c.host}; a new member is added from a running one ` +
          `(etcdctl member add ${name} --peer-urls=${peers[0] ?? '<its peer URL>'}) and started with --initial-cluster-state=existing`,
      });
    }
    const known = new Set(etcds.map(memberName));
    const others = list
      .filter((m) => m.name && !known.has(m.name))
      .map((m) => `member ${m.name} (${m.peerURLs.join(', ')}) runs on no host of the target`);
    const learners = list.filter((m) => m.isLearner).map((m) => `member ${m.name} is a learner (not voting)`);
    const notes = [`members: ${list.map((m) => m.name || '(unstarted)').join(', ')}`, ...others, ...learners];
    return outcome(findings, list.length, { notes });
  },
});

// ---------------------------------------------------------------------------------------------
// flannel's keys

interface FlannelInEtcd {
  prefix: string;
  flanneld: ComponentFacts[];
  others: ComponentFacts[];
}

/** Where flanneld keeps its network in etcd, or why the flannel checks do not apply. */
export function flannelInEtcd(f: ClusterFacts): FlannelInEtcd | { notApplicable: string } {
  const all = componentsOf(f, 'flanneld').filter((c) => c.flannel);
  if (!all.length) return { notApplicable: 'flanneld does not run on any host: its network config and leases are not in etcd' };
  const inEtcd = all.filter((c) => !c.flannel!.kubeSubnetMgr);
  if (!inEtcd.length) {
    const c = all[0]!;
    const reads = `it reads ${c.flannel!.netConfPath} and leases node podCIDRs, nothing in etcd`;
    return { notApplicable: `flanneld uses -kube-subnet-mgr (${c.source('kube-subnet-mgr')}): ${reads}` };
  }
  const prefixOf = (c: ComponentFacts) => c.flannel!.etcdPrefix.replace(/\/+$/, '');
  const prefix = prefixOf(inEtcd[0]!);
  return { prefix, flanneld: inEtcd.filter((c) => prefixOf(c) === prefix), others: inEtcd.filter((c) => prefixOf(c) !== prefix) };
}

interface FlannelKeys {
  client?: EtcdClient;
  kvs?: KeyValue[];
  error?: string;
}

/** Everything under flanneld's prefix, read once for both flannel checks. */
function flannelKeys(ctx: CheckContext, prefix: string): Promise<FlannelKeys> {
  return ctx.memo(`etcd:flannel:${prefix}`, async () => {
    const client = etcdctlFor(ctx.facts);
    if (!client) return { error: 'no etcd client configuration (no kube-apiserver --etcd-servers, no etcd on the hosts)' };
    const r = await run(ctx, client.host, `${ETCDCTL} ${client.args} ${TIMEOUTS} get --prefix ${shq(`${prefix}/`)} -w json`);
    if (r.code === 127) return { client, error: noEtcdctl(client.host, client) };
    const p = parseGet(r.out);
    if (r.code !== 0 || p.problems.length) return { client, error: `cannot be read with ${client.source}: ${failure(r)}` };
    return { client, kvs: p.value };
  });
}

function unreadable(ctx: CheckContext, subject: string, k: FlannelKeys): Outcome {
  const host = k.client?.host;
  const etcd = componentsOf(ctx.facts, 'etcd').find((e) => e.host === host) ?? componentsOf(ctx.facts, 'etcd')[0];
  const fix = etcd ? statusHint(ctx.host(etcd.host).init, etcd.unit, etcd.host) : 'see etcd.health';
  return outcome([{ code: 'etcd-unreadable', ...(host ? { host } : {}), subject, message: k.error!, fix }], 0);
}

/** What other components say the pod network is, with where they say it. */
function podCidrClaims(f: ClusterFacts): { cidr: string; source: string }[] {
  const kcm = componentsOf(f, 'kube-controller-manager')
    .filter((c) => c.flags.get('cluster-cidr'))
    .map((c) => ({
      cidr: c.flags.list('cluster-cidr')[0]!,
      source: `kube-controller-manager --cluster-cidr (${c.source('cluster-cidr')})`,
    }));
  const proxy = componentsOf(f, 'kube-proxy')
    .filter((c) => c.kubeProxy?.clusterCIDR)
    .map((c) => {
      const file = c.kubeProxy!.configFile;
      const where = file ? `${c.host}:${file}` : c.source('cluster-cidr');
      return { cidr: c.kubeProxy!.clusterCIDR!.split(',')[0]!, source: `kube-proxy clusterCIDR (${where})` };
    });
  // One claim per component kind and network (every kube-proxy says the same).
  const seen = new Set<string>();
  return [...kcm, ...proxy].filter((x) => {
    const key = `${x.source.split(' ')[0]} ${x.cidr}`;
    return !seen.has(key) && !!seen.add(key);
  });
}

const flannelConfig = clusterCheck({
  id: 'etcd.flannel-config',
  title: "flannel's network config is in etcd under flanneld's -etcd-prefix and agrees with the cluster's pod network",
  needs: ['live'],
  codes: {
    'etcd-unreadable': 'etcd cannot be read',
    'flannel-config-missing': "flannel's network config is not in etcd",
    'flannel-config-invalid': "flannel's network config is not one flanneld accepts",
    'flannel-config-mismatch': "flannel's network differs from the pod network other components are given",
  },
  async run(ctx) {
    const where = flannelInEtcd(ctx.facts);
    if ('notApplicable' in where) return notApplicable(where.notApplicable);
    const key = `${where.prefix}/config`;
    const k = await flannelKeys(ctx, where.prefix);
    if (!k.kvs) return unreadable(ctx, `etcd ${key}`, k);
    const host = k.client!.host;
    const f = (code: string, message: string, fix: string): Finding => ({ code, host, subject: `etcd ${key}`, message, fix });
    const claims = podCidrClaims(ctx.facts);
    const kv = k.kvs.find((x) => x.key === key);
    const by = where.flanneld[0]!;
    const from = by.flags.has('etcd-prefix') ? by.source('etcd-prefix') : "flanneld's default -etcd-prefix";
    const notes = [`prefix ${where.prefix} from ${from}`];
    if (!kv) {
      const network = claims[0]?.cidr ?? '<the pod network>';
      const installer = ctx.target.ownedByHardway ? "; hardway's installer writes it from the lab's model" : '';
      const put = `etcdctl put ${key} '{"Network":"${network}","Backend":{"Type":"vxlan"}}'`;
      const fix = `put it there from ${host}: ${put} (the seed's set-flannel-config.sh)${installer}`;
      return outcome([f('flannel-config-missing', 'is missing: flanneld cannot allocate subnets', fix)], 1, { notes });
    }
    const parsed = parseFlannelNetConf(kv.value, `etcd ${key}`);
    const cfg = parsed.value;
    if (!cfg || parsed.problems.length) {
      const why = parsed.problems.map((p) => p.message).join('; ') || 'not a flannel network config';
      const fix = `rewrite it with etcdctl put ${key} (flanneld logs why it refuses it)`;
      return outcome([f('flannel-config-invalid', `${why}: ${kv.value.trim().slice(0, 120)}`, fix)], 1, { notes });
    }
    notes.push(`Network ${cfg.Network}, SubnetLen ${cfg.SubnetLen}, backend ${cfg.Backend.Type}`);
    const findings = claims
      .filter((c) => c.cidr !== cfg.Network)
      .map((c) =>
        f(
          'flannel-config-mismatch',
          `has Network ${cfg.Network}, while ${c.source} is ${c.cidr}: pods get addresses the other component does not count as pod traffic`,
          'make them one network: change the other setting, or the config here ' +
            '(then delete every lease under subnets/ and restart flanneld on every host)',
        ),
      );
    if (!claims.length) notes.push('no kube-controller-manager --cluster-cidr or kube-proxy clusterCIDR to compare the Network with');
    const others = where.others.map((c) => `${c.host} (prefix ${c.flannel!.etcdPrefix})`);
    if (others.length) notes.push(`flanneld on ${others.join(', ')} uses another prefix`);
    return outcome(findings, 1 + claims.length, { notes });
  },
});

/** The public IPs a flanneld registers its lease under: -public-ip, else -iface addresses, else the host's. */
function leaseAddresses(c: ComponentFacts, hostAddresses: string[]): string[] {
  const o = c.flannel!;
  if (o.publicIP) return [o.publicIP];
  const ifaceIps = o.iface.filter(isIpAddress);
  return [...new Set(ifaceIps.length ? ifaceIps : hostAddresses)];
}

const leases = clusterCheck({
  id: 'etcd.subnet-leases',
  title: "one flannel subnet lease per flanneld, inside flannel's network",
  needs: ['live'],
  codes: {
    'etcd-unreadable': 'etcd cannot be read',
    'lease-missing': 'a flanneld holds no lease',
    'lease-duplicate': 'a flanneld holds several leases',
    'lease-stray': "a lease outside flannel's network",
  },
  async run(ctx) {
    const where = flannelInEtcd(ctx.facts);
    if ('notApplicable' in where) return notApplicable(where.notApplicable);
    const prefix = `${where.prefix}/subnets/`;
    const k = await flannelKeys(ctx, where.prefix);
    if (!k.kvs) return unreadable(ctx, `etcd ${prefix}`, k);
    const host = k.client!.host;
    const list = flannelLeases(k.kvs, where.prefix);
    const cfgKv = k.kvs.find((x) => x.key === `${where.prefix}/config`);
    const cfg = cfgKv ? parseFlannelNetConf(cfgKv.value, 'config').value : undefined;
    const findings: Finding[] = [];
    const notes: string[] = list.problems.map((p) => `${p.file}: ${p.message}`);
    const subject = `etcd ${prefix}`;
    const addressesOf = (c: ComponentFacts) => leaseAddresses(c, [ctx.host(c.host).model.internalAddress, ctx.host(c.host).model.address]);
    for (const c of where.flanneld) {
      const init = ctx.host(c.host).init;
      const ips = addressesOf(c);
      const mine = list.value.filter((l) => l.publicIP && ips.includes(l.publicIP));
      if (mine.length === 0) {
        const message = `has no flannel lease for ${c.host} (${ips.join(', ')}): flanneld there is not running or cannot reach etcd`;
        findings.push({ code: 'lease-missing', host, subject, message, fix: statusHint(init, c.unit, c.host) });
      } else if (mine.length > 1) {
        const message = `${c.host} holds ${mine.length} leases (${mine.map((l) => l.subnet).join(', ')})`;
        const fix = `delete the stale ones from etcd (etcdctl del ${prefix}<subnet>) and ${init.restart(c.unit)} on ${c.host}`;
        findings.push({ code: 'lease-duplicate', host, subject, message, fix });
      }
    }
    const net = cfg?.Network ? parseCidr(cfg.Network) : undefined;
    if (net && cfg) {
      for (const l of list.value) {
        const s = parseCidr(l.subnet);
        if (s && cidrContains(net, l.subnet.split('/')[0]!) && s.prefix === cfg.SubnetLen) continue;
        const key = `${prefix}${l.subnet.replace('/', '-')}`;
        const message =
          `lease ${l.subnet} (${l.publicIP ?? 'no public IP'}) is not a /${cfg.SubnetLen} ` +
          `of flannel's Network ${cfg.Network}: a leftover of another network config`;
        findings.push({ code: 'lease-stray', host, subject: `etcd ${key}`, message, fix: `delete it (etcdctl del ${key})` });
      }
    } else notes.push('no valid network config to hold the leases against (see etcd.flannel-config)');
    const known = new Set(where.flanneld.flatMap(addressesOf));
    const foreign = list.value.filter((l) => !l.publicIP || !known.has(l.publicIP)).map((l) => `${l.subnet} (${l.publicIP ?? '?'})`);
    if (foreign.length) notes.push(`leases of no flanneld the target runs: ${foreign.join(', ')}`);
    return outcome(findings, where.flanneld.length + list.value.length, { notes });
  },
});

export const etcdSuite: Suite = {
  name: 'etcd',
  title: 'etcd: member health, members, flannel network config and subnet leases',
  dependsOn: [],
  gate: ['etcd.health'],
  checks: [health, members, flannelConfig, leases],
};
