import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import type { LocalClients } from '../../harness/local-aws';
import { createSecret, startRotation } from '../../harness/rotation-fixture';

/**
 * Moto 5.2.5 quirk workaround (test-only): RotateSecret without RotationLambdaARN makes moto forget
 * the secret's configured function and move AWSCURRENT onto the new, empty version at once; AWS
 * keeps the configured function and leaves the new version AWSPENDING. Production code sends no
 * ARN (it rotates with the configured function), so this client middleware adds the placeholder's
 * ARN to such calls, and moto then behaves as AWS does.
 */
export function keepConfiguredRotationFunction(clients: LocalClients, placeholderArn: string): void {
  clients.secretsManager.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { RotationLambdaARN?: string };
      if (context.commandName === 'RotateSecretCommand' && !input.RotationLambdaARN) {
        input.RotationLambdaARN = placeholderArn;
      }
      return next(args);
    },
    { step: 'initialize', name: 'motoKeepConfiguredRotationFunction' },
  );
}

/**
 * A secret with rotation configured and no rotation under way: created with `value`, rotated once
 * by the placeholder function (moto runs no code), and that rotation's AWSPENDING label removed,
 * so AWSCURRENT is still the first version, holding `value`.
 */
export async function idleRotatingSecret(
  clients: LocalClients,
  name: string,
  value: string,
  placeholderArn: string,
) {
  const arn = await createSecret(clients, name, value);
  const currentVersionId = (await stagesOf(clients, arn)).current;
  const token = await startRotation(clients, arn, placeholderArn);
  await clients.secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
  return { arn, currentVersionId };
}

/** A secret whose rotation started and did not finish: AWSPENDING on a version that is not AWSCURRENT. */
export async function unfinishedRotationSecret(
  clients: LocalClients,
  name: string,
  value: string,
  placeholderArn: string,
) {
  const arn = await createSecret(clients, name, value);
  return { arn, pendingVersionId: await startRotation(clients, arn, placeholderArn) };
}

/** The secret's version → stages map, with the AWSCURRENT and AWSPENDING versions picked out. */
export async function stagesOf(clients: LocalClients, secretId: string) {
  const described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = described.VersionIdsToStages ?? {};
  const holding = (label: string) => Object.keys(stages).filter((v) => stages[v]?.includes(label));
  return { stages, current: holding('AWSCURRENT')[0] ?? '', pending: holding('AWSPENDING') };
}
