import { RotationTestFailedError } from '../errors';
import type { SecretDescription, SecretsPort } from '../secrets/secrets-port';
import { versionWith } from '../secrets/versions';
import type { RotationEvent, RotationStep } from './rotation-event';
import { assertWithinSizeLimit } from './secret-size';
import type { RotationStrategy } from './strategy';

/** The Secrets Manager calls the four rotation steps make. */
export type RotationStepSecrets = Pick<
  SecretsPort,
  'getSecretString' | 'findSecretString' | 'putPendingValue' | 'moveCurrentStage'
>;

export interface StepInput {
  readonly event: RotationEvent;
  readonly secret: SecretDescription;
  readonly secrets: RotationStepSecrets;
  readonly strategy: RotationStrategy;
}

/** What a step did, for logs and the caller; never a value. */
export type StepOutcome =
  | 'already-current'
  | 'pending-created'
  | 'pending-exists'
  | 'target-updated'
  | 'tested'
  | 'current-moved';

const PENDING = 'AWSPENDING';

/** createSecret: put a new value as AWSPENDING, unless that version already has one. */
async function createSecret({ event, secret, secrets, strategy }: StepInput): Promise<StepOutcome> {
  const current = await secrets.getSecretString(secret.arn, { versionStage: 'AWSCURRENT' });
  const existing = await secrets.findSecretString(secret.arn, {
    versionId: event.ClientRequestToken,
    versionStage: PENDING,
  });
  if (existing !== undefined) return 'pending-exists';
  const value = await strategy.createValue({ secret, current });
  assertWithinSizeLimit(secret.name, value);
  await secrets.putPendingValue({
    secretId: secret.arn,
    versionId: event.ClientRequestToken,
    value,
    rotationToken: event.RotationToken,
  });
  return 'pending-created';
}

/** setSecret: make the target system accept the pending value. */
async function setSecret({ event, secret, secrets, strategy }: StepInput): Promise<StepOutcome> {
  const pending = await secrets.getSecretString(secret.arn, {
    versionId: event.ClientRequestToken,
    versionStage: PENDING,
  });
  const staged = {
    current: () => secrets.getSecretString(secret.arn, { versionStage: 'AWSCURRENT' }),
    previous: () => secrets.findSecretString(secret.arn, { versionStage: 'AWSPREVIOUS' }),
  };
  await strategy.applyToTarget({ secret, pending, staged });
  return 'target-updated';
}

/** testSecret: prove the pending value works. Also what a RotateImmediately=false run calls. */
async function testSecret({ event, secret, secrets, strategy }: StepInput): Promise<StepOutcome> {
  const pending = await secrets.getSecretString(secret.arn, {
    versionId: event.ClientRequestToken,
    versionStage: PENDING,
  });
  try {
    await strategy.test({ secret, pending });
  } catch (error) {
    // The strategy's own error (a driver's, with its DSN) stops here: name and sanitized text only.
    throw new RotationTestFailedError(secret.name, error);
  }
  return 'tested';
}

/** finishSecret: move AWSCURRENT to the pending version (AWSPREVIOUS follows automatically). */
async function finishSecret({ event, secret, secrets }: StepInput): Promise<StepOutcome> {
  const current = versionWith(secret.versionIdsToStages, 'AWSCURRENT');
  if (current === event.ClientRequestToken) return 'already-current';
  await secrets.moveCurrentStage({
    secretId: secret.arn,
    toVersionId: event.ClientRequestToken,
    fromVersionId: current,
  });
  return 'current-moved';
}

export const ROTATION_STEP_HANDLERS: Readonly<
  Record<RotationStep, (input: StepInput) => Promise<StepOutcome>>
> = { createSecret, setSecret, testSecret, finishSecret };
