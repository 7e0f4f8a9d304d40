import { validate as isArn, parse as parseArn } from '@aws-sdk/util-arn-parser';

const SECRET_RESOURCE = 'secret:';
const ACCOUNT_ID = /^\d{12}$/;
/** The random suffix Secrets Manager appends to a secret's name in its ARN (`-AbCdEf`). */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The resource name of a Secrets Manager secret ARN (`<name>-AbCdEf`); `undefined` for anything else. */
function secretArnName(secretId: string): string | undefined {
  if (!isArn(secretId)) return undefined;
  const { service, accountId, resource } = parseArn(secretId);
  if (service !== 'secretsmanager' || !ACCOUNT_ID.test(accountId) || !resource.startsWith(SECRET_RESOURCE)) {
    return undefined;
  }
  return resource.slice(SECRET_RESOURCE.length) || undefined;
}

/**
 * The secret name a SecretId refers to. A full ARN yields the name with Secrets Manager's random
 * six-character suffix (`prod/app/db-AbCdEf`), which keeps prefix matching identical to IAM's
 * `secret:<prefix>*` resource pattern; anything else is taken as a name.
 * @example secretNameOf('arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/app/db-AbCdEf') // 'prod/app/db-AbCdEf'
 */
export function secretNameOf(secretId: string): string {
  return secretArnName(secretId) ?? secretId;
}

/**
 * The name as its owner wrote it, for messages: a full ARN yields the name without the six-character
 * suffix (`prod/app/db`); anything else is returned as given.
 */
export function secretDisplayName(secretId: string): string {
  const name = secretArnName(secretId);
  return name && ARN_SUFFIX.test(name) ? name.replace(ARN_SUFFIX, '') : secretId;
}
