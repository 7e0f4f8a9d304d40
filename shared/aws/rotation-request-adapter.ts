import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { toAwsCallError } from '../errors';
import type { RotationRequestPort } from '../requests/request-rotation';
import type { SecretDescription } from '../secrets/secrets-port';
import { removePendingStage, versionCreatedAt } from './secret-versions';
import { SecretsManagerAdapter } from './secrets-manager-adapter';

/** {@link RotationRequestPort} over the AWS SDK v3 client, which the caller constructs and owns. */
export class RotationRequestAdapter implements RotationRequestPort {
  private readonly secrets: SecretsManagerAdapter;

  constructor(private readonly client: SecretsManagerClient) {
    this.secrets = new SecretsManagerAdapter(client);
  }

  describeSecret(secretId: string): Promise<SecretDescription> {
    return this.secrets.describeSecret(secretId);
  }

  /**
   * Starts a rotation with the secret's configured function now. The version id is ours
   * (`ClientRequestToken`): Secrets Manager uses it as the new version's id and will not create a
   * second version for the same token.
   */
  async rotateSecret(request: { readonly secretId: string; readonly versionId: string }): Promise<void> {
    try {
      await this.client.send(
        new RotateSecretCommand({
          SecretId: request.secretId,
          ClientRequestToken: request.versionId,
          RotateImmediately: true,
        }),
      );
    } catch (error) {
      throw toAwsCallError('RotateSecret', request.secretId, error);
    }
  }

  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    return versionCreatedAt(this.client, secretId, versionId);
  }

  removePendingStage(secretId: string, versionId: string): Promise<void> {
    return removePendingStage(this.client, secretId, versionId);
  }
}
