import type { RotationConfig } from '../config';
import * as z from '../schema';
import { describeManagedSecret } from '../secrets/describe-managed';
import type { SecretsPort } from '../secrets/secrets-port';
import { unfinishedPendingVersion, versionWith } from '../secrets/versions';
import { parseEvent } from './rotation-event';
import type { RevokeOutcome } from './strategy';
import { type StrategyRegistry, selectStrategy } from './strategy-registry';

/**
 * The internal event that asks the rotation function to revoke the credential of AWSPREVIOUS, sent
 * by the propagation workflow once every consumer runs `versionId`. Unknown extra fields are ignored.
 * @example { "rotatorAction": "revokePrevious", "secretId": "prod/app/db", "versionId": "3c3093d2-…" }
 */
const revokePreviousEventSchema = z.object({
  rotatorAction: z.literal('revokePrevious'),
  secretId: z.string().check(z.minLength(1), z.maxLength(2048)),
  versionId: z.string().check(z.minLength(32), z.maxLength(64)),
});

export type RevokePreviousEvent = z.infer<typeof revokePreviousEventSchema>;

/** Parses an untrusted event; the error names the bad fields, never their values. */
export function parseRevokePreviousEvent(event: unknown): RevokePreviousEvent {
  return parseEvent(revokePreviousEventSchema, event, 'revokePrevious');
}

/** The calls this step makes; the rotation function's RotationDeps satisfy it. */
export interface RevokePreviousDeps {
  readonly config: Pick<RotationConfig, 'managedPrefixes'>;
  readonly secrets: Pick<SecretsPort, 'describeSecret' | 'getSecretString' | 'findSecretString'>;
  readonly strategies: StrategyRegistry;
}

/**
 * What the step did, JSON-safe and never a value: the strategy's {@link RevokeOutcome} (`revoked`,
 * `already-revoked` with the user's name; `nothing-to-revoke` with why), or, with nothing changed,
 * `superseded` (`versionId` is no longer AWSCURRENT), `rotation-in-progress` (a newer version is
 * AWSPENDING: its setSecret gives the previous user a new password anyway) or `not-supported` (the
 * secret's strategy has no revokePrevious, e.g. `generated`).
 */
export type RevokePreviousResult = {
  readonly secretName: string;
  readonly versionId: string;
} & (RevokeOutcome | { readonly status: 'superseded' | 'rotation-in-progress' | 'not-supported' });

/**
 * Revokes the previous credential of a managed secret whose AWSCURRENT is still `versionId`.
 * Refuses malformed events (InvalidEventError) and unmanaged secrets (SecretNotManagedError) before
 * any AWS call; changes nothing when AWSCURRENT has moved on or a rotation is under way. Safe to
 * repeat. Call it only once every consumer of the secret runs `versionId`, and before anything
 * takes the AWSPREVIOUS label away (RetirePrevious): without it there is nothing to revoke.
 * @example await revokePreviousStep({ rotatorAction: 'revokePrevious', secretId: 'prod/app/db', versionId }, deps)
 */
export async function revokePreviousStep(
  rawEvent: unknown,
  deps: RevokePreviousDeps,
): Promise<RevokePreviousResult> {
  const event = parseRevokePreviousEvent(rawEvent);
  const secret = await describeManagedSecret(deps.secrets, event.secretId, deps.config.managedPrefixes);
  const result = { secretName: secret.name, versionId: event.versionId };
  if (versionWith(secret.versionIdsToStages, 'AWSCURRENT') !== event.versionId) {
    return { ...result, status: 'superseded' };
  }
  if (unfinishedPendingVersion(secret.versionIdsToStages) !== undefined) {
    return { ...result, status: 'rotation-in-progress' };
  }
  const strategy = selectStrategy(secret, deps.strategies);
  if (strategy.revokePrevious === undefined) return { ...result, status: 'not-supported' };
  const current = await deps.secrets.getSecretString(secret.arn, {
    versionId: event.versionId,
    versionStage: 'AWSCURRENT',
  });
  const previous = await deps.secrets.findSecretString(secret.arn, { versionStage: 'AWSPREVIOUS' });
  return { ...result, ...outcomeFields(await strategy.revokePrevious({ secret, current, previous })) };
}

/** Only the documented fields: whatever else a strategy's object carries never reaches the result. */
function outcomeFields(outcome: RevokeOutcome): RevokeOutcome {
  return outcome.status === 'nothing-to-revoke'
    ? { status: outcome.status, reason: outcome.reason }
    : { status: outcome.status, username: outcome.username };
}
