import {
  paginateListSecretVersionIds,
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
  try {
    for await (const page of paginateListSecretVersionIds(
      { client, pageSize: 100 },
      { SecretId: secretId },
    )) {
      const version = page.Versions?.find((v) => v.VersionId === versionId);
      if (version) return version.CreatedDate;
    }
  } catch (error) {
    throw toAwsCallError('ListSecretVersionIds', secretId, error);
  }
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
