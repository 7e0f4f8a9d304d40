/**
 * The data that travels between the propagation workflow's states. Step Functions passes JSON, so
 * every step parses its input with these schemas at the edge: a malformed payload is an
 * InvalidEventError (no retry), never a half-done step. Objects stay compact (names, refs, sync
 * status) to keep the state far below Step Functions' 256 KiB payload limit.
 */

import { TRIGGERS } from '../ledger/ledger-port';
import * as z from '../schema';

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

/**
 * How fast one cluster's restarts go: at most `inFlight` workloads rolling out at once, the first
 * `canary` of them restarted and verified alone before any other.
 */
export const restartBudgetSchema = z.object({
  inFlight: z.number().check(z.int(), z.minimum(1), z.maximum(500)),
  /** At most this percentage of the cluster's affected workloads in flight (like maxUnavailable). */
  percent: z.number().check(z.int(), z.minimum(1), z.maximum(100)),
  canary: z.number().check(z.int(), z.minimum(0), z.maximum(10)),
  /** An emergency's budget: restart whatever the restart windows say. */
  bypassWindows: z.optional(z.boolean()),
});
export type RestartBudget = z.infer<typeof restartBudgetSchema>;

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
  /** The AWSCURRENT move the starter expects to carry (it names the execution); the claim decides. */
  moveSeq: z.optional(z.number().check(z.int(), z.positive())),
  /** One per start attempt (the starter adds it), so a duplicate start is refused, not merged. */
  startId: z.optional(z.string().check(z.maxLength(64))),
  /** When AWSCURRENT moved, from the event that started the workflow; absent for reconciles. */
  movedAt: z.optional(z.iso.datetime({ offset: true })),
  /** Whether the move made the rotation's version current (the starter decides; see MoveRecord). */
  byRotation: z.optional(z.boolean()),
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
  /** The AWSCURRENT move (per secret, 1, 2, …): a version made current again is a new move. */
  moveSeq: z.number().check(z.int(), z.positive()),
  clusters: z.array(z.string()),
  budget: restartBudgetSchema,
  startedAt: z.string(),
  trigger: z.enum(TRIGGERS),
  actor: z.string(),
  reason: z.optional(z.string()),
  retirePrevious: z.boolean(),
  /**
   * The secret's rotation function when claimed ('' for none): the workflow asks the database
   * rotation function to revoke the previous credential only for secrets it rotates. The claim
   * step always writes it: a Choice on a missing path is a runtime error.
   */
  rotatedBy: z.optional(z.string()),
  /**
   * Whether a failed propagation of this move may roll AWSCURRENT back to `previousVersionId`: the
   * secret opted in (`rotator:rollback=true`, or the deployment's autoRollback), the move is not an
   * emergency (never back to a credential being replaced in a hurry) and there is a previous version.
   */
  rollBack: z.optional(z.boolean()),
  /** The execution holding the claim when this one did not get it. */
  heldBy: z.optional(z.string()),
  /** When AWSCURRENT moved (the starting event's time), for the freshness metric; absent when unknown. */
  movedAt: z.optional(z.iso.datetime({ offset: true })),
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
  /** Reloader's `ignore`/`match` on that Secret, from the ExternalSecret's target template. */
  secretAnnotations: z.optional(z.record(z.string(), z.string().check(z.maxLength(64)))),
  reasons: z.array(z.string().check(z.maxLength(1024))).check(z.maxLength(20)),
  /** The secret's replica regions it reads (stores there): resynced once each has the new version. */
  replicaRegions: z.optional(z.array(name)),
});
export type EsTarget = z.infer<typeof esTargetSchema>;

const refWithReason = z.object({ ref: objectRefSchema, reason: z.string() });

/** A list cut to {@link LIST_CAP} items, with the full count. */
export const cappedRefsSchema = z.object({
  count: z.number().check(z.int(), z.nonnegative()),
  items: z.array(refWithReason),
});
export type CappedRefs = z.infer<typeof cappedRefsSchema>;

/** Names kept in state, the ledger and alerts per list; the rest are counted. */
export const LIST_CAP = 25;

export function capped(items: readonly { ref: Ref; reason: string }[]): CappedRefs {
  return { count: items.length, items: items.slice(0, LIST_CAP) };
}

export const clusterPlanSchema = z.object({
  plannedAt: z.string(),
  resync: z.array(esTargetSchema),
  notRefreshing: z.array(refWithReason),
  /** The replicas its targets read (shared/propagation/replica-sync.ts), with the primary's ARN. */
  replication: z.optional(
    z.object({
      secretArn: z.string().check(z.startsWith('arn:')),
      replicas: z.array(z.object({ region: name, secretId: z.string().check(z.startsWith('arn:')) })),
    }),
  ),
  /** ExternalSecrets naming the secret through stores in regions that are neither its nor a replica's. */
  otherRegion: z.optional(z.array(refWithReason)),
  /**
   * Notification routes named by the `secret-rotator.io/notify` annotations of the Namespaces the
   * plan touches (shared/notifications/namespace-routes.ts): distinct, at most {@link LIST_CAP}.
   */
  notifyRoutes: z.optional(z.array(z.string().check(z.maxLength(128))).check(z.maxLength(LIST_CAP))),
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
  /** The version being propagated, while ExternalSecrets wait for a replica. */
  versionId: z.optional(z.string()),
  /** `namespace/name` of ExternalSecrets not yet annotated: a replica they read lags. */
  held: z.optional(z.array(z.string())),
  /** ExternalSecrets deleted since the plan (404 at their resync or sync check): skipped, named. */
  gone: z.optional(z.array(objectRefSchema)),
  /** The lagging replicas at the last look: region and what it holds. */
  replicaWaits: z.optional(z.array(z.object({ region: name, detail: z.string().check(z.maxLength(1024)) }))),
});
export type SyncProgress = z.infer<typeof syncProgressSchema>;

/** What the workflow passes into each cluster's iteration. */
export const clusterIterationSchema = z.object({
  cluster: z.string().check(z.minLength(1)),
  secret: secretRefSchema,
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  moveSeq: z.number().check(z.int(), z.positive()),
  budget: restartBudgetSchema,
});

/**
 * Where one cluster's restarts stand, as the advance step leaves them: counts read from the cluster
 * (its markers), capped name lists, and whether the restarts are over. Bounded whatever the number
 * of workloads: the workloads themselves are listed again by each step, never carried here.
 */
export const restartProgressSchema = z.object({
  done: z.boolean(),
  /** Why the restarts stopped early (a failed canary or rollout); nothing more is restarted. */
  stopped: z.optional(z.string().check(z.maxLength(2048))),
  invocations: z.number().check(z.int(), z.nonnegative()),
  /** Time the calls spent on their first list and on restart waves (all calls so far). */
  restartMs: z.optional(z.number().check(z.nonnegative())),
  /** Of restartMs, the restart waves' PATCHes: their count, time in all and the slowest one. */
  waveMs: z.optional(z.number().check(z.nonnegative())),
  waves: z.optional(z.number().check(z.int(), z.nonnegative())),
  slowestWaveMs: z.optional(z.number().check(z.nonnegative())),
  /** Time the calls spent looking at rollouts in flight, pauses excluded (all calls so far). */
  watchMs: z.optional(z.number().check(z.nonnegative())),
  /** The cluster's consumers: verified for this move (by this run or an earlier one), in flight, pending. */
  verified: z.number().check(z.int(), z.nonnegative()),
  /**
   * A call ended with the canary verified (at least one consumer when there is no canary); kept
   * from then on, as `verified` falls again when a verified consumer loses pods.
   */
  canaryVerified: z.optional(z.boolean()),
  inFlight: z.number().check(z.int(), z.nonnegative()),
  pending: z.number().check(z.int(), z.nonnegative()),
  /** Restarted by this execution and verified. */
  restarted: cappedRefsSchema,
  failed: cappedRefsSchema,
  refused: cappedRefsSchema,
  nextPod: cappedRefsSchema,
  /**
   * Consumers without a rollout (CronJobs, Jobs, bare Pods): read once, by the first call, and
   * carried; later calls list only the kinds that roll out.
   */
  laterPods: z.optional(cappedRefsSchema),
  /** Consumers deleted between their listing and their restart (404): skipped, named, across calls. */
  gone: z.optional(cappedRefsSchema),
  /** When stopped: the consumers not restarted, for the ledger and the alert. */
  notRestarted: cappedRefsSchema,
  /** Pending consumers whose restart window is closed (counted in `pending` too), with its opening. */
  held: z.optional(cappedRefsSchema),
  /**
   * Only held consumers are left: the state machine waits until this instant (the earliest opening
   * among them, RFC 3339), then calls the step again. Absent otherwise.
   */
  waitUntil: z.optional(z.iso.datetime()),
});
export type RestartProgress = z.infer<typeof restartProgressSchema>;

/** A Step Functions Catch result (ResultPath `$.error`). */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.optional(z.string()) });

export function esKey(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

/** The ExternalSecret's reference, as the sync progress and the outcome name it. */
export function esRef(t: { readonly namespace: string; readonly name: string }): Ref {
  return { kind: 'ExternalSecret', namespace: t.namespace, name: t.name };
}
