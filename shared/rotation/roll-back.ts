import type { RotationConfig } from '../config';
import { RollbackRefusedError } from '../errors';
import * as z from '../schema';
import { describeManagedSecret } from '../secrets/describe-managed';
import type { SecretsPort } from '../secrets/secrets-port';
import { unfinishedPendingVersion, versionWith } from '../secrets/versions';
import { parseEvent } from './rotation-event';
import { type StrategyRegistry, selectStrategy } from './strategy-registry';

/**
 * The internal event that asks a rotation function to move AWSCURRENT back from `versionId` (whose
 * propagation failed) to `previousVersionId`, sent by the propagation workflow for a secret that
 * opted in to automatic rollback. Unknown extra fields are ignored.
 * @example { "rotatorAction": "rollBack", "secretId": "prod/app/db", "versionId": "…", "previousVersionId": "…" }
 */
const rollBackEventSchema = z.object({
  rotatorAction: z.literal('rollBack'),
  secretId: z.string().check(z.minLength(1), z.maxLength(2048)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
  previousVersionId: z.string().check(z.minLength(32), z.maxLength(64)),
});

export type RollBackEvent = z.infer<typeof rollBackEventSchema>;

/** Parses an untrusted event; the error names the bad fields, never their values. */
export function parseRollBackEvent(event: unknown): RollBackEvent {
  return parseEvent(rollBackEventSchema, event, 'rollBack');
}

export interface RollBackDeps {
  readonly config: Pick<RotationConfig, 'managedPrefixes'>;
  readonly secrets: Pick<
    SecretsPort,
    'describeSecret' | 'getSecretString' | 'moveCurrentStage' | 'removeStage'
  >;
  readonly strategies: StrategyRegistry;
}

/**
 * What the step did, never a value: `rolled-back` (AWSCURRENT is on `previousVersionId`, and
 * `versionId` has no staging label), or, with nothing changed, `superseded` (AWSCURRENT has moved
 * to a third version) or `rotation-in-progress` (a rotation is pending: its own steps decide).
 */
export interface RollBackResult {
  readonly secretName: string;
  readonly versionId: string;
  readonly previousVersionId: string;
  readonly status: 'rolled-back' | 'superseded' | 'rotation-in-progress';
}

/**
 * Moves AWSCURRENT of a managed secret back from `versionId` to `previousVersionId` and takes the
 * AWSPREVIOUS label Secrets Manager then puts on `versionId` away, so the failed version is left
 * with no label. Only when `previousVersionId` holds AWSPREVIOUS and the secret's strategy says the
 * previous credential still works (refused with RollbackRefusedError otherwise, nothing changed).
 * Repeating it after it succeeded (a retried task) finishes what is left and returns `rolled-back`.
 * The AWSCURRENT move it makes is propagated like any other (its events start the workflow).
 * @example await rollBackStep({ rotatorAction: 'rollBack', secretId, versionId, previousVersionId }, deps)
 */
export async function rollBackStep(rawEvent: unknown, deps: RollBackDeps): Promise<RollBackResult> {
  const event = parseRollBackEvent(rawEvent);
  const secret = await describeManagedSecret(deps.secrets, event.secretId, deps.config.managedPrefixes);
  const result = {
    secretName: secret.name,
    versionId: event.versionId,
    previousVersionId: event.previousVersionId,
  };
  const stages = secret.versionIdsToStages;
  const current = versionWith(stages, 'AWSCURRENT');
  if (current === event.previousVersionId) {
    // Rolled back already (this is a retry): take the label off the failed version if still there.
    if ((stages[event.versionId] ?? []).includes('AWSPREVIOUS')) {
      await deps.secrets.removeStage(secret.arn, 'AWSPREVIOUS', event.versionId);
    }
    return { ...result, status: 'rolled-back' };
  }
  if (current !== event.versionId) return { ...result, status: 'superseded' };
  if (unfinishedPendingVersion(stages) !== undefined) return { ...result, status: 'rotation-in-progress' };
  if (!(stages[event.previousVersionId] ?? []).includes('AWSPREVIOUS')) {
    throw new RollbackRefusedError(
      `Rolling "${secret.name}" back refused: version ${event.previousVersionId} is not AWSPREVIOUS any more; nothing was changed`,
    );
  }
  const strategy = selectStrategy(secret, deps.strategies);
  const previous = await deps.secrets.getSecretString(secret.arn, {
    versionId: event.previousVersionId,
    versionStage: 'AWSPREVIOUS',
  });
  const validity = strategy.previousStillValid
    ? await strategy.previousStillValid({ secret, previous })
    : { valid: false as const, reason: `strategy "${strategy.name}" cannot tell whether it still works` };
  if (!validity.valid) {
    throw new RollbackRefusedError(
      `Rolling "${secret.name}" back refused: ${validity.reason}; nothing was changed`,
    );
  }
  await deps.secrets.moveCurrentStage({
    secretId: secret.arn,
    toVersionId: event.previousVersionId,
    fromVersionId: event.versionId,
  });
  await deps.secrets.removeStage(secret.arn, 'AWSPREVIOUS', event.versionId);
  return { ...result, status: 'rolled-back' };
}
