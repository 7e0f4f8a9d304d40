import {
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';
import type { SweepPort } from '../sweep/run-sweep';
import { listManagedSecrets } from './list-managed-secrets';

/** {@link SweepPort} over the AWS SDK v3 client. */
export class SweepAdapter implements SweepPort {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly managedPrefixes: readonly string[],
  ) {}

  listManagedSecrets() {
    return listManagedSecrets(this.client, this.managedPrefixes);
  }

  async rotateSecret(secretId: string): Promise<string | undefined> {
    try {
      return (await this.client.send(new RotateSecretCommand({ SecretId: secretId }))).VersionId;
    } catch (error) {
      throw toAwsCallError('RotateSecret', secretId, error);
    }
  }

  async versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.client
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
}
