/**
 * The workflow's first and last steps: claim the propagation of one secret version in the ledger
 * (exactly once across duplicate and concurrent executions), and record how it ended.
 */

import {
  asRetryable,
  describeError,
  PropagationAlreadyFinishedError,
  PropagationHeldByOtherError,
  PropagationNotClaimedError,
  RotationStateError,
  TransientError,
} from '../errors';
import { clusterOutcomeSchema } from '../ledger/ledger-items';
import type { ClusterOutcome, LedgerPort, WindowWait } from '../ledger/ledger-port';
import { assertManaged } from '../managed-prefixes';
import type { RotationLogger, RotationMetrics } from '../observability';
import * as z from '../schema';
import { describeManagedSecret } from '../secrets/describe-managed';
import { secretDisplayName } from '../secrets/secret-id';
import type { SecretsPort } from '../secrets/secrets-port';
import { versionWith } from '../secrets/versions';
import { causeText } from './cluster-outcome';
import { parseStepInput } from './parse-step-input';
import {
  type Claim,
  caughtErrorSchema,
  claimSchema,
  type RestartBudget,
  workflowInputSchema,
} from './workflow-state';

/**
 * The restart budget for this propagation, per cluster: the configured one, or for an emergency the
 * emergency in-flight count (never below the ordinary one), every affected workload eligible at once
 * up to that count, no canary, and restarts whatever the restart windows say. An emergency raises the bound but never lifts it: an unbounded
 * restart storm is its own outage.
 * @example restartBudgetFor({ emergency: true }, config) // { inFlight: 100, percent: 100, canary: 0, bypassWindows: true }
 */
export function restartBudgetFor(
  input: { readonly emergency: boolean },
  config: Pick<
    LedgerStepDeps,
    'restartConcurrency' | 'emergencyRestartConcurrency' | 'restartPercent' | 'canaryWorkloads'
  >,
): RestartBudget {
  return input.emergency
    ? {
        inFlight: Math.max(config.restartConcurrency, config.emergencyRestartConcurrency),
        percent: 100,
        canary: 0,
        bypassWindows: true,
      }
    : { inFlight: config.restartConcurrency, percent: config.restartPercent, canary: config.canaryWorkloads };
}

export interface LedgerStepDeps {
  readonly managedPrefixes: readonly string[];
  readonly clusters: readonly string[];
  readonly restartConcurrency: number;
  readonly emergencyRestartConcurrency: number;
  readonly restartPercent: number;
  readonly canaryWorkloads: number;
  /** removeStage retires AWSPREVIOUS from a version; a no-op when the label is elsewhere. */
  readonly secrets: Pick<SecretsPort, 'describeSecret' | 'removeStage'>;
  readonly ledger: Pick<
    LedgerPort,
    'registerMove' | 'claimPropagation' | 'finishPropagation' | 'noteWindowWait'
  >;
  /** A claim older than this whose holder never finished is taken over. */
  readonly leaseMs: number;
  /** Every secret may be rolled back after a failed propagation (else only those tagged). */
  readonly autoRollback?: boolean;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
  readonly now: () => Date;
}

const claimInputSchema = z.object({
  input: workflowInputSchema,
  executionId: z.string().check(z.minLength(1), z.maxLength(2048)),
});

/**
 * What Claim returns for a version that is no longer AWSCURRENT when the execution reaches it (the
 * event was delivered late, or AWSCURRENT moved again meanwhile): nothing to do, the newer move's
 * propagation carries the secret. Ends the execution quietly, like a claim held by another.
 */
export interface SupersededClaim {
  readonly claimed: false;
  readonly superseded: true;
  readonly executionId: string;
  readonly secret: { readonly name: string; readonly arn: string };
  readonly versionId: string;
  readonly currentVersionId?: string;
}

/**
 * Claim: refuse unmanaged secrets, register the AWSCURRENT move (a replay of the same move gets the
 * same number; a version made current again gets a new one), then take the ledger's conditional
 * claim on (secret, version, move). `claimed: false` ends the execution quietly: the move is held
 * by another execution, or the version is no longer AWSCURRENT ({@link SupersededClaim}; an
 * error there used to fail the execution and page someone for a harmless race, fault row O-late).
 */
export async function claimStep(raw: unknown, deps: LedgerStepDeps): Promise<Claim | SupersededClaim> {
  const { input, executionId } = parseStepInput(claimInputSchema, raw, 'claim');
  assertManaged(input.secretId, deps.managedPrefixes);
  const unknown = (input.clusters ?? []).filter((c) => !deps.clusters.includes(c));
  if (unknown.length > 0) throw new RotationStateError(`Unknown cluster(s) ${unknown.join(', ')}`);
  const secret = await describeManagedSecret(deps.secrets, input.secretId, deps.managedPrefixes);
  deps.logger.appendKeys({ secretName: secret.name, versionId: input.versionId, executionId });
  const currentVersionId = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
  if (currentVersionId !== input.versionId) {
    deps.logger.info('version no longer AWSCURRENT: the newer move is propagated instead', {
      currentVersionId,
    });
    deps.metrics.addMetric('SupersededPropagationsSkipped', 'Count', 1);
    return {
      claimed: false,
      superseded: true,
      executionId,
      secret: { name: secret.name, arn: secret.arn },
      versionId: input.versionId,
      currentVersionId,
    };
  }
  const startedAt = deps.now().toISOString();
  const move = await deps.ledger.registerMove(secret.name, {
    versionId: input.versionId,
    fromVersionId: versionWith(secret.versionIdsToStages, 'AWSPREVIOUS'),
    at: startedAt,
    trigger: input.trigger,
    actor: input.actor,
  });
  const result = await deps.ledger.claimPropagation(
    {
      secretName: secret.name,
      secretArn: secret.arn,
      versionId: input.versionId,
      moveSeq: move.seq,
      fromVersionId: move.fromVersionId,
      trigger: input.trigger,
      actor: input.actor,
      reason: input.reason,
      executionId,
      startedAt,
    },
    { leaseMs: deps.leaseMs, now: deps.now() },
  );
  if (!result.claimed) {
    deps.logger.info('propagation already claimed', {
      heldBy: result.existing.executionId,
      status: result.existing.status,
      moveSeq: move.seq,
    });
    deps.metrics.addMetric('DuplicatePropagationsSkipped', 'Count', 1);
  }
  return {
    claimed: result.claimed,
    executionId,
    secret: { name: secret.name, arn: secret.arn, tags: { ...secret.tags } },
    versionId: input.versionId,
    previousVersionId: versionWith(secret.versionIdsToStages, 'AWSPREVIOUS'),
    moveSeq: move.seq,
    clusters: [...(input.clusters ?? deps.clusters)],
    budget: restartBudgetFor(input, deps),
    startedAt,
    trigger: input.trigger,
    actor: input.actor,
    reason: input.reason,
    retirePrevious: input.retirePrevious,
    rotatedBy: secret.rotationLambdaArn ?? '',
    rollBack:
      (deps.autoRollback || secret.tags[ROLLBACK_TAG]?.trim() === 'true') &&
      !input.emergency &&
      input.trigger !== 'emergency' &&
      versionWith(secret.versionIdsToStages, 'AWSPREVIOUS') !== undefined,
    heldBy: result.claimed ? undefined : result.existing.executionId,
    ...(input.movedAt && { movedAt: input.movedAt }),
  };
}

const recordInputSchema = z.object({ claim: claimSchema, clusters: z.array(clusterOutcomeSchema) });

export interface RecordResult {
  readonly outcome: 'succeeded' | 'failed';
  /**
   * The workflow should ask the secret's rotation function to roll AWSCURRENT back: the claim
   * allows it and consumers restarted onto the new version failed their rollouts.
   */
  readonly rollBack: boolean;
  readonly alert: { readonly subject: string; readonly message: string };
}

/** `rotator:rollback` = `true`: a failed propagation of this secret moves AWSCURRENT back. */
export const ROLLBACK_TAG = 'rotator:rollback';

/** Record: the outcome in the ledger (only the claim's holder may), plus duration and restart metrics. */
export async function recordStep(raw: unknown, deps: LedgerStepDeps): Promise<RecordResult> {
  const { claim, clusters } = parseStepInput(recordInputSchema, raw, 'record');
  const outcome = clusters.every((c) => c.outcome === 'succeeded') ? 'succeeded' : 'failed';
  const finishedAt = deps.now();
  const durationMs = finishedAt.getTime() - Date.parse(claim.startedAt);
  const recorded = await deps.ledger.finishPropagation(
    claim.secret.name,
    propagationKeyOf(claim),
    claim.executionId,
    {
      status: outcome,
      finishedAt: finishedAt.toISOString(),
      durationMs,
      clusters: clusters satisfies ClusterOutcome[],
    },
  );
  deps.metrics.addMetric('PropagationDuration', 'Milliseconds', durationMs);
  deps.metrics.addMetric(
    'RestartedWorkloads',
    'Count',
    clusters.reduce((n, c) => n + (c.counts?.restarted ?? c.restarted.length), 0),
  );
  deps.metrics.addMetric(outcome === 'succeeded' ? 'PropagationSucceeded' : 'PropagationFailed', 'Count', 1);
  const freshnessSeconds =
    outcome === 'succeeded' && claim.movedAt
      ? freshnessOf({ movedAt: freshnessStart(claim.movedAt, recorded?.windowWait) }, finishedAt)
      : undefined;
  if (freshnessSeconds !== undefined) {
    deps.metrics.addMetric(FRESHNESS_METRIC, 'Seconds', freshnessSeconds);
  }
  deps.logger.info('propagation recorded', { outcome, durationMs, freshnessSeconds, clusters });
  const rolloutsFailed = clusters.reduce((n, c) => n + (c.counts?.rolloutsFailed ?? 0), 0);
  return {
    outcome,
    rollBack: outcome === 'failed' && claim.rollBack === true && rolloutsFailed > 0,
    alert: alertFor(claim, outcome, clusters),
  };
}

/**
 * Where freshness starts: AWSCURRENT's move, or, when the propagation waited for a restart window
 * (its ledger record keeps the wait whose lease is the longest, i.e. the latest opening), that
 * window's opening: the wait is what the owners asked for, so the metric (and its alarm) measures
 * only the orchestrator's own delay. The wait comes back from Record's own outcome write: no read.
 */
function freshnessStart(movedAt: string, wait: Pick<WindowWait, 'until'> | undefined): string {
  const opened = wait?.until;
  return opened && Date.parse(opened) > Date.parse(movedAt) ? opened : movedAt;
}

/** Seconds from AWSCURRENT moving to the last consumer verified; alarmed on by RotationAlerts. */
export const FRESHNESS_METRIC = 'PropagationFreshness';

/**
 * A succeeded propagation's freshness: from AWSCURRENT moving (the starting event's time) to now,
 * when every consumer is verified. Unknown (undefined) without the event's time: a reconcile.
 * @example freshnessOf({ movedAt: '2026-12-01T10:00:00Z' }, new Date('2026-12-01T10:04:30Z')) // 270
 */
export function freshnessOf(claim: Pick<Claim, 'movedAt'>, verifiedAt: Date): number | undefined {
  if (!claim.movedAt) return undefined;
  return Math.max(0, Math.round((verifiedAt.getTime() - Date.parse(claim.movedAt)) / 1000));
}

const recordFailureInputSchema = z.object({
  /** The execution's state when the error was caught: its input, the claim if taken, the error. */
  state: z.object({
    secretId: z.optional(z.string()),
    versionId: z.optional(z.string()),
    moveSeq: z.optional(z.number().check(z.int(), z.positive())),
    claim: z.optional(claimSchema),
    error: caughtErrorSchema,
  }),
  /** This execution's name (the claim's executionId), for a Claim that failed after writing it. */
  executionId: z.optional(z.string().check(z.minLength(1))),
});

/**
 * The Catch path: record the failure on the claim this execution holds and describe it for the
 * alert. Never throws for the ledger write itself, so the alert still goes out.
 * - With no `$.claim` (the Claim step itself failed, possibly after its write: a crash or timeout),
 *   the claim is looked up by (secret, version, move) and this execution's name, so a claim it took
 *   is released as failed instead of blocking every start for the lease (hours); one it never took
 *   is left alone (the write is conditional on the holder).
 * - An outcome already recorded (Record wrote success, then crashed) is never rewritten: the
 *   alert says the propagation succeeded and which later step failed (review M1).
 */
export async function recordFailureStep(raw: unknown, deps: LedgerStepDeps): Promise<RecordResult> {
  const { state, executionId } = parseStepInput(recordFailureInputSchema, raw, 'record-failure');
  const { claim, error, secretId: requested } = state;
  const cause = causeText(error.Cause);
  const failure = `${error.Error}: ${cause}`;
  const held = heldClaim(state, executionId);
  let alreadySucceeded = false;
  if (held) {
    const finishedAt = deps.now();
    await deps.ledger
      .finishPropagation(
        held.secretName,
        held.key,
        held.executionId,
        {
          status: 'failed',
          finishedAt: finishedAt.toISOString(),
          durationMs: held.startedAt ? finishedAt.getTime() - Date.parse(held.startedAt) : undefined,
          error: failure.slice(0, 1000),
        },
        { onlyInProgress: true },
      )
      .catch((e: unknown) => {
        if (e instanceof PropagationAlreadyFinishedError) {
          alreadySucceeded = e.status === 'succeeded';
          deps.logger.info('outcome already recorded; not rewritten', { status: e.status });
          if (e.summaryNotUpdated) {
            deps.logger.warn('the summary still shows the propagation in progress', {
              error: e.summaryNotUpdated,
            });
          }
          return;
        }
        if (!claim && (e instanceof PropagationNotClaimedError || e instanceof PropagationHeldByOtherError)) {
          deps.logger.info('no claim of this execution to release');
          return;
        }
        // Worth another attempt (the state retries it); anything else must not stop the alert.
        if (asRetryable(e) instanceof TransientError) throw asRetryable(e);
        deps.logger.error('could not record the failure', { error: describeError(e) });
      });
  }
  if (!alreadySucceeded) deps.metrics.addMetric('PropagationFailed', 'Count', 1);
  deps.logger.error('propagation failed', { error: error.Error, cause });
  const secretId = claim?.secret.name ?? requested ?? 'unknown secret';
  const subject = alreadySucceeded
    ? `Propagated, then a step failed: ${secretDisplayName(secretId)}`
    : `Propagation failed: ${secretDisplayName(secretId)}`;
  return {
    outcome: 'failed',
    // A step failed: nothing says the new version was tried by a consumer, so nothing to roll back.
    rollBack: false,
    alert: {
      subject: alertSubject(subject),
      message: JSON.stringify({
        secret: secretId,
        versionId: claim?.versionId ?? state.versionId,
        ...(alreadySucceeded ? { recorded: 'succeeded' } : {}),
        error: failure.slice(0, 2000),
      }),
    },
  };
}

/** The claim this execution holds or may hold: from `$.claim`, or from its input and name. */
function heldClaim(
  state: z.infer<typeof recordFailureInputSchema>['state'],
  executionId: string | undefined,
):
  | {
      secretName: string;
      key: { versionId: string; moveSeq: number };
      executionId: string;
      startedAt?: string;
    }
  | undefined {
  const { claim } = state;
  if (claim) {
    return claim.claimed
      ? {
          secretName: claim.secret.name,
          key: propagationKeyOf(claim),
          executionId: claim.executionId,
          startedAt: claim.startedAt,
        }
      : undefined;
  }
  if (!executionId || !state.secretId || !state.versionId || state.moveSeq === undefined) return undefined;
  // The starter passes the secret's full ARN; the ledger is keyed by the name without its suffix.
  return {
    secretName: secretDisplayName(state.secretId),
    key: { versionId: state.versionId, moveSeq: state.moveSeq },
    executionId,
  };
}

const noteRollbackInputSchema = z.object({
  claim: claimSchema,
  clusters: z.array(clusterOutcomeSchema),
  rolledBack: z.object({
    status: z.enum(['rolled-back', 'superseded', 'rotation-in-progress']),
    previousVersionId: z.string(),
  }),
});

/**
 * After the rotation function answered a rollBack: the ledger's record of this propagation (still
 * `failed`) says what happened, and the alert says it too. Only the claim's holder writes.
 */
export async function noteRollbackStep(raw: unknown, deps: LedgerStepDeps): Promise<RecordResult['alert']> {
  const { claim, clusters, rolledBack } = parseStepInput(noteRollbackInputSchema, raw, 'note-rollback');
  const what =
    rolledBack.status === 'rolled-back'
      ? `rolled back: AWSCURRENT moved back to version ${rolledBack.previousVersionId}, and version ${claim.versionId} has no staging label; that move is propagated like any other`
      : rolledBack.status === 'superseded'
        ? `not rolled back: AWSCURRENT had moved on to another version`
        : `not rolled back: a rotation was pending`;
  const finishedAt = deps.now();
  await deps.ledger.finishPropagation(claim.secret.name, propagationKeyOf(claim), claim.executionId, {
    status: 'failed',
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - Date.parse(claim.startedAt),
    clusters,
    error: what,
  });
  if (rolledBack.status === 'rolled-back') deps.metrics.addMetric('RollbacksDone', 'Count', 1);
  deps.logger.warn('propagation failed; rollback', { rollback: rolledBack.status });
  const { message } = alertFor(claim, 'failed', clusters, { rollback: what });
  return {
    subject: alertSubject(
      `Propagation failed, ${rolledBack.status === 'rolled-back' ? 'rolled back' : 'not rolled back'}: ${claim.secret.name}`,
    ),
    message,
  };
}

const retireInputSchema = z.object({ claim: claimSchema });

/** Retire the previous version (remove AWSPREVIOUS) once every consumer runs the new one. */
export async function retirePreviousStep(raw: unknown, deps: LedgerStepDeps): Promise<{ retired?: string }> {
  const { claim } = parseStepInput(retireInputSchema, raw, 'retire-previous');
  if (!claim.previousVersionId) return {};
  // Idempotent: a retried step, or a label moved on since the claim, finds nothing to remove.
  const now = await deps.secrets.describeSecret(claim.secret.arn);
  if (!(now.versionIdsToStages[claim.previousVersionId] ?? []).includes('AWSPREVIOUS')) return {};
  await deps.secrets.removeStage(claim.secret.arn, 'AWSPREVIOUS', claim.previousVersionId);
  deps.logger.info('previous version retired', { previousVersionId: claim.previousVersionId });
  return { retired: claim.previousVersionId };
}

/** SNS takes 256 KiB per message; ours stay far below it (every list in the outcome is capped). */
export const MAX_ALERT_FAILURES = 50;

/** The alert for an outcome: names, versions and capped failure lines; `extra` adds fields (a rollback). */
function alertFor(
  claim: Claim,
  outcome: 'succeeded' | 'failed',
  clusters: readonly ClusterOutcome[],
  extra: Readonly<Record<string, string>> = {},
) {
  const failures = clusters.flatMap((c) => c.failed.map((f) => `${c.cluster}: ${f}`));
  const notRestarted = clusters.flatMap((c) => (c.notRestarted ?? []).map((w) => `${c.cluster}: ${w}`));
  const total = clusters.reduce((n, c) => n + (c.counts?.failed ?? c.failed.length), 0);
  return {
    subject: alertSubject(`Propagation ${outcome}: ${claim.secret.name}`),
    message: JSON.stringify({
      secret: claim.secret.name,
      versionId: claim.versionId,
      move: { seq: claim.moveSeq, from: claim.previousVersionId },
      trigger: claim.trigger,
      actor: claim.actor,
      execution: claim.executionId,
      failures: failures.slice(0, MAX_ALERT_FAILURES),
      ...(total > Math.min(failures.length, MAX_ALERT_FAILURES)
        ? { failuresLeftOut: total - Math.min(failures.length, MAX_ALERT_FAILURES) }
        : {}),
      ...(notRestarted.length > 0
        ? {
            notRestarted: notRestarted.slice(0, MAX_ALERT_FAILURES),
            notRestartedCount: clusters.reduce((n, c) => n + (c.counts?.notRestarted ?? 0), 0),
          }
        : {}),
      ...extra,
    }),
  };
}

function propagationKeyOf(claim: Claim) {
  return { versionId: claim.versionId, moveSeq: claim.moveSeq };
}

/**
 * An SNS subject: ASCII only and fewer than 100 characters, or SNS refuses the publish (moto does
 * not check either). A cut ends in "...".
 */
export function alertSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 99 ? ascii : `${ascii.slice(0, 96)}...`;
}
