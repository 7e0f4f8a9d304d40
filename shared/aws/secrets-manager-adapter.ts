import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SecretShapeError, toAwsCallError } from '../errors';
import type { PasswordPolicy } from '../rotation/password-policy';
import type { SecretDescription, SecretsPort, VersionSelector } from '../secrets/secrets-port';

/** {@link SecretsPort} over the AWS SDK v3 client, which the caller constructs and owns. */
export class SecretsManagerAdapter implements SecretsPort {
  constructor(private readonly client: SecretsManagerClient) {}

  async describeSecret(secretId: string): Promise<SecretDescription> {
    const out = await this.call('DescribeSecret', secretId, () =>
      this.client.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
    return {
      arn: out.ARN ?? secretId,
      name: out.Name ?? secretId,
      rotationEnabled: out.RotationEnabled === true,
      versionIdsToStages: out.VersionIdsToStages ?? {},
      tags: Object.fromEntries((out.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
    };
  }

  async getSecretString(secretId: string, selector: VersionSelector): Promise<string> {
    const out = await this.call('GetSecretValue', secretId, () =>
      this.client.send(
        new GetSecretValueCommand({
          SecretId: secretId,
          VersionId: selector.versionId,
          VersionStage: selector.versionStage,
        }),
      ),
    );
    if (out.SecretString === undefined) {
      throw new SecretShapeError(
        `Secret "${secretId}" holds a binary value; only string secrets are rotated`,
      );
    }
    return out.SecretString;
  }

  async findSecretString(secretId: string, selector: VersionSelector): Promise<string | undefined> {
    try {
      return await this.getSecretString(secretId, selector);
    } catch (error) {
      if (error instanceof Error && error.cause instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async putPendingValue(request: {
    secretId: string;
    versionId: string;
    value: string;
    rotationToken?: string | undefined;
  }): Promise<void> {
    await this.call('PutSecretValue', request.secretId, () =>
      this.client.send(
        new PutSecretValueCommand({
          SecretId: request.secretId,
          ClientRequestToken: request.versionId,
          SecretString: request.value,
          VersionStages: ['AWSPENDING'],
          RotationToken: request.rotationToken,
        }),
      ),
    );
  }

  async moveCurrentStage(request: {
    secretId: string;
    toVersionId: string;
    fromVersionId: string | undefined;
  }): Promise<void> {
    await this.call('UpdateSecretVersionStage', request.secretId, () =>
      this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: request.secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: request.toVersionId,
          RemoveFromVersionId: request.fromVersionId,
        }),
      ),
    );
  }

  /** Removes a staging label from one version (UpdateSecretVersionStage with RemoveFromVersionId only). */
  async removeStage(secretId: string, stage: string, versionId: string): Promise<void> {
    await this.call('UpdateSecretVersionStage', secretId, () =>
      this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: stage,
          RemoveFromVersionId: versionId,
        }),
      ),
    );
  }

  async randomPassword(policy: PasswordPolicy): Promise<string> {
    const out = await this.call('GetRandomPassword', '*', () =>
      this.client.send(
        new GetRandomPasswordCommand({
          PasswordLength: policy.length,
          ExcludeCharacters: policy.excludeCharacters || undefined,
          ExcludePunctuation: policy.excludePunctuation,
          ExcludeUppercase: policy.excludeUppercase,
          ExcludeLowercase: policy.excludeLowercase,
          ExcludeNumbers: policy.excludeNumbers,
          IncludeSpace: policy.includeSpace,
          RequireEachIncludedType: policy.requireEachIncludedType,
        }),
      ),
    );
    if (!out.RandomPassword) throw new SecretShapeError('GetRandomPassword returned no password');
    return out.RandomPassword;
  }

  private async call<T>(operation: string, secretId: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toAwsCallError(operation, secretId, error);
    }
  }
}
