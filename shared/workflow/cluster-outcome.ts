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
    /** How many clusters the execution carries (the Map's item count): they share one state. */
    clusterCount: z.optional(z.number().check(z.int(), z.positive())),
  }),
});

/**
 * Every cluster's outcome together (the Map's result, `$.clusters`) stays within this, however many
 * clusters there are, leaving the rest of a state's 256 KiB to the claim, the record and the alert.
 */
export const CLUSTERS_MAX_BYTES = 160 * 1024;
/** One cluster's outcome at most, when it is the only one. */
const OUTCOME_MAX_BYTES = 64 * 1024;
/**
 * A line at most, in characters: reasons come from ESO's status and Lambda errors, of any length.
 * Room for the orchestrator's own (a replica's, two version ids in it, is about 340 in
 * test/cluster/replica-region.test.ts, whose check failed at 300).
 */
export const LINE_MAX = 500;

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
  const line = (f: { ref: ObjectRef; reason: string }) => clip(`${refKey(f.ref)}: ${f.reason}`);
  const failures: CappedRefs[] = [
    capped(input.sync?.failed ?? []),
    // Its consumers keep the old value: not a success, and never a reason to retire that value.
    capped(input.plan?.notRefreshing ?? []),
    progress?.refused ?? capped([]),
    progress?.failed ?? capped([]),
  ];
  // Why the cluster stopped comes first, so capping the list never cuts it.
  const stops: string[] = [];
  if (progress?.stopped) {
    stops.push(`${progress.stopped}; ${progress.notRestarted.count} consumer(s) not restarted`);
  }
  if (progress && !progress.done) {
    stops.push(`restarts stopped with ${progress.inFlight} in flight and ${progress.pending} pending`);
  }
  if (input.error) stops.push(`${input.error.Error}: ${causeText(input.error.Cause)}`);
  const failed = [...stops.map(clip), ...failures.flatMap((f) => f.items.map(line))];
  const failedCount = stops.length + failures.reduce((n, f) => n + f.count, 0);
  const synced = input.sync?.synced ?? [];
  const otherRegion = input.plan?.otherRegion ?? [];
  // Deleted while the propagation ran: named, never failures (there is nothing left to update).
  const goneExternalSecrets = (input.sync?.gone ?? []).map((ref) => `${refKey(ref)}: deleted since the plan`);
  const gone = [...goneExternalSecrets, ...(progress?.gone?.items ?? []).map(line)];
  const goneCount = goneExternalSecrets.length + (progress?.gone?.count ?? 0);
  const outcome: ClusterOutcome = {
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
  return fitted(outcome, Math.min(OUTCOME_MAX_BYTES, CLUSTERS_MAX_BYTES / (input.clusterCount ?? 1)));
}

function clip(line: string): string {
  return line.length > LINE_MAX ? `${line.slice(0, LINE_MAX - 1)}…` : line;
}

/**
 * The outcome within `maxBytes` of JSON: its name lists cut shorter and shorter (the stop lines
 * first in `failed` stay longest), down to none, and only then the notify routes. `counts` keep the
 * full numbers.
 */
function fitted(outcome: ClusterOutcome, maxBytes: number): ClusterOutcome {
  let result = outcome;
  for (let cap = LIST_CAP; Buffer.byteLength(JSON.stringify(result)) > maxBytes && cap > 0; ) {
    cap = Math.floor(cap / 2);
    const cut = <T>(list: readonly T[] | undefined) => list?.slice(0, cap);
    result = {
      ...outcome,
      synced: outcome.synced.slice(0, cap),
      restarted: outcome.restarted.slice(0, cap),
      failed: outcome.failed.slice(0, Math.max(cap, Math.min(1, outcome.failed.length))),
      nextPod: cut(outcome.nextPod),
      notRestarted: cut(outcome.notRestarted),
      ...(outcome.notSynced && { notSynced: cut(outcome.notSynced) }),
      ...(outcome.gone && { gone: cut(outcome.gone) }),
    };
  }
  // Only then the notify routes (many clusters, each naming many long routes): a route left out
  // is a notification not sent, so they go last, and the alert to the topic is still sent.
  for (let cap = LIST_CAP; Buffer.byteLength(JSON.stringify(result)) > maxBytes && cap > 0; ) {
    cap = Math.floor(cap / 2);
    result = { ...result, ...(outcome.notifyRoutes && { notifyRoutes: outcome.notifyRoutes.slice(0, cap) }) };
  }
  return result;
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
