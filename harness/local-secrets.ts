import {
  CreateSecretCommand,
  type CreateSecretCommandInput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mapWithLimit } from '../shared/concurrency';

/**
 * CreateSecret calls in flight at once against moto. Its Secrets Manager backend is not
 * thread-safe: a CreateSecret racing another request can raise "dictionary changed size during
 * iteration", answered with HTTP 500, at any concurrency above 1 (11,000 secrets on the 2-core
 * machine under load: 4–6 % of calls at 2, 4 or 32 at once). One at a time avoids the race but took
 * 146 s against 90 s at 4, and more than 4 gains little (each CreateSecret scans every secret under
 * Python's GIL), so writes stay at 4 and `localClient`'s retries absorb the races.
 */
export const MOTO_WRITE_CONCURRENCY = 4;

/**
 * Creates `secrets` in moto, at most {@link MOTO_WRITE_CONCURRENCY} at once, and returns their ARNs
 * in input order. Pass a client from `localClients`: it retries moto's 500s, and a call that still
 * fails rejects with a `MotoCallError` naming CreateSecret and the HTTP status.
 * @example await createSecrets(localClients(moto.endpoint).secretsManager, [{ Name: 'a', SecretString: 'v' }])
 */
export async function createSecrets(
  client: SecretsManagerClient,
  secrets: readonly CreateSecretCommandInput[],
): Promise<string[]> {
  return mapWithLimit(secrets, MOTO_WRITE_CONCURRENCY, async (input) => {
    const { ARN } = await client.send(new CreateSecretCommand(input));
    if (!ARN) throw new Error(`moto returned no ARN for secret ${input.Name}`);
    return ARN;
  });
}
