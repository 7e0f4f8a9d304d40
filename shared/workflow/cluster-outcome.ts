/**
 * One cluster's outcome for the ledger, from whatever the cluster's steps got to: ExternalSecrets
 * synced, workloads restarted, and every failure (sync, refusal, rollout, or a caught error).
 */

import type { ClusterOutcome } from '../ledger/ledger-port';
import { type ObjectRef, refKey } from '../propagation/object-ref';
import * as z from '../schema';
import { parseStepInput } from './parse-step-input';
import {
  type CappedRefs,
  capped,
  caughtErrorSchema,
  clusterPlanSchema,
  LIST_CAP,
  type RestartProgress,
  restartProgressSchema,
  syncProgressSchema,
} from './workflow-state';

const finishClusterInputSchema = z.object({
  /** The whole iteration state (fields appear as the steps before ran). */
  state: z.object({
    cluster: z.string().check(z.minLength(1)),
    plan: z.optional(clusterPlanSchema),
    sync: z.optional(syncProgressSchema),
    /** The restart phase's progress, once it has begun (`{ done: false }` before its first call). */
    restarts: z.optional(z.union([restartProgressSchema, z.object({ done: z.boolean() })])),
    error: z.optional(caughtErrorSchema),
  }),
});

/**
 * One cluster's outcome, for the ledger: ExternalSecrets synced, workloads restarted and verified,
 * those picking the value up on their next pod, and every failure (sync, refusal, rollout, a stopped
 * wave with the consumers it left unrestarted, or the error that stopped the cluster's steps). Each
 * list holds at most {@link LIST_CAP} names; `counts` has the full numbers. Reads nothing: the
 * restart step's progress already counts what the cluster's markers say.
 */
export async function finishClusterStep(raw: unknown): Promise<ClusterOutcome> {
  const input = parseStepInput(finishClusterInputSchema, raw, 'finish-cluster').state;
  const progress =
    input.restarts && 'invocations' in input.restarts ? (input.restarts as RestartProgress) : undefined;
  const line = (f: { ref: ObjectRef; reason: string }) => `${refKey(f.ref)}: ${f.reason}`;
  const failures: CappedRefs[] = [
    capped(input.sync?.failed ?? []),
    // Its consumers keep the old value: not a success, and never a reason to retire that value.
    capped(input.plan?.notRefreshing ?? []),
    progress?.refused ?? capped([]),
    progress?.failed ?? capped([]),
  ];
  const failed = failures.flatMap((f) => f.items.map(line));
  let failedCount = failures.reduce((n, f) => n + f.count, 0);
  if (progress?.stopped) {
    failed.push(`${progress.stopped}; ${progress.notRestarted.count} consumer(s) not restarted`);
    failedCount += 1;
  }
  if (progress && !progress.done) {
    failed.push(`restarts stopped with ${progress.inFlight} in flight and ${progress.pending} pending`);
    failedCount += 1;
  }
  if (input.error) {
    failed.push(`${input.error.Error}: ${causeText(input.error.Cause)}`);
    failedCount += 1;
  }
  const synced = input.sync?.synced ?? [];
  const otherRegion = input.plan?.otherRegion ?? [];
  // Deleted while the propagation ran: named, never failures (there is nothing left to update).
  const goneExternalSecrets = (input.sync?.gone ?? []).map((ref) => `${refKey(ref)}: deleted since the plan`);
  const gone = [...goneExternalSecrets, ...(progress?.gone?.items ?? []).map(line)];
  const goneCount = goneExternalSecrets.length + (progress?.gone?.count ?? 0);
  return {
    cluster: input.cluster,
    outcome: failedCount === 0 ? 'succeeded' : 'failed',
    synced: synced.slice(0, LIST_CAP).map(refKey),
    restarted: (progress?.restarted.items ?? []).map((r) => refKey(r.ref)),
    failed: failed.slice(0, LIST_CAP * 2),
    nextPod: [...(progress?.nextPod.items ?? []), ...(progress?.laterPods?.items ?? [])]
      .slice(0, LIST_CAP)
      .map(line),
    notRestarted: (progress?.notRestarted.items ?? []).map((r) => refKey(r.ref)),
    ...(otherRegion.length > 0 && { notSynced: otherRegion.slice(0, LIST_CAP).map(line) }),
    ...(goneCount > 0 && { gone: gone.slice(0, LIST_CAP) }),
    // Route names only (the plan read them from Namespace annotations); the notify function sends to them.
    ...(input.plan?.notifyRoutes?.length && { notifyRoutes: input.plan.notifyRoutes.slice(0, LIST_CAP) }),
    counts: {
      synced: synced.length,
      restarted: progress?.restarted.count ?? 0,
      failed: failedCount,
      nextPod: (progress?.nextPod.count ?? 0) + (progress?.laterPods?.count ?? 0),
      notRestarted: progress?.notRestarted.count ?? 0,
      // Consumers restarted onto the new version whose rollout failed: what a rollback answers.
      rolloutsFailed: progress?.failed.count ?? 0,
      ...(otherRegion.length > 0 && { notSynced: otherRegion.length }),
      ...(goneCount > 0 && { gone: goneCount }),
    },
  };
}

/** Lambda errors arrive as a JSON Cause ({errorType, errorMessage, trace}); keep the message only. */
export function causeText(cause: string | undefined): string {
  if (!cause) return 'no cause given';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // a plain cause string
  }
  return cause.slice(0, 1000);
}
