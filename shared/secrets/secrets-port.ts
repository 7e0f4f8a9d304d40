import type { PasswordPolicy } from '../rotation/password-policy';

/** What the rotation needs to know about a secret. Never holds a value. */
export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  /** Version id → staging labels, as DescribeSecret returns them. */
  readonly versionIdsToStages: Readonly<Record<string, readonly string[]>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface VersionSelector {
  readonly versionId?: string;
  readonly versionStage?: string;
}

/** The Secrets Manager calls the rotation makes, and no others. */
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
  randomPassword(policy: PasswordPolicy): Promise<string>;
}
