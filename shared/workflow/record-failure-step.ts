/**
 * The workflow's Catch path: release the claim this execution holds (or may hold) as failed, never
 * rewriting an outcome already recorded, and describe the failure for the alert.
 */

import {
  asRetryable,
  describeError,
  PropagationAlreadyFinishedError,
  PropagationHeldByOtherError,
  PropagationNotClaimedError,
  TransientError,
} from '../errors';
import * as z from '../schema';
import { secretDisplayName } from '../secrets/secret-id';
import { causeText } from './cluster-outcome';
import { type LedgerStepDeps, propagationKeyOf } from './ledger-step-deps';
import { parseStepInput } from './parse-step-input';
import { alertSubject } from './propagation-alert';
import type { RecordResult } from './record-step';
import { caughtErrorSchema, claimSchema } from './workflow-state';

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
