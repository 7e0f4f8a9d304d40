/**
 * The data that travels between the propagation workflow's states. Step Functions passes JSON, so
 * every step parses its input with these schemas at the edge: a malformed payload is an
 * InvalidEventError (no retry), never a half-done step. Objects stay compact (names, refs, sync
 * status) to keep the state far below Step Functions' 256 KiB payload limit.
 */
import * as z from '../schema';

export const TRIGGERS = ['scheduled', 'event', 'emergency', 'request', 'reconcile', 'manual'] as const;

const name = z.string().check(z.minLength(1), z.maxLength(253));

export const objectRefSchema = z.object({ kind: z.string().check(z.minLength(1)), namespace: name, name });
export type Ref = z.infer<typeof objectRefSchema>;

export const workloadRefSchema = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  namespace: name,
  name,
});
export type WorkloadRef = z.infer<typeof workloadRefSchema>;

const syncStatusSchema = z.object({
  refreshTime: z.optional(z.string()),
  syncedResourceVersion: z.optional(z.string()),
  ready: z.optional(
    z.object({ status: z.string(), reason: z.optional(z.string()), message: z.optional(z.string()) }),
  ),
});

export const secretRefSchema = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(512)),
  arn: z.string().check(z.startsWith('arn:')),
  tags: z.record(z.string(), z.string()),
});

/** The execution's input, as the starter writes it. */
export const workflowInputSchema = z.object({
  secretId: z.string().check(z.minLength(1), z.maxLength(2048)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  trigger: z.enum(TRIGGERS),
  actor: z.string().check(z.minLength(1), z.maxLength(2048)),
  reason: z.optional(z.string().check(z.maxLength(512))),
  emergency: z._default(z.boolean(), false),
  retirePrevious: z._default(z.boolean(), false),
  /** A subset of the configured clusters; all of them when absent. */
  clusters: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
});
export type WorkflowInput = z.infer<typeof workflowInputSchema>;

/** The claim step's result: who propagates, and everything later steps need about the secret. */
export const claimSchema = z.object({
  claimed: z.boolean(),
  executionId: z.string().check(z.minLength(1)),
  secret: secretRefSchema,
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  /** The version that held AWSCURRENT before this one (AWSPREVIOUS), if any. */
  previousVersionId: z.optional(z.string()),
  clusters: z.array(z.string()),
  /** Restarts in flight at once; 0 means no limit (emergency rotations). */
  maxConcurrency: z.number().check(z.int(), z.minimum(0)),
  startedAt: z.string(),
  trigger: z.enum(TRIGGERS),
  actor: z.string(),
  reason: z.optional(z.string()),
  retirePrevious: z.boolean(),
  /** The execution holding the claim when this one did not get it. */
  heldBy: z.optional(z.string()),
});
export type Claim = z.infer<typeof claimSchema>;

export const esTargetSchema = z.object({
  namespace: name,
  name,
  /** The ClusterExternalSecret that owns it; the annotation goes there. */
  owner: z.optional(z.string()),
  /** The sync status before the resync, to tell a fresh sync from an old one. */
  prior: syncStatusSchema,
  targetSecret: name,
  /** Consumers to restart once this ExternalSecret's sync is confirmed. */
  consumers: z.array(workloadRefSchema),
  reasons: z.array(z.string()),
});
export type EsTarget = z.infer<typeof esTargetSchema>;

const refWithReason = z.object({ ref: objectRefSchema, reason: z.string() });

export const clusterPlanSchema = z.object({
  /** Also the restartedAt value of every restart, so a retried restart patch changes nothing. */
  plannedAt: z.string(),
  resync: z.array(esTargetSchema),
  notRefreshing: z.array(refWithReason),
  alreadyRestarted: z.array(workloadRefSchema),
  refused: z.array(refWithReason),
});
export type ClusterPlan = z.infer<typeof clusterPlanSchema>;

export const syncProgressSchema = z.object({
  annotatedAt: z.string(),
  deadline: z.string(),
  done: z.boolean(),
  /** `namespace/name` of ExternalSecrets not yet confirmed. */
  pending: z.array(z.string()),
  synced: z.array(objectRefSchema),
  failed: z.array(refWithReason),
  /** Set once done: the workloads to restart (consumers of confirmed ExternalSecrets only). */
  restarts: z.array(workloadRefSchema),
  refused: z.array(refWithReason),
});
export type SyncProgress = z.infer<typeof syncProgressSchema>;

/** What the workflow passes into each cluster's iteration. */
export const clusterIterationSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  secret: secretRefSchema,
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  maxConcurrency: z.number().check(z.int(), z.minimum(0)),
});

export const restartItemSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  workload: workloadRefSchema,
  secretName: z.string().check(z.minLength(1)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  restartedAt: z.string(),
});
export type RestartItem = z.infer<typeof restartItemSchema>;

/** A Step Functions Catch result (ResultPath `$.error`). */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.optional(z.string()) });

export function esKey(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

export function refText(ref: { kind: string; namespace: string; name: string }): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
