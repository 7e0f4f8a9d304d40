import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  paginateListSecrets,
  paginateListSecretVersionIds,
  ResourceNotFoundException,
  RotateSecretCommand,
  type RotationRulesType,
  type SecretListEntry,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SecretShapeError, toAwsCallError } from '../errors';
import { isManaged } from '../managed-prefixes';
import type { PasswordPolicy } from '../rotation/password-policy';
import type { SecretDescription, SecretsPort, VersionSelector } from '../secrets/secrets-port';
import type { RotationSchedule } from '../sweep/schedule-rules';
import type { SecretSummary } from '../sweep/secret-summary';

/** ListSecrets and ListSecretVersionIds return at most 100 entries a page. */
const PAGE_SIZE = 100;

/**
 * {@link SecretsPort} over the AWS SDK v3 client, which the caller constructs and owns: the one
 * Secrets Manager adapter. Every call goes through {@link call}, so every failure leaves as an
 * AwsCallError with a trimmed, sanitized message; lists use the SDK's paginators.
 */
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
      tags: tagsOf(out.Tags),
      ...(out.RotationLambdaARN && { rotationLambdaArn: out.RotationLambdaARN }),
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

  /**
   * Starts a rotation with the secret's configured function now. The version id is ours
   * (`ClientRequestToken`): Secrets Manager uses it as the new version's id and will not create a
   * second version for the same token.
   */
  async rotateSecret(request: { readonly secretId: string; readonly versionId: string }): Promise<void> {
    await this.call('RotateSecret', request.secretId, () =>
      this.client.send(
        new RotateSecretCommand({
          SecretId: request.secretId,
          ClientRequestToken: request.versionId,
          RotateImmediately: true,
        }),
      ),
    );
  }

  /**
   * Sets a secret's rotation function and schedule without rotating it: RotateSecret with
   * `RotateImmediately: false`, on which Secrets Manager runs only the function's testSecret step
   * (against a temporary AWSPENDING version it then removes) and turns rotation on.
   */
  async configureRotation(request: {
    readonly secretId: string;
    readonly rotationLambdaArn: string;
    readonly schedule: RotationSchedule;
  }): Promise<void> {
    await this.call('RotateSecret', request.secretId, () =>
      this.client.send(
        new RotateSecretCommand({
          SecretId: request.secretId,
          RotationLambdaARN: request.rotationLambdaArn,
          RotationRules: rotationRulesOf(request.schedule),
          RotateImmediately: false,
        }),
      ),
    );
  }

  /**
   * When one version of a secret was created, from ListSecretVersionIds (paginated, 100 a page);
   * `undefined` when the version is not listed. Used to judge unfinished rotations.
   */
  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    return this.call('ListSecretVersionIds', secretId, async () => {
      const pages = paginateListSecretVersionIds(
        { client: this.client, pageSize: PAGE_SIZE },
        { SecretId: secretId },
      );
      for await (const page of pages) {
        const version = page.Versions?.find((v) => v.VersionId === versionId);
        if (version) return version.CreatedDate;
      }
      return undefined;
    });
  }

  /**
   * Every secret under the managed prefixes, from paginated ListSecrets calls filtered by name prefix
   * (100 a page, so 10,000 secrets take 100 calls). Each result is checked against the prefixes
   * again, since the name filter is looser than our rule.
   */
  listManagedSecrets(prefixes: readonly string[]): Promise<SecretSummary[]> {
    return this.call('ListSecrets', prefixes.join(','), async () => {
      const pages = paginateListSecrets(
        { client: this.client, pageSize: PAGE_SIZE },
        { Filters: [{ Key: 'name', Values: [...prefixes] }], IncludePlannedDeletion: false },
      );
      const secrets: SecretSummary[] = [];
      for await (const page of pages) {
        for (const entry of page.SecretList ?? []) {
          if (entry.Name && isManaged(entry.Name, prefixes)) secrets.push(summaryOf(entry));
        }
      }
      return secrets;
    });
  }

  /** The one place an SDK failure becomes ours: an AwsCallError naming the operation and secret. */
  private async call<T>(operation: string, secretId: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toAwsCallError(operation, secretId, error);
    }
  }
}

/**
 * {@link SecretsManagerAdapter.listManagedSecrets} for a script that holds only a client.
 * @example const secrets = await listManagedSecrets(client, ['prod/app/'])
 */
export function listManagedSecrets(
  client: SecretsManagerClient,
  prefixes: readonly string[],
): Promise<SecretSummary[]> {
  return new SecretsManagerAdapter(client).listManagedSecrets(prefixes);
}

/** The RotationRules Secrets Manager takes for a schedule: days or an expression, never both. */
function rotationRulesOf(schedule: RotationSchedule): RotationRulesType {
  return {
    ...(schedule.kind === 'days'
      ? { AutomaticallyAfterDays: schedule.days }
      : { ScheduleExpression: schedule.expression }),
    ...(schedule.windowHours !== undefined && { Duration: `${schedule.windowHours}h` }),
  };
}

function tagsOf(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

function summaryOf(entry: SecretListEntry): SecretSummary {
  return {
    name: entry.Name ?? '',
    arn: entry.ARN ?? '',
    createdDate: entry.CreatedDate,
    lastRotatedDate: entry.LastRotatedDate,
    lastChangedDate: entry.LastChangedDate,
    nextRotationDate: entry.NextRotationDate,
    rotationEnabled: entry.RotationEnabled === true,
    rotationIntervalDays: entry.RotationRules?.AutomaticallyAfterDays,
    rotationScheduleExpression: entry.RotationRules?.ScheduleExpression,
    rotationWindow: entry.RotationRules?.Duration,
    rotationLambdaArn: entry.RotationLambdaARN,
    versionIdsToStages: entry.SecretVersionsToStages ?? {},
    tags: tagsOf(entry.Tags),
  };
}
