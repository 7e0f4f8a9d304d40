import type { SecretsPort } from '../../shared/secrets/secrets-port';

/**
 * The restart step's secrets port for tests that wait for no restart window: the step reads a
 * secret's stages only after such a wait, so any read fails the test.
 */
export const unreadSecrets: Pick<SecretsPort, 'describeSecret'> = {
  describeSecret: async (secretId) => {
    throw new Error(`unexpected describeSecret(${secretId}): this test waits for no restart window`);
  },
};
