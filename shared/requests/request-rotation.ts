import { randomUUID } from 'node:crypto';
import { RotationInProgressError } from '../errors';
import type { LedgerPort } from '../ledger/ledger-port';
import type { RotationLogger, RotationMetrics } from '../observability';
import { describeManagedSecret } from '../secrets/describe-managed';
import type { SecretDescription, SecretsPort } from '../secrets/secrets-port';
import { unfinishedPendingVersion } from '../secrets/versions';
import { assertEmergencyAllowed } from './emergency-cooldown';
import { planRotationRequest } from './plan-rotation-request';
import { repairStuckRotation } from './repair-stuck-rotation';
import { parseRotationRequest } from './rotation-request';

/** The Secrets Manager calls a rotation request makes, and no others. */
export type RotationRequestPort = Pick<
  SecretsPort,
  'describeSecret' | 'rotateSecret' | 'versionCreatedAt' | 'removeStage'
>;

export interface RotationRequestConfig {
  readonly managedPrefixes: readonly string[];
  /** An AWSPENDING version older than this, off the current version, is a stuck rotation. */
  readonly stuckAfterMs: number;
  /**
   * An emergency request less than this long after the secret's last emergency request is refused
   * with {@link EmergencyCooldownError}; 0 disables. The request function always sets it (15
   * minutes unless configured, see request-config.ts). @default 0 (no cooldown)
   */
  readonly emergencyCooldownMs?: number;
}

export interface RotationRequestDeps {
  readonly port: RotationRequestPort;
  readonly ledger: Pick<LedgerPort, 'recordRotation' | 'history'>;
  readonly config: RotationRequestConfig;
  readonly logger: RotationLogger;
  readonly metrics: RotationMetrics;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface RotationRequestResult {
  readonly secretName: string;
  readonly secretArn: string;
  readonly versionId: string;
  readonly repairedPendingVersionId?: string;
}

/**
 * Rotates one managed secret now. Refuses malformed input and unmanaged secrets before any call,
 * repairs a stuck (or, for an emergency, any) unfinished rotation and refuses a fresh one with
 * {@link RotationInProgressError}, refuses an emergency inside the secret's emergency cooldown
 * with {@link EmergencyCooldownError} (read from the ledger's history; nothing changed), records
 * the rotation in the ledger, and only then calls RotateSecret with the new version's id as
 * `ClientRequestToken`, so a retried request (same `versionId`) neither rotates twice nor leaves a
 * rotation the ledger does not know.
 * Appends the secret, version, actor and trigger to the log keys; a failure is thrown, not logged:
 * the function's handler logs it once (logFailureOnce), the function URL path with its answer.
 * @example await requestRotation({ secretId: 'prod/app/db', reason: 'leaked', actor: 'arn:…', trigger: 'emergency', emergency: true, retirePrevious: true }, deps)
 */
export async function requestRotation(
  rawInput: unknown,
  deps: RotationRequestDeps,
): Promise<RotationRequestResult> {
  const request = parseRotationRequest(rawInput);
  const versionId = request.versionId ?? randomUUID();
  deps.logger.appendKeys({
    secretId: request.secretId,
    versionId,
    actor: request.actor,
    trigger: request.trigger,
  });
  const secret = await describeManagedSecret(deps.port, request.secretId, deps.config.managedPrefixes);
  const plan = planRotationRequest({
    versionIdsToStages: secret.versionIdsToStages,
    versionId,
    emergency: request.emergency,
    // The pending version's age matters only to a new, non-emergency request.
    pendingAgeMs:
      request.emergency || Object.hasOwn(secret.versionIdsToStages, versionId)
        ? undefined
        : await pendingAge(secret, deps),
    stuckAfterMs: deps.config.stuckAfterMs,
  });
  const result = { secretName: secret.name, secretArn: secret.arn, versionId };
  if (plan.kind === 'already-requested') {
    deps.logger.info('rotation already requested; nothing done again', { secretName: secret.name });
    return result;
  }
  if (plan.kind === 'refuse') throw new RotationInProgressError(secret.name, plan.pendingVersionId);
  if (request.emergency) {
    await assertEmergencyAllowed(deps.ledger, {
      secretName: secret.name,
      versionId,
      now: deps.now?.() ?? new Date(),
      cooldownMs: deps.config.emergencyCooldownMs ?? 0,
    });
  }
  deps.metrics.addDimension('Trigger', request.trigger);
  const repaired =
    plan.kind === 'repair-then-rotate'
      ? await repairStuckRotation(deps.port, secret.arn, plan.pendingVersionId)
      : {};
  if ('repairedPendingVersionId' in repaired) deps.metrics.addMetric('StuckRotationRepaired', 'Count', 1);
  await deps.ledger.recordRotation({
    ...result,
    trigger: request.trigger,
    actor: request.actor,
    reason: request.reason,
    requestedAt: (deps.now?.() ?? new Date()).toISOString(),
    emergency: request.emergency,
    retirePrevious: request.retirePrevious,
    ...repaired,
  });
  await deps.port.rotateSecret({ secretId: secret.arn, versionId });
  deps.metrics.addMetric('RotationRequested', 'Count', 1);
  deps.logger.info('rotation requested', {
    secretName: secret.name,
    emergency: request.emergency,
    ...repaired,
  });
  return { ...result, ...repaired };
}

/** Age of the secret's unfinished rotation, if it has one; `undefined` when its version is not listed. */
async function pendingAge(secret: SecretDescription, deps: RotationRequestDeps): Promise<number | undefined> {
  const pending = unfinishedPendingVersion(secret.versionIdsToStages);
  if (!pending) return undefined;
  const created = await deps.port.versionCreatedAt(secret.arn, pending);
  return created ? (deps.now?.() ?? new Date()).getTime() - created.getTime() : undefined;
}
