/**
 * The resync's gate on replica regions: an ExternalSecret that reads a replica of the rotated
 * secret is force-synced only once that replica has the new version as AWSCURRENT (ESO would
 * otherwise fetch the old value there); until then it is `held`, and past the sync deadline it
 * fails, naming the region and what its replica holds (docs/replica-regions.md).
 */
import type { ClusterPort } from '../propagation/cluster-port';
import { arnInRegion } from '../propagation/find-external-secrets';
import type { ExternalSecretsPlan } from '../propagation/propagation-plan';
import {
  checkReplicas,
  replicaDeadlineReason,
  replicaFailureReason,
  splitByReplicas,
} from '../propagation/replica-sync';
import type { ClusterStepDeps } from './cluster-steps';
import { forceSync } from './force-sync';
import { type ClusterPlan, type EsTarget, esKey, esRef, type SyncProgress } from './workflow-state';

/** The replicas the plan's targets read, and the references through regions the secret is not in. */
export function replicaFields(plan: ExternalSecretsPlan): Pick<ClusterPlan, 'replication' | 'otherRegion'> {
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

/**
 * Which of `targets` may be resynced now: those reading only the primary, or replicas that have
 * `versionId` as AWSCURRENT. The rest wait (`held`), or fail when their replica failed.
 */
export async function gateOnReplicas(
  plan: ClusterPlan,
  targets: readonly EsTarget[],
  versionId: string,
  deps: Pick<ClusterStepDeps, 'replicas'>,
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

/**
 * The held ExternalSecrets whose replicas now have the version are annotated and join `pending`;
 * past the deadline, those still held fail, naming the region and what its replica holds.
 */
export async function releaseHeld(
  cluster: ClusterPort,
  plan: ClusterPlan,
  sync: SyncProgress,
  deps: Pick<ClusterStepDeps, 'replicas' | 'now'>,
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
  const { annotated, gone } = await forceSync(cluster, gate.ready, sync.versionId, at);
  const next: SyncProgress = {
    ...sync,
    pending: [...sync.pending, ...annotated.map(esKey)],
    ...(gone.length > 0 && { gone: [...(sync.gone ?? []), ...gone.map(esRef)] }),
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
