import { SecretNotManagedError } from './errors';
import { secretNameOf } from './secrets/secret-id';

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
