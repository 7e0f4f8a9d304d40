/**
 * The workflow's first step: claim the propagation of one secret version in the ledger, exactly
 * once across duplicate and concurrent executions, with the restart budget it runs under.
 */

import { RotationStateError } from '../errors';
import { assertManaged } from '../managed-prefixes';
import * as z from '../schema';
import { describeManagedSecret } from '../secrets/describe-managed';
import { versionWith } from '../secrets/versions';
import type { LedgerStepDeps } from './ledger-step-deps';
import { parseStepInput } from './parse-step-input';
import { type Claim, type RestartBudget, workflowInputSchema } from './workflow-state';

/** `rotator:rollback` = `true`: a failed propagation of this secret moves AWSCURRENT back. */
export const ROLLBACK_TAG = 'rotator:rollback';

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
  // From AWSPREVIOUS, or, where none is left (a rollback removes it), the ledger's previous move
  // (registerMove); when AWSCURRENT moved, from the event (a reconcile has none).
  const move = await deps.ledger.registerMove(secret.name, {
    versionId: input.versionId,
    fromVersionId: versionWith(secret.versionIdsToStages, 'AWSPREVIOUS'),
    at: startedAt,
    ...(input.movedAt && { movedAt: input.movedAt }),
    trigger: input.trigger,
    actor: input.actor,
    ...(input.byRotation !== undefined && { byRotation: input.byRotation }),
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
