// The scheduler suite: the seed's debug/job.yaml — a Job runs to completion and its pods carry the
// `Scheduled` event from default-scheduler — with two pods kept apart so both workers are used,
// plus the scheduler's leader lease (read-only).
import type { V1Job } from '@kubernetes/client-node';
import { TOOLBOX_IMAGE } from '../../harness/images/pod-images.ts';
import type { Check, CheckContext, Suite } from '../../harness/verify/check.ts';
import { apiError, apiStatus, kube, poll } from '../../harness/verify/kube.ts';
import { leaderLeaseCheck } from '../../harness/verify/leases.ts';
import { OWNER_LABEL, podProblem, workspace } from '../../harness/verify/workspace.ts';

const onMaster = (c: { masters: { host: string }[] }) => [c.masters[0]!.host];
const FIX = (host: string) => `fix: systemctl status kube-scheduler and journalctl -u kube-scheduler -e on ${host}`;
const JOB = 'app';

interface JobRun {
  complete: boolean;
  pods: { name: string; node?: string; scheduledBy?: string; scheduledMsg?: string; failedScheduling?: string; phase?: string; problem?: string }[];
  error?: string;
}

function jobSpec(workers: number): V1Job {
  return {
    metadata: { name: JOB, labels: { [OWNER_LABEL]: 'hardway' } },
    spec: {
      completions: workers,
      parallelism: workers,
      backoffLimit: 2,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels: { app: 'hardway-scheduler-job', [OWNER_LABEL]: 'hardway' } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          // One pod per worker: the scheduler has to place them on different nodes.
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'hardway-scheduler-job' } } }] } },
          containers: [{ name: 'app', image: TOOLBOX_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo scheduled on $(hostname); sleep 2'] }],
        },
      },
    },
  };
}

function runJob(ctx: CheckContext): Promise<JobRun> {
  return ctx.memo('scheduler:job', async () => {
    const k = await kube(ctx);
    const ns = await workspace(ctx);
    try {
      await k.batch.createNamespacedJob({ namespace: ns, body: jobSpec(ctx.cluster.workers.length) });
    } catch (e) {
      // 409: another Playwright worker created it for its own check of the same Job.
      if (apiStatus(e) !== 409) return { complete: false, pods: [], error: `cannot create Job ${ns}/${JOB}: ${apiError(e)}` };
    }
    // Done when the Job completes; given up early when a pod still has no node after 25 s
    // (scheduled pods complete in seconds: waiting the full minute would tell nothing more).
    const t0 = Date.now();
    const done = await poll(60_000, async () => {
      const j = await k.batch.readNamespacedJob({ namespace: ns, name: JOB });
      if (j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) return true;
      if (Date.now() - t0 > 25_000) {
        const pending = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${JOB}` })).items;
        if (pending.length === 0 || pending.some((p) => !p.spec?.nodeName)) return false;
      }
      return undefined;
    });
    const pods = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${JOB}` })).items;
    const events = (await k.core.listNamespacedEvent({ namespace: ns })).items;
    return {
      complete: done === true,
      pods: await Promise.all(pods.map(async (p) => {
        const name = p.metadata!.name!;
        const sched = events.find((e) => e.involvedObject?.name === name && e.reason === 'Scheduled');
        const failed = events.filter((e) => e.involvedObject?.name === name && e.reason === 'FailedScheduling').pop();
        return {
          name,
          ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
          ...(sched ? { scheduledBy: sched.source?.component ?? sched.reportingComponent ?? '', scheduledMsg: sched.message ?? '' } : {}),
          ...(!sched && failed ? { failedScheduling: failed.message ?? '' } : {}),
          ...(p.status?.phase ? { phase: p.status.phase } : {}),
          ...(p.status?.phase !== 'Succeeded' ? { problem: await podProblem(k, ns, name) } : {}),
        };
      })),
    };
  });
}

const job: Check = {
  id: 'scheduler.job',
  title: 'a Job completes and its pods carry the Scheduled event from default-scheduler',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    if (!ctx.options.active) return { problems: [], skipped: 'creates a Job: needs --active' };
    const r = await runJob(ctx);
    if (r.error) return { problems: [`${host}: ${r.error}`] };
    if (r.pods.length === 0) return { problems: [`${host}: Job ${JOB} created no pod within 60 s: the job controller of kube-controller-manager is not running (see controller-manager.leader)`] };
    const problems: string[] = [];
    for (const p of r.pods) {
      // The scheduler ran but found no node: the nodes are the problem, not the scheduler.
      if (!p.scheduledBy && p.failedScheduling) problems.push(`${host}: pod ${p.name} cannot be scheduled: ${p.failedScheduling.slice(0, 240)}; fix: kubectl describe nodes (NotReady, taints, cordons)`);
      else if (!p.scheduledBy) problems.push(`${host}: pod ${p.name} has no Scheduled event (${p.problem ?? p.phase}): kube-scheduler is not scheduling; ${FIX(host!)}`);
      else if (p.scheduledBy !== 'default-scheduler') problems.push(`${host}: pod ${p.name} was scheduled by ${p.scheduledBy}, not default-scheduler`);
    }
    if (!r.complete && problems.length === 0) problems.push(`${host}: Job ${JOB} did not complete within 60 s: ${r.pods.map((p) => `${p.name}: ${p.problem ?? p.phase}`).join('; ')}`);
    return { problems, notes: r.pods.filter((p) => p.scheduledMsg).map((p) => p.scheduledMsg!) };
  },
};

const spread: Check = {
  id: 'scheduler.spread',
  title: 'pods land on every worker',
  hosts: onMaster,
  live: true,
  async run(ctx, host) {
    if (!ctx.options.active) return { problems: [], skipped: 'creates a Job: needs --active' };
    const r = await runJob(ctx);
    if (r.error || r.pods.length === 0) return { problems: [], skipped: 'the Job did not produce pods (see scheduler.job)' };
    const used = new Set(r.pods.map((p) => p.node).filter(Boolean));
    const unused = ctx.cluster.workers.filter((w) => !used.has(w.nodeName));
    if (unused.length === 0) return { problems: [] };
    if (r.pods.every((p) => !p.node)) return { problems: [`${host}: no pod was placed on any node; ${FIX(host!)}`] };
    return { problems: [`${host}: no pod of the Job was placed on ${unused.map((w) => w.nodeName).join(', ')} (pending: ${r.pods.filter((p) => !p.node).map((p) => p.problem).join('; ')}): the node is NotReady, cordoned or tainted; fix: kubectl describe node ${unused[0]!.nodeName}`] };
  },
};

const leader = leaderLeaseCheck('scheduler.leader', 'kube-scheduler', FIX, ' (the seed: it "stopped by itself" until systemd restarted it)');

export const schedulerSuite: Suite = {
  name: 'scheduler',
  title: 'kube-scheduler: a Job is scheduled and completes, pods spread over the workers',
  dependsOn: ['controller-manager'],
  checks: [job, spread, leader],
};
