// The kubelet suite: every worker is Ready under the node name the model (the seed's NODE_NAME)
// gives it and keeps renewing its node lease; a pod runs on it; and `logs`, `exec`, `port-forward`
// work — the seed warns they break when the node name and the kubelet's certificate disagree.
import { createServer, type AddressInfo } from 'node:net';
import { get } from 'node:http';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { findHost } from '../../harness/model/cluster.ts';
import type { Check, CheckContext, Outcome, Suite } from '../../harness/verify/check.ts';
import { type Kube, apiError, kube } from '../../harness/verify/kube.ts';
import { leaseAge } from '../../harness/verify/leases.ts';
import { podExec } from '../../harness/verify/pod-exec.ts';
import { BACKEND_PORT, backends, probePods, workspace } from '../../harness/verify/workspace.ts';

const workers = (c: { workers: { host: string }[] }) => c.workers.map((w) => w.host);

/** Kubelet journal lines that explain a registration problem (forbidden, unauthorized, x509). */
async function kubeletComplaints(ctx: CheckContext, host: string): Promise<string> {
  const r = await ctx.target.host(host).exec!(`journalctl -u kubelet -n 300 --no-pager -o cat 2>/dev/null | grep -Ei 'forbidden|unauthorized|x509|is not allowed|Unable to register' | tail -n 2`, { timeoutMs: 15_000 }).catch(() => undefined);
  const lines = r?.stdout.trim().split('\n').filter(Boolean).map((l) => l.slice(0, 240)) ?? [];
  return lines.length ? `; kubelet says: ${lines.join(' | ')}` : '';
}

const ready: Check = {
  id: 'kubelet.ready',
  title: 'every worker is Ready under its expected node name and renews its node lease',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    const w = findHost(ctx.cluster, host!)!;
    const k = await kube(ctx);
    let node;
    try {
      node = await k.core.readNode({ name: w.nodeName });
    } catch (e) {
      const names = (await k.core.listNode()).items.map((n) => n.metadata!.name).join(', ');
      return { problems: [`${host}: no Node named "${w.nodeName}" (${apiError(e)}; nodes: ${names || 'none'}): kubelet registers under another name or cannot reach the apiserver${await kubeletComplaints(ctx, host!)}; fix: --hostname-override=${w.nodeName} must match its certificate (CN system:node:${w.nodeName})`] };
    }
    const cond = node.status?.conditions?.find((c) => c.type === 'Ready');
    const problems: string[] = [];
    if (cond?.status !== 'True') {
      problems.push(`${host}: node ${w.nodeName} is not Ready (${cond?.status ?? 'no condition'}: ${cond?.reason ?? ''} ${cond?.message?.slice(0, 160) ?? ''})${await kubeletComplaints(ctx, host!)}; fix: journalctl -u kubelet on ${host}; kubectl describe node ${w.nodeName}`);
    }
    const lease = await leaseAge(ctx, 'kube-node-lease', w.nodeName);
    if (lease.ageS !== undefined && lease.ageS > 30) {
      problems.push(`${host}: kubelet has not renewed node lease ${w.nodeName} for ${lease.ageS} s (it renews every 10 s): the kubelet of ${w.nodeName} is gone or renamed${cond?.status === 'True' ? ' — the node still looks Ready only until the grace period ends' : ''}${await kubeletComplaints(ctx, host!)}; fix: systemctl status kubelet on ${host}, and --hostname-override=${w.nodeName}`);
    }
    const ips = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    if (!ips.includes(w.internalAddress)) problems.push(`${host}: node ${w.nodeName} reports InternalIP ${ips.join(', ') || 'none'}, the model says ${w.internalAddress}; fix: --node-ip=${w.internalAddress}`);
    return { problems, notes: [`${w.nodeName}: kubelet ${node.status?.nodeInfo?.kubeletVersion}, ${node.status?.nodeInfo?.containerRuntimeVersion}`] };
  },
};

const podsRun: Check = {
  id: 'kubelet.pods-run',
  title: 'a pod starts and runs on every worker',
  hosts: workers,
  live: true,
  async run(ctx, host) {
    if (!ctx.options.active) return { problems: [], skipped: 'starts a pod: needs --active' };
    const pod = (await probePods(ctx)).find((p) => p.host === host)!;
    return pod.problem
      ? { problems: [`${host}: ${pod.problem}; fix: journalctl -u kubelet and journalctl -u containerd on ${host}`] }
      : { problems: [], notes: [`${pod.name} ${pod.ip}`] };
  },
};

async function execEcho(k: Kube, ns: string, pod: string): Promise<void> {
  const r = await podExec(k, ns, pod, ['echo', 'hardway-exec-ok']);
  if (!r.ok) throw new Error(r.status);
  if (!r.stdout.includes('hardway-exec-ok')) throw new Error(`exec ran but printed ${JSON.stringify(r.stdout.slice(0, 80))}`);
}

/** kubectl logs in code: the demo app logs a line when it starts listening. */
async function readLogs(k: Kube, ns: string, pod: string): Promise<void> {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (d: Buffer) => (text += d.toString()));
  const ended = once(sink, 'end');
  await k.log.log(ns, pod, 'main', sink, { follow: false, tailLines: 20 }).catch((e: unknown) => {
    throw e instanceof Error && !('code' in e) ? e : new Error(apiError(e));
  });
  await Promise.race([ended, new Promise((_, rej) => setTimeout(() => rej(new Error('the log stream did not end within 15 s')), 15_000))]);
  if (!/listening/.test(text)) throw new Error(`the log holds no start-up line (got ${JSON.stringify(text.slice(0, 80))})`);
}

/** kubectl port-forward in code: a local listener whose connections are tunnelled to the pod. */
async function portForwardGet(k: Kube, ns: string, pod: string, port: number, path: string): Promise<string> {
  const server = createServer((sock) => {
    k.portForward.portForward(ns, pod, [port], sock, null, sock).catch(() => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const local = (server.address() as AddressInfo).port;
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port: local, path, timeout: 15_000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('timeout', () => req.destroy(new Error('no answer through the tunnel within 15 s')));
      req.on('error', reject);
    });
  } finally {
    server.close();
  }
}

const streaming: Check = {
  id: 'kubelet.logs-exec-port-forward',
  title: 'logs, exec and port-forward reach pods on every worker',
  hosts: workers,
  live: true,
  async run(ctx, host): Promise<Outcome> {
    if (!ctx.options.active) return { problems: [], skipped: 'needs a pod of its own: --active' };
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const pod = (await backends(ctx)).pods.find((p) => p.host === host)!;
    const probe = (await probePods(ctx)).find((p) => p.host === host)!;
    if (pod.problem || probe.problem) return { problems: [], skipped: `no running pod on ${host} to talk to (see kubelet.pods-run)` };
    const w = findHost(ctx.cluster, host!)!;
    const why = (e: unknown) => {
      const m = e instanceof Error ? e.message : apiError(e);
      return /x509|certificate|tls/i.test(m)
        ? `${m.slice(0, 200)} — the apiserver does not trust kubelet's serving certificate on ${host}: it must be signed by ca.pem and cover ${w.internalAddress} and ${w.nodeName}`
        : m.slice(0, 200);
    };
    const problems: string[] = [];
    await readLogs(k, ns, pod.name).catch((e) => problems.push(`${host}: kubectl logs ${pod.name} failed: ${why(e)}; fix: see certs.sans and journalctl -u kubelet on ${host}`));
    await execEcho(k, ns, probe.name).catch((e) => problems.push(`${host}: kubectl exec ${probe.name} failed: ${why(e)}; fix: see certs.sans, and enable_tls_streaming=false in containerd's config (the seed)`));
    await portForwardGet(k, ns, pod.name, BACKEND_PORT, '/status/').then((body) => {
      if (body.trim() !== 'ok') problems.push(`${host}: port-forward to ${pod.name}:${BACKEND_PORT} answered ${JSON.stringify(body.slice(0, 80))}, expected "ok"`);
    }, (e) => problems.push(`${host}: kubectl port-forward ${pod.name} failed: ${why(e)}; fix: socat/nsenter on ${host} and kubelet's streaming server`));
    return { problems };
  },
};

export const kubeletSuite: Suite = {
  name: 'kubelet',
  title: 'kubelet: nodes Ready under their names, pods run, logs/exec/port-forward work',
  dependsOn: ['apiserver'],
  checks: [ready, podsRun, streaming],
};
