import { assertManaged } from '../managed-prefixes';
import type { SecretDescription, SecretsPort } from './secrets-port';

/**
 * DescribeSecret of a managed secret: the id is checked against the managed prefixes before the
 * call (refused without any AWS call), and the name it resolves to after it (an ARN or a name that
 * is not what it seems is refused too). Throws SecretNotManagedError either way.
 * @example const secret = await describeManagedSecret(port, 'prod/app/db', ['prod/app/'])
 */
export async function describeManagedSecret(
  port: Pick<SecretsPort, 'describeSecret'>,
  secretId: string,
  prefixes: readonly string[],
): Promise<SecretDescription> {
  assertManaged(secretId, prefixes);
  const secret = await port.describeSecret(secretId);
  assertManaged(secret.name, prefixes);
  return secret;
}
