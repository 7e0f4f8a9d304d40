import { RotationStateError } from '../errors';
import type { SecretDescription } from '../secrets/secrets-port';

export type StepDecision = { readonly kind: 'run' } | { readonly kind: 'already-current' };

/**
 * The guards of AWS's rotation templates, as a pure decision: rotation must be enabled, the token
 * must be a version of this secret, a version already AWSCURRENT needs nothing, and anything else
 * must be AWSPENDING.
 */
export function decideStep(secret: SecretDescription, token: string): StepDecision {
  if (!secret.rotationEnabled) {
    throw new RotationStateError(`Rotation is not enabled for secret "${secret.name}"`);
  }
  const stages = secret.versionIdsToStages[token];
  if (stages === undefined) {
    throw new RotationStateError(`Version ${token} is not a version of secret "${secret.name}"`);
  }
  if (stages.includes('AWSCURRENT')) return { kind: 'already-current' };
  if (!stages.includes('AWSPENDING')) {
    throw new RotationStateError(`Version ${token} of secret "${secret.name}" is not AWSPENDING`);
  }
  return { kind: 'run' };
}
