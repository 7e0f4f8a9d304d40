/**
 * The data that travels between the propagation workflow's states. Step Functions passes JSON, so
 * every step parses its input with these schemas at the edge: a malformed payload is an
 * InvalidEventError (no retry), never a half-done step. Objects stay compact (names, refs, sync
 * status) to keep the state far below Step Functions' 256 KiB payload limit.
 */
import { z } from 'zod';

export const TRIGGERS = ['scheduled', 'event', 'emergency', 'request', 'reconcile', 'manual'] as const;

const name = z.string().min(1).max(253);

export const objectRefSchema = z.object({ kind: z.string().min(1), namespace: name, name });
export type Ref = z.infer<typeof objectRefSchema>;

export const workloadRefSchema = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  namespace: name,
  name,
});
export type WorkloadRef = z.infer<typeof workloadRefSchema>;

const syncStatusSchema = z.object({
  refreshTime: z.string().optional(),
  syncedResourceVersion: z.string().optional(),
  ready: z
    .object({ status: z.string(), reason: z.string().optional(), message: z.string().optional() })
    .optional(),
});

export const secretRefSchema = z.object({
  name: z.string().min(1).max(512),
  arn: z.string().startsWith('arn:'),
  tags: z.record(z.string(), z.string()),
});

/** The execution's input, as the starter writes it. */
export const workflowInputSchema = z.object({
  secretId: z.string().min(1).max(2048),
  versionId: z.string().min(32).max(64),
  trigger: z.enum(TRIGGERS),
  actor: z.string().min(1).max(2048),
  reason: z.string().max(512).optional(),
  emergency: z.boolean().default(false),
  retirePrevious: z.boolean().default(false),
  /** A subset of the configured clusters; all of them when absent. */
  clusters: z.array(z.string().min(1)).min(1).optional(),
});
export type WorkflowInput = z.infer<typeof workflowInputSchema>;

/** The claim step's result: who propagates, and everything later steps need about the secret. */
export const claimSchema = z.object({
  claimed: z.boolean(),
  executionId: z.string().min(1),
  secret: secretRefSchema,
  versionId: z.string().min(32).max(64),
  /** The version that held AWSCURRENT before this one (AWSPREVIOUS), if any. */
  previousVersionId: z.string().optional(),
  clusters: z.array(z.string()),
  /** Restarts in flight at once; 0 means no limit (emergency rotations). */
  maxConcurrency: z.number().int().min(0),
  startedAt: z.string(),
  trigger: z.enum(TRIGGERS),
  actor: z.string(),
  reason: z.string().optional(),
  retirePrevious: z.boolean(),
  /** The execution holding the claim when this one did not get it. */
  heldBy: z.string().optional(),
});
export type Claim = z.infer<typeof claimSchema>;

export const esTargetSchema = z.object({
  namespace: name,
  name,
  /** The ClusterExternalSecret that owns it; the annotation goes there. */
  owner: z.string().optional(),
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
  cluster: z.string().min(1),
  secret: secretRefSchema,
  versionId: z.string().min(32).max(64),
  maxConcurrency: z.number().int().min(0),
});

export const restartItemSchema = z.object({
  cluster: z.string().min(1),
  workload: workloadRefSchema,
  secretName: z.string().min(1),
  versionId: z.string().min(32).max(64),
  restartedAt: z.string(),
});
export type RestartItem = z.infer<typeof restartItemSchema>;

/** A Step Functions Catch result (ResultPath `$.error`). */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

export function esKey(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

export function refText(ref: { kind: string; namespace: string; name: string }): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
