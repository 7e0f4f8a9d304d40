/**
 * The workflow's per-cluster steps. Each is one short Lambda invocation that reads or writes the
 * cluster once and returns; the waiting happens in the state machine (Wait states and polling
 * loops), so no Lambda sleeps and no propagation is bounded by the 15-minute Lambda limit.
 */

import { API_CONCURRENCY, mapWithLimit } from '../concurrency';
import { isObjectGone, PlanTooLargeError } from '../errors';
import type { RotationLogger } from '../observability';
import type { ClusterPort, ExternalSecretSyncStatus } from '../propagation/cluster-port';
import { confirmSync } from '../propagation/confirm-sync';
import { secretSideAnnotations, targetSecretAnnotations } from '../propagation/consumer-annotations';
import { notRefreshingReason } from '../propagation/find-external-secrets';
import { planExternalSecrets } from '../propagation/propagation-plan';
import type { ReplicaPort } from '../propagation/replica-port';
import * as z from '../schema';
import { forceSync } from './force-sync';
import { parseStepInput } from './parse-step-input';
import { notifyRoutesOfPlan } from './plan-notify-routes';
import { gateOnReplicas, releaseHeld, replicaFields } from './replica-gate';
import {
  type ClusterPlan,
  clusterIterationSchema,
  clusterPlanSchema,
  type EsTarget,
  esKey,
  esRef,
  type SyncProgress,
  syncProgressSchema,
} from './workflow-state';

export interface ClusterStepDeps {
  readonly clusterFor: (clusterName: string) => Promise<ClusterPort>;
  /**
   * The secret's replicas (DescribeSecret in its primary and replica regions). Without it, stores in
   * other regions than the secret's are reported, never resynced.
   */
  readonly replicas?: ReplicaPort;
  readonly requireOptIn: boolean;
  readonly syncTimeoutMs: number;
  readonly rolloutTimeoutMs: number;
  /**
   * How long one advance-restarts invocation keeps restarting and watching before it hands the wait
   * back to the state machine (a few state transitions per call, whatever the number of workloads:
   * Step Functions allows 25,000 history events per execution). 0 looks once.
   */
  readonly rolloutPollBudgetMs?: number;
  /** The longest pause between two looks at the rollouts in flight (the pause adapts up to it). */
  readonly rolloutPollIntervalMs?: number;
  /** The largest plan (JSON bytes) a cluster's state may carry. @default MAX_PLAN_BYTES */
  readonly maxPlanBytes?: number;
  readonly now: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Warns about Namespace annotations the plan ignores (malformed, or unreadable: 403). */
  readonly logger?: Pick<RotationLogger, 'warn'>;
}

/** A cluster's plan travels in the workflow's state (256 KiB per state): refuse one that would not fit. */
export const MAX_PLAN_BYTES = 96 * 1024;

/**
 * Plan: what a rotation of the secret touches in one cluster. Read-only. The plan names the
 * ExternalSecrets to resync; it reads no workload: the restart step lists the consumers once the
 * Secrets hold the new value (it must read them then anyway), so the plan's size and cost do not
 * grow with the workloads.
 */
export async function planStep(raw: unknown, deps: ClusterStepDeps): Promise<ClusterPlan> {
  const input = parseStepInput(z.omit(clusterIterationSchema, { budget: true }), raw, 'plan');
  const cluster = await deps.clusterFor(input.cluster);
  const replicaRegions = deps.replicas
    ? (await deps.replicas.replicationOf(input.secret.arn)).map((r) => r.region)
    : [];
  const plan = await planExternalSecrets(cluster, input.secret, input.versionId, { replicaRegions });
  const result: ClusterPlan = {
    plannedAt: deps.now().toISOString(),
    resync: plan.resync.map(
      (t): EsTarget => ({
        namespace: t.affected.externalSecret.namespace,
        name: t.affected.externalSecret.name,
        owner: t.affected.externalSecret.ownerClusterExternalSecret,
        prior: t.affected.externalSecret.syncStatus ?? {},
        targetSecret: t.affected.targetSecret,
        secretAnnotations: secretSideAnnotations(targetSecretAnnotations(t.affected.externalSecret.spec)),
        reasons: t.affected.reasons.slice(0, 20).map((r) => r.slice(0, 1024)),
        ...(t.affected.replicaRegions?.length && { replicaRegions: [...t.affected.replicaRegions] }),
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
    ...replicaFields(plan),
    ...(await notifyRoutesOfPlan(cluster, plan, deps)),
  };
  const bytes = Buffer.byteLength(JSON.stringify(result));
  const limit = deps.maxPlanBytes ?? MAX_PLAN_BYTES;
  if (bytes > limit) {
    throw new PlanTooLargeError(
      `The plan for cluster ${input.cluster} names ${result.resync.length + result.notRefreshing.length} ExternalSecrets (${Math.ceil(bytes / 1024)} KiB), over the ${Math.floor(limit / 1024)} KiB a workflow state may carry; nothing was changed`,
    );
  }
  return result;
}

const resyncInputSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  plan: clusterPlanSchema,
});

/**
 * Resync: the force-sync annotation on each ExternalSecret (on the owning ClusterExternalSecret for
 * its children). One that reads a replica region waits (`held`, not annotated) until that replica has
 * the new version; the polling loop looks again. Returns the sync progress the loop starts from.
 */
export async function resyncStep(raw: unknown, deps: ClusterStepDeps): Promise<SyncProgress> {
  const input = parseStepInput(resyncInputSchema, raw, 'resync');
  const cluster = await deps.clusterFor(input.cluster);
  const gate = await gateOnReplicas(input.plan, input.plan.resync, input.versionId, deps);
  const annotatedAt = deps.now();
  const { annotated, gone } = await forceSync(cluster, gate.ready, input.versionId, annotatedAt);
  const progress: SyncProgress = {
    annotatedAt: annotatedAt.toISOString(),
    deadline: new Date(annotatedAt.getTime() + deps.syncTimeoutMs).toISOString(),
    done: false,
    pending: annotated.map(esKey),
    synced: [],
    failed: gate.failed,
    ...(gone.length > 0 && { gone: gone.map(esRef) }),
    ...(gate.held.length > 0 && { versionId: input.versionId, held: gate.held, replicaWaits: gate.waits }),
  };
  return progress.pending.length === 0 && gate.held.length === 0 ? { ...progress, done: true } : progress;
}

const checkSyncInputSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  plan: clusterPlanSchema,
  sync: syncProgressSchema,
});

/**
 * Above this many pending ExternalSecrets, one poll reads them with one cluster-wide LIST (what the
 * plan read them with) instead of a GET each: at 100 pending, 0.05-0.08 s against 0.32-0.33 s for
 * the GETs (bench:workflow --probe, load about 12), and one request instead of 100 per poll. At or
 * below it, the GETs take one round trip and read nothing else.
 */
export const LIST_SYNC_ABOVE = API_CONCURRENCY;

/**
 * The sync status of each pending ExternalSecret, in order, or `gone` for one deleted since the plan
 * (a 404 on its GET; one missing from the LIST is read with its own GET to be sure).
 */
async function syncStatuses(
  cluster: ClusterPort,
  pending: readonly EsTarget[],
): Promise<(ExternalSecretSyncStatus | 'gone')[]> {
  const get = async (t: EsTarget): Promise<ExternalSecretSyncStatus | 'gone'> => {
    try {
      return await cluster.getExternalSecretSync(esRef(t));
    } catch (error) {
      if (isObjectGone(error)) return 'gone';
      throw error;
    }
  };
  if (pending.length <= LIST_SYNC_ABOVE) return mapWithLimit(pending, API_CONCURRENCY, get);
  const listed = new Map((await cluster.listExternalSecrets()).map((es) => [esKey(es), es.syncStatus ?? {}]));
  return mapWithLimit(pending, API_CONCURRENCY, async (t) => listed.get(esKey(t)) ?? get(t));
}

/** One poll of the ExternalSecrets still pending; past the deadline, the rest have failed. */
export async function checkSyncStep(raw: unknown, deps: ClusterStepDeps): Promise<SyncProgress> {
  const parsed = parseStepInput(checkSyncInputSchema, raw, 'check-sync');
  const cluster = await deps.clusterFor(parsed.cluster);
  const input = { ...parsed, sync: await releaseHeld(cluster, parsed.plan, parsed.sync, deps) };
  const targets = new Map(input.plan.resync.map((t) => [esKey(t), t]));
  const pending = input.sync.pending.flatMap((key) => {
    const target = targets.get(key);
    return target ? [target] : [];
  });
  const statuses = await syncStatuses(cluster, pending);
  const next: SyncProgress = {
    ...input.sync,
    pending: [],
    synced: [...input.sync.synced],
    failed: [...input.sync.failed],
  };
  const annotatedAt = new Date(input.sync.annotatedAt);
  pending.forEach((target, index) => {
    const ref = esRef(target);
    const status = statuses[index] ?? {};
    if (status === 'gone') {
      next.gone = [...(next.gone ?? []), ref];
      return;
    }
    const verdict = confirmSync(target.prior, status);
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
  return next.pending.length === 0 && !next.held?.length ? { ...next, done: true } : next;
}
