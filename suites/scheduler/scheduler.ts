// The scheduler suite: the seed's debug/job.yaml — a Job runs to completion and its pods carry the
// `Scheduled` event from default-scheduler — with one pod per node the kubelets register (kept
// apart, so every worker is used), plus the scheduler's leader lease as it is configured.
import type { V1Job } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { type ComponentFacts, componentsOf } from '../../harness/discovery/facts.ts';
import { statusHint } from '../../harness/discovery/fix-text.ts';
import type { Host } from '../../harness/model/cluster.ts';
import { workloadImages } from '../../harness/verify/images.ts';
import { type CheckContext, type Finding, type Suite, clusterCheck, outcome, passed } from '../../harness/verify/check.ts';
import { apiError, apiStatus, kube, poll } from '../../harness/verify/kube.ts';
import { type ConfiguredLease, leaderGoneWatch, leaderLeaseCheck } from '../../harness/verify/leases.ts';
import { OWNER_LABEL, podProblem, workspace } from '../../harness/verify/workspace.ts';

/** Where to look when pods are not scheduled, from the facts. */
function fixScheduler(ctx: CheckContext): string {
  const cs = componentsOf(ctx.facts, 'kube-scheduler');
  if (!cs.length) return 'no host of the target runs kube-scheduler as a service: install and start it on the masters';
  return cs.map((c) => statusHint(ctx.host(c.host).init, c.unit, c.host)).join('; ');
}

/** The nodes the kubelets register as (the facts' model), else the given model's workers. */
const workersOf = (ctx: CheckContext): Host[] => (ctx.derived?.cluster.workers.length ? ctx.derived.cluster.workers : ctx.cluster.workers);

interface JobRun {
  /** Each run's Job has a name of its own (a catalogue reuses one namespace for many runs). */
  name: string;
  complete: boolean;
  /** Why the wait ended early: nobody holds the scheduler's lease. */
  leaderGone?: string;
  pods: {
    name: string;
    node?: string;
    scheduledBy?: string;
    scheduledMsg?: string;
    failedScheduling?: string;
    phase?: string;
    problem?: string;
  }[];
  error?: string;
}

function jobSpec(name: string, workers: number, image: string, pullPolicy: string): V1Job {
  return {
    metadata: { name, labels: { [OWNER_LABEL]: 'hardway' } },
    spec: {
      completions: workers,
      parallelism: workers,
      backoffLimit: 2,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels: { app: `hardway-job-${name}`, [OWNER_LABEL]: 'hardway' } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          // One pod per worker: the scheduler has to place them on different nodes.
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: `hardway-job-${name}` } } },
              ],
            },
          },
          // The Job controller creates the pods within milliseconds and the scheduler places them
          // as they come; a finished pod no longer counts for anti-affinity, so each lingers 1 s
          // (it slept 2) as margin for a pod placed late (a batch of the controller, a backoff).
          containers: [
            { name: 'app', image, imagePullPolicy: pullPolicy, command: ['sh', '-c', 'echo scheduled on $(hostname); sleep 1'] },
          ],
        },
      },
    },
  };
}

function runJob(ctx: CheckContext): Promise<JobRun> {
  return ctx.memo('scheduler:job', async () => {
    const k = await kube(ctx);
    const [ns, images] = await Promise.all([workspace(ctx), workloadImages(ctx)]);
    const JOB = `app-${randomBytes(3).toString('hex')}`;
    try {
      await k.batch.createNamespacedJob({ namespace: ns, body: jobSpec(JOB, workersOf(ctx).length, images.toolbox, images.pullPolicy) });
    } catch (e) {
      // 409: another Playwright worker created it for its own check of the same Job.
      if (apiStatus(e) !== 409) return { name: JOB, complete: false, pods: [], error: `cannot create Job ${ns}/${JOB}: ${apiError(e)}` };
    }
    // Done when the Job completes; given up early when a pod still has no node after 25 s
    // (scheduled pods complete in seconds: waiting the full minute would tell nothing more).
    // Also given up when a pod has no node and nobody holds the scheduler's lease (no scheduler).
    const t0 = Date.now();
    const leaderGone = leaderGoneWatch(ctx, 'kube-scheduler', schedulerLease);
    let gone: string | undefined;
    const done = await poll(
      60_000,
      async () => {
        const j = await k.batch.readNamespacedJob({ namespace: ns, name: JOB });
        if (j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) return true;
        const late = Date.now() - t0 > 15_000;
        if (Date.now() - t0 > 3000) {
          const pending = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${JOB}` })).items;
          const unplaced = pending.some((p) => !p.spec?.nodeName);
          if (late && (pending.length === 0 || unplaced)) return false;
          if (unplaced && (gone = await leaderGone())) return false;
        }
        return undefined;
      },
      500,
    );
    const pods = (await k.core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${JOB}` })).items;
    const events = (await k.core.listNamespacedEvent({ namespace: ns })).items;
    return {
      name: JOB,
      complete: done === true,
      ...(gone ? { leaderGone: gone } : {}),
      pods: await Promise.all(
        pods.map(async (p) => {
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
        }),
      ),
    };
  });
}

const job = clusterCheck({
  id: 'scheduler.job',
  title: 'a Job completes and its pods carry the Scheduled event from default-scheduler',
  needs: ['live', 'active'],
  codes: {
    'job-not-created': 'the Job could not be created',
    'job-no-pods': 'the Job made no pod (job controller)',
    unschedulable: 'the scheduler found no node for a pod',
    'not-scheduled': 'a pod has no Scheduled event',
    'other-scheduler': 'a pod was scheduled by another scheduler',
    'job-incomplete': 'the Job did not complete',
  },
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await runJob(ctx);
    const f = (code: string, subject: string, message: string, fix: string): Finding => ({ code, subject, message, fix });
    if (r.error) return outcome([f('job-not-created', `Job ${r.name}`, r.error, 'check the apiserver and the admin credentials')], 0);
    if (r.pods.length === 0)
      return outcome(
        [
          f(
            'job-no-pods',
            `Job ${r.name}`,
            'created no pod within 60 s: the job controller of kube-controller-manager is not running',
            'see controller-manager.leader',
          ),
        ],
        1,
      );
    const findings: Finding[] = [];
    for (const p of r.pods) {
      // The scheduler ran but found no node: the nodes are the problem, not the scheduler.
      if (!p.scheduledBy && p.failedScheduling)
        findings.push(
          f(
            'unschedulable',
            `pod ${p.name}`,
            `cannot be scheduled: ${p.failedScheduling.slice(0, 240)}`,
            'kubectl describe nodes (NotReady, taints, cordons)',
          ),
        );
      else if (!p.scheduledBy)
        findings.push(
          f(
            'not-scheduled',
            `pod ${p.name}`,
            `has no Scheduled event (${p.problem ?? p.phase}): kube-scheduler is not scheduling${r.leaderGone ? ` (${r.leaderGone})` : ''}`,
            fixScheduler(ctx),
          ),
        );
      else if (p.scheduledBy !== 'default-scheduler')
        findings.push(
          f('other-scheduler', `pod ${p.name}`, `was scheduled by ${p.scheduledBy}, not default-scheduler`, 'check which scheduler runs'),
        );
    }
    if (!r.complete && findings.length === 0)
      findings.push(
        f(
          'job-incomplete',
          `Job ${r.name}`,
          `did not complete within 60 s: ${r.pods.map((p) => `${p.name}: ${p.problem ?? p.phase}`).join('; ')}`,
          'kubectl describe job and its pods',
        ),
      );
    return outcome(findings, r.pods.length, { notes: r.pods.filter((p) => p.scheduledMsg).map((p) => p.scheduledMsg!) });
  },
});

const spread = clusterCheck({
  id: 'scheduler.spread',
  title: 'pods land on every worker',
  needs: ['live', 'active'],
  codes: { 'no-pod-placed': 'no pod was placed on any node', 'worker-unused': 'no pod was placed on a worker' },
  timeoutMs: 90_000,
  async run(ctx) {
    const r = await runJob(ctx);
    if (r.error || r.pods.length === 0) return outcome([], 0, { inconclusive: 'the Job did not produce pods (see scheduler.job)' });
    const used = new Set(r.pods.map((p) => p.node).filter(Boolean));
    const workers = workersOf(ctx);
    const unused = workers.filter((w) => !used.has(w.nodeName));
    if (unused.length === 0) return passed(workers.length);
    if (r.pods.every((p) => !p.node))
      return outcome(
        [{ code: 'no-pod-placed', subject: `Job ${r.name}`, message: 'no pod was placed on any node', fix: fixScheduler(ctx) }],
        r.pods.length,
      );
    return outcome(
      [
        {
          code: 'worker-unused',
          subject: `nodes ${unused.map((w) => w.nodeName).join(', ')}`,
          message: `got no pod of the Job (pending: ${r.pods
            .filter((p) => !p.node)
            .map((p) => p.problem)
            .join('; ')}): the node is NotReady, cordoned or tainted`,
          fix: `kubectl describe node ${unused[0]!.nodeName}`,
        },
      ],
      workers.length,
    );
  },
});

/** kube-scheduler's lease: its KubeSchedulerConfiguration's leaderElection, the --leader-elect* flags over it. */
export function schedulerLease(c: ComponentFacts): ConfiguredLease {
  const e = c.scheduler;
  const flags = ['leader-elect', 'leader-elect-resource-name', 'leader-elect-resource-namespace'].filter((f) => c.flags.has(f));
  const source = flags.length
    ? flags.map((f) => c.source(f)).join(', ')
    : e?.configFile
      ? `${c.host}:${e.configFile} leaderElection`
      : `${c.host}: kube-scheduler's default lease`;
  const elect = e?.leaderElect ?? c.flags.bool('leader-elect') ?? true;
  return { elect, namespace: e?.leaseNamespace ?? 'kube-system', name: e?.leaseName ?? 'kube-scheduler', source };
}

const SEED = ' (the seed: it "stopped by itself" until systemd restarted it)';
const leader = leaderLeaseCheck('scheduler.leader', 'kube-scheduler', schedulerLease, SEED);

export const schedulerSuite: Suite = {
  name: 'scheduler',
  title: 'kube-scheduler: a Job is scheduled and completes, pods spread over the workers',
  dependsOn: ['controller-manager'],
  checks: [job, spread, leader],
  // Between faults, a renewed lease shows the scheduler back; the Job (8 s) runs where judged.
  health: ['scheduler.leader'],
  prepare: async (ctx, planned) => ctx.options.active && (planned.has('scheduler.job') || planned.has('scheduler.spread')) && runJob(ctx),
};
