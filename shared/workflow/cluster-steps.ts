/**
 * The workflow's per-cluster steps. Each is one short Lambda invocation that reads or writes the
 * cluster once and returns; the waiting happens in the state machine (Wait states and polling
 * loops), so no Lambda sleeps and no propagation is bounded by the 15-minute Lambda limit.
 */

import { mapWithLimit } from '../concurrency';
import { PlanTooLargeError } from '../errors';
import type { RotationLogger } from '../observability';
import type { ClusterPort, ExternalSecretSyncStatus } from '../propagation/cluster-port';
import { confirmSync } from '../propagation/confirm-sync';
import {
  ANNOTATIONS,
  secretSideAnnotations,
  targetSecretAnnotations,
} from '../propagation/consumer-annotations';
import { consumerState } from '../propagation/consumer-state';
import { arnInRegion, notRefreshingReason } from '../propagation/find-external-secrets';
import { moveId } from '../propagation/markers';
import { refKey } from '../propagation/object-ref';
import { type PropagationPlan, planPropagation } from '../propagation/propagation-plan';
import type { ReplicaPort } from '../propagation/replica-port';
import {
  checkReplicas,
  replicaDeadlineReason,
  replicaFailureReason,
  splitByReplicas,
} from '../propagation/replica-sync';
import * as z from '../schema';
import { parseStepInput } from './parse-step-input';
import { notifyRoutesOfPlan } from './plan-notify-routes';
import {
  type ClusterPlan,
  clusterIterationSchema,
  clusterPlanSchema,
  type EsTarget,
  esKey,
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

const API_CONCURRENCY = 32;

/** A cluster's plan travels in the workflow's state (256 KiB per state): refuse one that would not fit. */
export const MAX_PLAN_BYTES = 96 * 1024;

/**
 * Plan: what a rotation of the secret touches in one cluster. Read-only. The plan names the
 * ExternalSecrets to resync and counts their consumers; the consumers themselves are listed again
 * by the restart step, so the plan's size does not grow with the workloads.
 */
export async function planStep(raw: unknown, deps: ClusterStepDeps): Promise<ClusterPlan> {
  const input = parseStepInput(z.omit(clusterIterationSchema, { budget: true }), raw, 'plan');
  const cluster = await deps.clusterFor(input.cluster);
  const replicaRegions = deps.replicas
    ? (await deps.replicas.replicationOf(input.secret.arn)).map((r) => r.region)
    : [];
  const plan = await planPropagation(cluster, input.secret, input.versionId, {
    requireOptIn: deps.requireOptIn,
    replicaRegions,
  });
  const plannedAt = deps.now();
  const move = {
    secretName: input.secret.name,
    moveId: moveId({ versionId: input.versionId, seq: input.moveSeq }),
    rolloutTimeoutMs: deps.rolloutTimeoutMs,
    now: plannedAt,
  };
  const consumers = new Map(
    plan.resync.flatMap((t) => t.consumers).map((c) => [refKey(c.workload), c.workload] as const),
  );
  const result: ClusterPlan = {
    plannedAt: plannedAt.toISOString(),
    resync: plan.resync.map(
      (t): EsTarget => ({
        namespace: t.affected.externalSecret.namespace,
        name: t.affected.externalSecret.name,
        owner: t.affected.externalSecret.ownerClusterExternalSecret,
        prior: t.affected.externalSecret.syncStatus ?? {},
        targetSecret: t.affected.targetSecret,
        secretAnnotations: secretSideAnnotations(targetSecretAnnotations(t.affected.externalSecret.spec)),
        consumers: t.consumers.length,
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
    consumers: consumers.size,
    alreadyVerified: [...consumers.values()].filter((w) => consumerState(w, move).state === 'verified')
      .length,
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

/** The replicas the plan's targets read, and the references through regions the secret is not in. */
function replicaFields(plan: PropagationPlan): Pick<ClusterPlan, 'replication' | 'otherRegion'> {
  const regions = [...new Set(plan.resync.flatMap((t) => t.affected.replicaRegions ?? []))].sort();
  const otherRegion = (plan.otherRegion ?? []).map((o) => ({
    ref: { kind: 'ExternalSecret', namespace: o.externalSecret.namespace, name: o.externalSecret.name },
    reason: `reads it in ${o.regions.join(', ')}, where the secret is not replicated (${o.reasons.slice(0, 3).join('; ').slice(0, 700)}): not resynced`,
  }));
  return {
    ...(regions.length > 0 && {
      replication: {
        secretArn: plan.secret.arn,
        replicas: regions.map((region) => ({ region, secretId: arnInRegion(plan.secret.arn, region) })),
      },
    }),
    ...(otherRegion.length > 0 && { otherRegion }),
  };
}

/** The force-sync annotation on these targets (on the owning ClusterExternalSecret for its children). */
async function forceSync(
  cluster: ClusterPort,
  targets: readonly EsTarget[],
  versionId: string,
  at: Date,
): Promise<void> {
  const annotations = { [ANNOTATIONS.forceSync]: `${versionId}@${at.toISOString()}` };
  const owners = [...new Set(targets.flatMap((t) => (t.owner ? [t.owner] : [])))];
  await mapWithLimit(owners, API_CONCURRENCY, (owner) =>
    cluster.annotateClusterExternalSecret(owner, annotations),
  );
  await mapWithLimit(
    targets.filter((t) => !t.owner),
    API_CONCURRENCY,
    (t) =>
      cluster.annotateExternalSecret(
        { kind: 'ExternalSecret', namespace: t.namespace, name: t.name },
        annotations,
      ),
  );
}

/**
 * Which of `targets` may be resynced now: those reading only the primary, or replicas that have
 * `versionId` as AWSCURRENT. The rest wait (`held`), or fail when their replica failed.
 */
async function gateOnReplicas(
  plan: ClusterPlan,
  targets: readonly EsTarget[],
  versionId: string,
  deps: ClusterStepDeps,
) {
  const needed = new Set(targets.flatMap((t) => t.replicaRegions ?? []));
  const replicas = (plan.replication?.replicas ?? []).filter((r) => needed.has(r.region));
  if (replicas.length > 0 && (!deps.replicas || !plan.replication)) {
    throw new Error('The plan names replica regions, but the step has no Secrets Manager reader for them');
  }
  const verdicts =
    deps.replicas && plan.replication
      ? await checkReplicas(deps.replicas, plan.replication.secretArn, versionId, replicas)
      : new Map();
  const split = splitByReplicas(
    targets.map((t) => ({ ...t, key: esKey(t) })),
    verdicts,
  );
  const byKey = new Map(targets.map((t) => [esKey(t), t]));
  const ref = (key: string) => {
    const t = byKey.get(key);
    return { kind: 'ExternalSecret', namespace: t?.namespace ?? '', name: t?.name ?? '' };
  };
  return {
    ready: split.ready.flatMap((k) => byKey.get(k) ?? []),
    held: [...split.held],
    failed: [...split.failed].map(([key, f]) => ({
      ref: ref(key),
      reason: replicaFailureReason(f.region, f.detail),
    })),
    waits: [...verdicts].flatMap(([region, v]) =>
      v.state === 'lagging' ? [{ region, detail: v.detail.slice(0, 1024) }] : [],
    ),
  };
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
  await forceSync(cluster, gate.ready, input.versionId, annotatedAt);
  const progress: SyncProgress = {
    annotatedAt: annotatedAt.toISOString(),
    deadline: new Date(annotatedAt.getTime() + deps.syncTimeoutMs).toISOString(),
    done: false,
    pending: gate.ready.map(esKey),
    synced: [],
    failed: gate.failed,
    ...(gate.held.length > 0 && { versionId: input.versionId, held: gate.held, replicaWaits: gate.waits }),
  };
  return progress.pending.length === 0 && gate.held.length === 0 ? { ...progress, done: true } : progress;
}

/**
 * The held ExternalSecrets whose replicas now have the version are annotated and join `pending`;
 * past the deadline, those still held fail, naming the region and what its replica holds.
 */
async function releaseHeld(
  cluster: ClusterPort,
  plan: ClusterPlan,
  sync: SyncProgress,
  deps: ClusterStepDeps,
): Promise<SyncProgress> {
  if (!sync.held?.length || !sync.versionId) return sync;
  const held = new Set(sync.held);
  const gate = await gateOnReplicas(
    plan,
    plan.resync.filter((t) => held.has(esKey(t))),
    sync.versionId,
    deps,
  );
  const at = deps.now();
  await forceSync(cluster, gate.ready, sync.versionId, at);
  const next: SyncProgress = {
    ...sync,
    pending: [...sync.pending, ...gate.ready.map(esKey)],
    failed: [...sync.failed, ...gate.failed],
    held: gate.held,
    replicaWaits: gate.waits,
  };
  if (gate.held.length === 0 || at.getTime() <= Date.parse(sync.deadline)) return next;
  const seconds = Math.round((Date.parse(sync.deadline) - Date.parse(sync.annotatedAt)) / 1000);
  const waits = new Map(gate.waits.map((w) => [w.region, w.detail]));
  const targets = new Map(plan.resync.map((t) => [esKey(t), t]));
  for (const key of gate.held) {
    const t = targets.get(key);
    const region = t?.replicaRegions?.find((r) => waits.has(r)) ?? t?.replicaRegions?.[0] ?? 'unknown';
    next.failed.push({
      ref: { kind: 'ExternalSecret', namespace: t?.namespace ?? '', name: t?.name ?? '' },
      reason: replicaDeadlineReason(region, seconds, waits.get(region) ?? 'its replica was behind'),
    });
  }
  return { ...next, held: [] };
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
 * The sync status of each pending ExternalSecret, in order. One missing from the LIST (deleted since
 * the plan) is read with its own GET, so it fails the step as it did before (404).
 */
async function syncStatuses(
  cluster: ClusterPort,
  pending: readonly EsTarget[],
): Promise<ExternalSecretSyncStatus[]> {
  const ref = (t: EsTarget) => ({ kind: 'ExternalSecret', namespace: t.namespace, name: t.name });
  if (pending.length <= LIST_SYNC_ABOVE) {
    return mapWithLimit(pending, API_CONCURRENCY, (t) => cluster.getExternalSecretSync(ref(t)));
  }
  const listed = new Map((await cluster.listExternalSecrets()).map((es) => [esKey(es), es.syncStatus ?? {}]));
  return mapWithLimit(
    pending,
    API_CONCURRENCY,
    async (t) => listed.get(esKey(t)) ?? cluster.getExternalSecretSync(ref(t)),
  );
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
    const ref = { kind: 'ExternalSecret', namespace: target.namespace, name: target.name };
    const verdict = confirmSync(target.prior, statuses[index] ?? {});
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
