import { SecretNotManagedError } from './errors';

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;

/**
 * The secret name a SecretId refers to. A full ARN yields the name with Secrets Manager's random
 * six-character suffix (`prod/app/db-AbCdEf`), which keeps prefix matching identical to IAM's
 * `secret:<prefix>*` resource pattern.
 */
export function secretNameOf(secretId: string): string {
  const match = SECRET_ARN.exec(secretId);
  return match?.[1] ?? secretId;
}

/** True when the secret's name starts with one of the managed prefixes. */
export function isManaged(secretId: string, prefixes: readonly string[]): boolean {
  const name = secretNameOf(secretId);
  return prefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * Refuses a secret outside the managed prefixes, before any AWS call (defence in depth beside IAM).
 * @example assertManaged('prod/app/db', ['prod/app/']) // ok
 */
export function assertManaged(secretId: string, prefixes: readonly string[]): void {
  if (!isManaged(secretId, prefixes)) throw new SecretNotManagedError(secretId);
}
