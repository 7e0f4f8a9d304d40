/**
 * One cluster's outcome for the ledger, from whatever the cluster's steps got to: ExternalSecrets
 * synced, workloads restarted, and every failure (sync, refusal, rollout, or a caught error).
 */
import { mapWithLimit } from '../concurrency';
import { describeError } from '../errors';
import type { ClusterPort } from '../kubernetes/cluster-port';
import type { ClusterOutcome } from '../ledger/ledger-port';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import { restartMarker } from '../propagation/plan-restarts';
import * as z from '../schema';
import { parseStepInput } from './parse-step-input';
import {
  caughtErrorSchema,
  clusterPlanSchema,
  refText,
  secretRefSchema,
  syncProgressSchema,
  type WorkloadRef,
} from './workflow-state';

const finishClusterInputSchema = z.object({
  /** The whole iteration state (fields appear as the steps before ran). */
  state: z.object({
    cluster: z.string().check(z.minLength(1)),
    secret: secretRefSchema,
    versionId: z.string().check(z.minLength(32), z.maxLength(64)),
    plan: z.optional(clusterPlanSchema),
    sync: z.optional(syncProgressSchema),
    /** Present when the restarts Map finished: one entry per restarted workload. */
    restarts: z.optional(z.array(z.unknown())),
    error: z.optional(caughtErrorSchema),
  }),
});

/**
 * One cluster's outcome, for the ledger: ExternalSecrets synced, workloads restarted, and every
 * failure (sync, refusal, rollout, or the error that stopped the cluster's steps). When the
 * restarts stopped part-way, the workloads that were restarted are read back from the cluster by
 * their secret@version marker (one list per namespace), so the ledger names every one touched.
 */
export async function finishClusterStep(
  raw: unknown,
  deps: { readonly clusterFor: (clusterName: string) => Promise<ClusterPort> },
): Promise<ClusterOutcome> {
  const input = parseStepInput(finishClusterInputSchema, raw, 'finish-cluster').state;
  const failed = [
    ...(input.sync?.failed ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
    ...(input.sync?.refused ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
    ...(input.plan?.refused ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
    // Its consumers keep the old value: not a success, and never a reason to retire that value.
    ...(input.plan?.notRefreshing ?? []).map((f) => `${refText(f.ref)}: ${f.reason}`),
  ];
  if (input.error) failed.push(`${input.error.Error}: ${causeText(input.error.Cause)}`);
  const planned = input.sync?.restarts ?? [];
  const restarted =
    input.restarts !== undefined && !input.error
      ? planned
      : await markedForVersion(planned, input, deps).catch((error: unknown) => {
          failed.push(
            `could not read back which workloads restarted: ${describeError(error).message ?? 'unknown error'}`,
          );
          return [];
        });
  return {
    cluster: input.cluster,
    outcome: failed.length === 0 ? 'succeeded' : 'failed',
    synced: (input.sync?.synced ?? []).map(refText),
    restarted: restarted.map(refText),
    failed,
  };
}

async function markedForVersion(
  planned: readonly WorkloadRef[],
  input: { cluster: string; secret: { name: string }; versionId: string },
  deps: { readonly clusterFor: (clusterName: string) => Promise<ClusterPort> },
): Promise<WorkloadRef[]> {
  if (planned.length === 0) return [];
  const cluster = await deps.clusterFor(input.cluster);
  const marker = restartMarker(input.secret.name, input.versionId);
  const namespaces = [...new Set(planned.map((w) => w.namespace))];
  const lists = await mapWithLimit(namespaces, 8, (namespace) => cluster.listWorkloads(namespace));
  const marked = new Set(
    lists
      .flat()
      .filter((w) => w.podTemplateAnnotations[ANNOTATIONS.restartedFor] === marker)
      .map((w) => `${w.kind}/${w.namespace}/${w.name}`),
  );
  return planned.filter((w) => marked.has(`${w.kind}/${w.namespace}/${w.name}`));
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
