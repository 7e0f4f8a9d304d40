/**
 * One cluster's outcome for the ledger, from whatever the cluster's steps got to: ExternalSecrets
 * synced, workloads restarted, and every failure (sync, refusal, rollout, or a caught error).
 */
import { z } from 'zod';
import type { ClusterOutcome } from '../ledger/ledger-port';
import { parseStepInput } from './parse-step-input';
import { caughtErrorSchema, clusterPlanSchema, refText, syncProgressSchema } from './workflow-state';

const finishClusterInputSchema = z.object({
  /** The whole iteration state (fields appear as the steps before ran). */
  state: z.object({
    cluster: z.string().min(1),
    plan: clusterPlanSchema.optional(),
    sync: syncProgressSchema.optional(),
    /** Present when the restarts Map finished: one entry per restarted workload. */
    restarts: z.array(z.unknown()).optional(),
    error: caughtErrorSchema.optional(),
  }),
});

/**
 * One cluster's outcome, for the ledger: ExternalSecrets synced, workloads restarted, and every
 * failure (sync, refusal, rollout, or the error that stopped the cluster's steps).
 */
export function finishClusterStep(raw: unknown): ClusterOutcome {
  const input = parseStepInput(finishClusterInputSchema, raw, 'finish-cluster').state;
  const failed = [
    ...(input.sync?.failed ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
    ...(input.sync?.refused ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
    ...(input.plan?.refused ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
  ];
  if (input.error) failed.push(`${input.error.Error}: ${causeText(input.error.Cause)}`);
  const restartsFinished = input.restarts !== undefined && !input.error;
  return {
    cluster: input.cluster,
    outcome: failed.length === 0 ? 'succeeded' : 'failed',
    synced: (input.sync?.synced ?? []).map(refText),
    restarted: restartsFinished ? (input.sync?.restarts ?? []).map(refText) : [],
    failed,
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
