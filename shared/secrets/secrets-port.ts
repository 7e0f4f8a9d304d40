import type { PasswordPolicy } from '../rotation/password-policy';
import type { RotationSchedule } from '../sweep/schedule-rules';
import type { SecretSummary } from '../sweep/secret-summary';

/** What the rotation needs to know about a secret. Never holds a value. */
export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  /** Version id → staging labels, as DescribeSecret returns them. */
  readonly versionIdsToStages: Readonly<Record<string, readonly string[]>>;
  readonly tags: Readonly<Record<string, string>>;
  /** The function that rotates the secret (DescribeSecret's RotationLambdaARN), when one does. */
  readonly rotationLambdaArn?: string;
}

export interface VersionSelector {
  readonly versionId?: string;
  readonly versionStage?: string;
}

/**
 * The Secrets Manager calls the orchestrator makes, and no others. Each use declares the narrow
 * view it needs, e.g. `Pick<SecretsPort, 'describeSecret' | 'rotateSecret'>`; the one adapter
 * (shared/aws/secrets-manager-adapter.ts) implements them all. Failures are AwsCallErrors.
 */
export interface SecretsPort {
  describeSecret(secretId: string): Promise<SecretDescription>;
  /** The string value of one version; a binary secret is a {@link SecretShapeError}. */
  getSecretString(secretId: string, selector: VersionSelector): Promise<string>;
  /** Like {@link getSecretString}, but `undefined` when that version has no value yet. */
  findSecretString(secretId: string, selector: VersionSelector): Promise<string | undefined>;
  putPendingValue(request: {
    readonly secretId: string;
    readonly versionId: string;
    readonly value: string;
    readonly rotationToken?: string | undefined;
  }): Promise<void>;
  moveCurrentStage(request: {
    readonly secretId: string;
    readonly toVersionId: string;
    readonly fromVersionId: string | undefined;
  }): Promise<void>;
  /** UpdateSecretVersionStage: `stage` removed from `versionId` and moved nowhere. */
  removeStage(secretId: string, stage: string, versionId: string): Promise<void>;
  randomPassword(policy: PasswordPolicy): Promise<string>;
  /** RotateSecret with the secret's configured function, `ClientRequestToken` = versionId, immediately. */
  rotateSecret(request: { readonly secretId: string; readonly versionId: string }): Promise<void>;
  /** RotateSecret with the function and rules, `RotateImmediately: false`: a schedule, no rotation. */
  configureRotation(request: {
    readonly secretId: string;
    readonly rotationLambdaArn: string;
    readonly schedule: RotationSchedule;
  }): Promise<void>;
  /** When a version was created (ListSecretVersionIds); `undefined` when it is not listed. */
  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined>;
  /** Every secret under the prefixes (ListSecrets filtered by name, no call per secret). */
  listManagedSecrets(prefixes: readonly string[]): Promise<SecretSummary[]>;
}
