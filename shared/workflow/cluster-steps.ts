/**
 * The workflow's per-cluster steps. Each is one short Lambda invocation that reads or writes the
 * cluster once and returns; the waiting happens in the state machine (Wait states and polling
 * loops), so no Lambda sleeps and no propagation is bounded by the 15-minute Lambda limit.
 */

import { mapWithLimit } from '../concurrency';
import type { ClusterPort } from '../kubernetes/cluster-port';
import { confirmSync } from '../propagation/confirm-sync';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import { notRefreshingReason } from '../propagation/find-external-secrets';
import { planRestarts } from '../propagation/plan-restarts';
import { planPropagation } from '../propagation/propagation-plan';
import type { Workload } from '../propagation/workload-types';
import * as z from '../schema';
import { parseStepInput } from './parse-step-input';
import {
  type ClusterPlan,
  clusterIterationSchema,
  clusterPlanSchema,
  type EsTarget,
  esKey,
  type SyncProgress,
  syncProgressSchema,
  type WorkloadRef,
} from './workflow-state';

export interface ClusterStepDeps {
  readonly clusterFor: (clusterName: string) => Promise<ClusterPort>;
  readonly requireOptIn: boolean;
  readonly syncTimeoutMs: number;
  readonly rolloutTimeoutMs: number;
  /**
   * How long one check-rollout invocation keeps looking before it hands the wait back to the state
   * machine. Most rollouts finish within it, so a workload usually costs one poll of the workflow's
   * history (Step Functions allows 25,000 events per execution). 0 looks once.
   */
  readonly rolloutPollBudgetMs?: number;
  readonly rolloutPollIntervalMs?: number;
  readonly now: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

const API_CONCURRENCY = 32;

/** Plan: what a rotation of the secret touches in one cluster. Read-only. */
export async function planStep(raw: unknown, deps: ClusterStepDeps): Promise<ClusterPlan> {
  const input = parseStepInput(z.omit(clusterIterationSchema, { maxConcurrency: true }), raw, 'plan');
  const cluster = await deps.clusterFor(input.cluster);
  const plan = await planPropagation(cluster, input.secret, input.versionId, {
    requireOptIn: deps.requireOptIn,
  });
  const plannedAt = deps.now();
  const consumers = [...plan.resync, ...plan.notRefreshing].flatMap((t) => t.consumers);
  const restarts = planRestarts(
    consumers,
    { secretName: input.secret.name, versionId: input.versionId },
    { concurrency: 1, now: plannedAt },
  );
  const restartable = new Set(restarts.waves.flat().map((r) => workloadKey(r.workload)));
  return {
    plannedAt: plannedAt.toISOString(),
    resync: plan.resync.map(
      (t): EsTarget => ({
        namespace: t.affected.externalSecret.namespace,
        name: t.affected.externalSecret.name,
        owner: t.affected.externalSecret.ownerClusterExternalSecret,
        prior: t.affected.externalSecret.syncStatus ?? {},
        targetSecret: t.affected.targetSecret,
        consumers: t.consumers
          .map((c) => c.workload)
          .filter((w) => restartable.has(workloadKey(w)))
          .map(toWorkloadRef),
        reasons: [...t.affected.reasons],
      }),
    ),
    notRefreshing: plan.notRefreshing.map((t) => ({
      ref: {
        kind: 'ExternalSecret',
        namespace: t.affected.externalSecret.namespace,
        name: t.affected.externalSecret.name,
      },
      reason: notRefreshingReason(t.affected),
    })),
    alreadyRestarted: restarts.alreadyRestarted.map(toWorkloadRef),
    refused: restarts.refused.map((r) => ({ ref: toWorkloadRef(r.workload), reason: r.why })),
  };
}

const resyncInputSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  plan: clusterPlanSchema,
});

/**
 * Resync: the force-sync annotation on each ExternalSecret (on the owning ClusterExternalSecret for
 * its children). Returns the sync progress the polling loop starts from.
 */
export async function resyncStep(raw: unknown, deps: ClusterStepDeps): Promise<SyncProgress> {
  const input = parseStepInput(resyncInputSchema, raw, 'resync');
  const cluster = await deps.clusterFor(input.cluster);
  const annotatedAt = deps.now();
  const annotations = { [ANNOTATIONS.forceSync]: `${input.versionId}@${annotatedAt.toISOString()}` };
  const owners = [...new Set(input.plan.resync.flatMap((t) => (t.owner ? [t.owner] : [])))];
  await mapWithLimit(owners, API_CONCURRENCY, (owner) =>
    cluster.annotateClusterExternalSecret(owner, annotations),
  );
  await mapWithLimit(
    input.plan.resync.filter((t) => !t.owner),
    API_CONCURRENCY,
    (t) =>
      cluster.annotateExternalSecret(
        { kind: 'ExternalSecret', namespace: t.namespace, name: t.name },
        annotations,
      ),
  );
  const progress: SyncProgress = {
    annotatedAt: annotatedAt.toISOString(),
    deadline: new Date(annotatedAt.getTime() + deps.syncTimeoutMs).toISOString(),
    done: false,
    pending: input.plan.resync.map(esKey),
    synced: [],
    failed: [],
    restarts: [],
    refused: [],
  };
  return input.plan.resync.length === 0 ? finishSync(progress, input.plan.resync) : progress;
}

const checkSyncInputSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  plan: clusterPlanSchema,
  sync: syncProgressSchema,
});

/** One poll of the ExternalSecrets still pending; past the deadline, the rest have failed. */
export async function checkSyncStep(raw: unknown, deps: ClusterStepDeps): Promise<SyncProgress> {
  const input = parseStepInput(checkSyncInputSchema, raw, 'check-sync');
  const cluster = await deps.clusterFor(input.cluster);
  const targets = new Map(input.plan.resync.map((t) => [esKey(t), t]));
  const pending = input.sync.pending.flatMap((key) => {
    const target = targets.get(key);
    return target ? [target] : [];
  });
  const statuses = await mapWithLimit(pending, API_CONCURRENCY, (t) =>
    cluster.getExternalSecretSync({ kind: 'ExternalSecret', namespace: t.namespace, name: t.name }),
  );
  const next: SyncProgress = {
    ...input.sync,
    pending: [],
    synced: [...input.sync.synced],
    failed: [...input.sync.failed],
  };
  const annotatedAt = new Date(input.sync.annotatedAt);
  pending.forEach((target, index) => {
    const ref = { kind: 'ExternalSecret', namespace: target.namespace, name: target.name };
    const verdict = confirmSync(target.prior, statuses[index] ?? {}, annotatedAt);
    if (verdict.verdict === 'synced') next.synced.push(ref);
    else if (verdict.verdict === 'failed') next.failed.push({ ref, reason: verdict.reason });
    else next.pending.push(esKey(target));
  });
  if (next.pending.length > 0 && deps.now().getTime() > Date.parse(input.sync.deadline)) {
    const seconds = Math.round((Date.parse(input.sync.deadline) - annotatedAt.getTime()) / 1000);
    for (const key of next.pending) {
      const [namespace = '', name = ''] = key.split('/');
      next.failed.push({
        ref: { kind: 'ExternalSecret', namespace, name },
        reason: `ESO did not confirm a sync within ${seconds} s`,
      });
    }
    next.pending = [];
  }
  return next.pending.length === 0 ? finishSync(next, input.plan.resync) : next;
}

/**
 * Once every ExternalSecret is confirmed or failed: the consumers of confirmed ones, except a
 * workload that also uses the Secret of an unconfirmed one (it would start with a stale copy).
 */
export function finishSync(progress: SyncProgress, targets: readonly EsTarget[]): SyncProgress {
  const confirmed = new Set(progress.synced.map(esKey));
  const stale = new Map<string, string>();
  for (const target of targets.filter((t) => !confirmed.has(esKey(t)))) {
    for (const consumer of target.consumers) stale.set(workloadKey(consumer), target.targetSecret);
  }
  const restarts = new Map<string, WorkloadRef>();
  const refused = new Map<string, SyncProgress['refused'][number]>();
  for (const consumer of targets.filter((t) => confirmed.has(esKey(t))).flatMap((t) => t.consumers)) {
    const key = workloadKey(consumer);
    const staleSecret = stale.get(key);
    if (staleSecret === undefined) restarts.set(key, consumer);
    else {
      refused.set(key, {
        ref: consumer,
        reason: `also uses Secret ${staleSecret}, whose ExternalSecret did not confirm a sync`,
      });
    }
  }
  return { ...progress, done: true, restarts: [...restarts.values()], refused: [...refused.values()] };
}

function workloadKey(w: { kind: string; namespace: string; name: string }): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

function toWorkloadRef(w: Workload): WorkloadRef {
  return { kind: w.kind, namespace: w.namespace, name: w.name };
}
