// The kubelet suite: every worker is Ready under the node name the model (the seed's NODE_NAME)
// gives it and keeps renewing its node lease; a pod runs on it; and `logs`, `exec`, `port-forward`
// work — the seed warns they break when the node name and the kubelet's certificate disagree.
import { createServer, type AddressInfo } from 'node:net';
import { get } from 'node:http';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  type Finding,
  type HostView,
  type Suite,
  findingsOn,
  hostCheck,
  inconclusive,
  outcome,
  passed,
} from '../../harness/verify/check.ts';
import { type Kube, apiError, kube } from '../../harness/verify/kube.ts';
import { leaseAge } from '../../harness/verify/leases.ts';
import { statusHint } from '../../harness/discovery/fix-text.ts';
import { podExec } from '../../harness/verify/pod-exec.ts';
import { BACKEND_CONTAINER, BACKEND_PORT, backends, probePods, workspace } from '../../harness/verify/workspace.ts';

/** Kubelet journal lines that explain a registration problem (forbidden, unauthorized, x509). */
async function kubeletComplaints(h: HostView): Promise<string> {
  const r = await h.access.exec!(
    `${h.init.logs('kubelet', 300)} | grep -Ei 'forbidden|unauthorized|x509|is not allowed|Unable to register' | tail -n 2`,
    { timeoutMs: 15_000 },
  ).catch(() => undefined);
  const lines =
    r?.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(0, 240)) ?? [];
  return lines.length ? `; kubelet says: ${lines.join(' | ')}` : '';
}

const ready = hostCheck({
  id: 'kubelet.ready',
  title: 'every worker is Ready under its expected node name and renews its node lease',
  on: { role: 'worker' },
  needs: ['live'],
  codes: {
    'node-missing': 'no Node of the expected name',
    'node-not-ready': 'the Node is not Ready',
    'node-lease-stale': 'the kubelet does not renew its node lease',
    'node-ip': 'the Node reports another InternalIP',
  },
  async run(ctx, h) {
    const w = h.model;
    const k = await kube(ctx);
    const on = findingsOn(h.name);
    let node;
    try {
      node = await k.core.readNode({ name: w.nodeName });
    } catch (e) {
      const names = (await k.core.listNode()).items.map((n) => n.metadata!.name).join(', ');
      return outcome(
        [
          on(
            'node-missing',
            `node ${w.nodeName}`,
            `does not exist (${apiError(e)}; nodes: ${names || 'none'}): kubelet registers under another name or cannot reach the apiserver${await kubeletComplaints(h)}`,
            `--hostname-override=${w.nodeName} must match its certificate (CN system:node:${w.nodeName})`,
          ),
        ],
        1,
      );
    }
    const cond = node.status?.conditions?.find((c) => c.type === 'Ready');
    const findings: Finding[] = [];
    if (cond?.status !== 'True') {
      findings.push(
        on(
          'node-not-ready',
          `node ${w.nodeName}`,
          `is not Ready (${cond?.status ?? 'no condition'}: ${cond?.reason ?? ''} ${cond?.message?.slice(0, 160) ?? ''})${await kubeletComplaints(h)}`,
          `${h.init.logsHint('kubelet')} on ${h.name}; kubectl describe node ${w.nodeName}`,
        ),
      );
    }
    const lease = await leaseAge(ctx, 'kube-node-lease', w.nodeName);
    if (lease.ageS !== undefined && lease.ageS > 30) {
      findings.push(
        on(
          'node-lease-stale',
          `lease kube-node-lease/${w.nodeName}`,
          `not renewed for ${lease.ageS} s (kubelet renews every 10 s): the kubelet of ${w.nodeName} is gone or renamed${cond?.status === 'True' ? ' — the node still looks Ready only until the grace period ends' : ''}${await kubeletComplaints(h)}`,
          `${statusHint(h.init, 'kubelet', h.name)}, and --hostname-override=${w.nodeName}`,
        ),
      );
    }
    const ips = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    const notes = [`${w.nodeName}: kubelet ${node.status?.nodeInfo?.kubeletVersion}, ${node.status?.nodeInfo?.containerRuntimeVersion}`];
    // An unreadable lease (403: hardway's user may not read kube-node-lease) hides a stale kubelet:
    // a node that looks Ready is then only as fresh as its last status.
    const leaseUnread = lease.error ? `cannot read lease kube-node-lease/${w.nodeName}: ${lease.error}` : undefined;
    if (leaseUnread) notes.push(`${leaseUnread}: whether the kubelet still renews it is unknown`);
    if (!ips.includes(w.internalAddress))
      findings.push(
        on(
          'node-ip',
          `node ${w.nodeName}`,
          `reports InternalIP ${ips.join(', ') || 'none'}, the model says ${w.internalAddress}`,
          `--node-ip=${w.internalAddress}`,
        ),
      );
    return outcome(findings, 3, {
      notes,
      ...(leaseUnread ? { inconclusive: `${h.name}: ${leaseUnread}, so a Ready status may be stale` } : {}),
    });
  },
});

const podsRun = hostCheck({
  id: 'kubelet.pods-run',
  title: 'a pod starts and runs on every worker',
  on: { role: 'worker' },
  needs: ['live', 'active'],
  codes: { 'pod-not-running': 'the probe pod does not run on the worker' },
  timeoutMs: 90_000,
  async run(ctx, h) {
    const pod = (await probePods(ctx)).find((p) => p.host === h.name)!;
    // The pod looks Ready, but without its node's lease nobody can tell whether that is current.
    if (pod.leaseUnread) return { ...inconclusive(pod.problem!), notes: [pod.leaseUnread] };
    return pod.problem
      ? outcome(
          [
            {
              code: 'pod-not-running',
              host: h.name,
              subject: `pod ${pod.name}`,
              message: pod.problem,
              fix: `${h.init.logsHint('kubelet')} and ${h.init.logsHint('containerd')} on ${h.name}`,
            },
          ],
          1,
        )
      : passed(1, [`${pod.name} ${pod.ip}`]);
  },
});

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
  const stream = await k.log.log(ns, pod, BACKEND_CONTAINER, sink, { follow: false, tailLines: 20 }).catch((e: unknown) => {
    throw e instanceof Error && !('code' in e) ? e : new Error(apiError(e));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ended,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('the log stream did not end within 15 s')), 15_000);
      }),
    ]);
  } catch (e) {
    stream.abort(); // a stalled stream is not left open for the rest of the run
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (!/listening/.test(text)) throw new Error(`the log holds no start-up line (got ${JSON.stringify(text.slice(0, 80))})`);
}

/** kubectl port-forward in code: a local listener whose connections are tunnelled to the pod. */
async function portForwardGet(k: Kube, ns: string, pod: string, port: number, path: string): Promise<string> {
  // Everything the tunnel opens (local connections, the websockets behind them) is closed at the
  // end: server.close() alone leaves open connections, and their websockets, running.
  const open: { close?(): void; destroy?(): void }[] = [];
  const server = createServer((sock) => {
    open.push(sock);
    k.portForward
      .portForward(ns, pod, [port], sock, null, sock)
      .then((ws) => {
        if (ws && typeof ws === 'object' && 'close' in ws) open.push(ws as { close(): void });
      })
      .catch(() => sock.destroy());
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
    for (const o of open.splice(0)) o.destroy ? o.destroy() : o.close?.();
  }
}

const streaming = hostCheck({
  id: 'kubelet.logs-exec-port-forward',
  title: 'logs, exec and port-forward reach pods on every worker',
  on: { role: 'worker' },
  needs: ['live', 'active'],
  codes: {
    'logs-failed': 'kubectl logs failed',
    'exec-failed': 'kubectl exec failed',
    'port-forward-failed': 'kubectl port-forward failed',
  },
  timeoutMs: 90_000,
  async run(ctx, h) {
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    const pod = (await backends(ctx)).pods.find((p) => p.host === h.name)!;
    const probe = (await probePods(ctx)).find((p) => p.host === h.name)!;
    if (pod.problem || probe.problem) return inconclusive(`no running pod on ${h.name} to talk to (see kubelet.pods-run)`);
    const w = h.model;
    const why = (e: unknown) => {
      const m = e instanceof Error ? e.message : apiError(e);
      return /x509|certificate|tls/i.test(m)
        ? `${m.slice(0, 200)} — the apiserver does not trust kubelet's serving certificate on ${h.name}: it must be signed by ca.pem and cover ${w.internalAddress} and ${w.nodeName}`
        : m.slice(0, 200);
    };
    const on = findingsOn(h.name);
    const findings: Finding[] = [];
    await readLogs(k, ns, pod.name).catch((e) =>
      findings.push(
        on('logs-failed', `kubectl logs ${pod.name}`, `failed: ${why(e)}`, `see certs.sans and ${h.init.logsHint('kubelet')} on ${h.name}`),
      ),
    );
    await execEcho(k, ns, probe.name).catch((e) =>
      findings.push(
        on(
          'exec-failed',
          `kubectl exec ${probe.name}`,
          `failed: ${why(e)}`,
          "see certs.sans, and enable_tls_streaming=false in containerd's config (the seed)",
        ),
      ),
    );
    await portForwardGet(k, ns, pod.name, BACKEND_PORT, '/status/').then(
      (body) => {
        if (body.trim() !== 'ok')
          findings.push(
            on(
              'port-forward-failed',
              `kubectl port-forward ${pod.name}:${BACKEND_PORT}`,
              `answered ${JSON.stringify(body.slice(0, 80))}, expected "ok"`,
              "check the demo app's log",
            ),
          );
      },
      (e) =>
        findings.push(
          on(
            'port-forward-failed',
            `kubectl port-forward ${pod.name}`,
            `failed: ${why(e)}`,
            `socat/nsenter on ${h.name} and kubelet's streaming server`,
          ),
        ),
    );
    return outcome(findings, 3);
  },
});

export const kubeletSuite: Suite = {
  name: 'kubelet',
  title: 'kubelet: nodes Ready under their names, pods run, logs/exec/port-forward work',
  dependsOn: ['apiserver'],
  gate: ['kubelet.ready', 'kubelet.pods-run'],
  checks: [ready, podsRun, streaming],
  prepare: async (ctx) => ctx.options.active && Promise.all([probePods(ctx), backends(ctx)]),
};
