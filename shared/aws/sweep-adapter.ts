import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';
import type { SweepPort } from '../sweep/run-sweep';
import { listManagedSecrets } from './list-managed-secrets';
import { removePendingStage, versionCreatedAt } from './secret-versions';

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

  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    return versionCreatedAt(this.client, secretId, versionId);
  }

  removePendingStage(secretId: string, versionId: string): Promise<void> {
    return removePendingStage(this.client, secretId, versionId);
  }
}
