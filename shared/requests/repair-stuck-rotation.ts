import type { SecretsPort } from '../secrets/secrets-port';

/** The one call a repair makes: UpdateSecretVersionStage, AWSPENDING removed and moved nowhere. */
export type PendingStagePort = Pick<SecretsPort, 'removeStage'>;

/**
 * Repairs a stuck rotation the way AWS's troubleshooting guide recommends: removes the AWSPENDING
 * label from the version the failed rotation left behind, so that RotateSecret is accepted again.
 * The version itself (with or without a value) stays; nothing reads a version without a label.
 */
export async function repairStuckRotation(
  port: PendingStagePort,
  secretId: string,
  pendingVersionId: string,
): Promise<{ readonly repairedPendingVersionId: string }> {
  await port.removeStage(secretId, 'AWSPENDING', pendingVersionId);
  return { repairedPendingVersionId: pendingVersionId };
}
