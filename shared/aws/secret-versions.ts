import {
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';

/**
 * When one version of a secret was created, from ListSecretVersionIds (paginated, 100 a page);
 * `undefined` when the version is not listed. Used to judge unfinished rotations.
 */
export async function versionCreatedAt(
  client: SecretsManagerClient,
  secretId: string,
  versionId: string,
): Promise<Date | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await client
      .send(new ListSecretVersionIdsCommand({ SecretId: secretId, NextToken: nextToken, MaxResults: 100 }))
      .catch((error: unknown) => {
        throw toAwsCallError('ListSecretVersionIds', secretId, error);
      });
    const version = page.Versions?.find((v) => v.VersionId === versionId);
    if (version) return version.CreatedDate;
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}

/** UpdateSecretVersionStage removing AWSPENDING from one version and moving it nowhere. */
export async function removePendingStage(
  client: SecretsManagerClient,
  secretId: string,
  versionId: string,
): Promise<void> {
  try {
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: versionId,
      }),
    );
  } catch (error) {
    throw toAwsCallError('UpdateSecretVersionStage', secretId, error);
  }
}
