import {
  RotateSecretCommand,
  type RotationRulesType,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';
import type { RotationSchedule } from '../sweep/schedule-rules';

/** The RotationRules Secrets Manager takes for a schedule: days or an expression, never both. */
export function rotationRulesOf(schedule: RotationSchedule): RotationRulesType {
  return {
    ...(schedule.kind === 'days'
      ? { AutomaticallyAfterDays: schedule.days }
      : { ScheduleExpression: schedule.expression }),
    ...(schedule.windowHours !== undefined && { Duration: `${schedule.windowHours}h` }),
  };
}

/**
 * Sets a secret's rotation function and schedule without rotating it: RotateSecret with
 * `RotateImmediately: false`, on which Secrets Manager runs only the function's testSecret step
 * (against a temporary AWSPENDING version it then removes) and turns rotation on.
 */
export async function configureRotation(
  client: SecretsManagerClient,
  request: {
    readonly secretId: string;
    readonly rotationLambdaArn: string;
    readonly schedule: RotationSchedule;
  },
): Promise<void> {
  try {
    await client.send(
      new RotateSecretCommand({
        SecretId: request.secretId,
        RotationLambdaARN: request.rotationLambdaArn,
        RotationRules: rotationRulesOf(request.schedule),
        RotateImmediately: false,
      }),
    );
  } catch (error) {
    throw toAwsCallError('RotateSecret', request.secretId, error);
  }
}
