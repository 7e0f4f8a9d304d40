import { RotationPolicyError } from '../errors';
import type { SecretDescription } from '../secrets/secrets-port';
import { engineFamily, parseJsonObject } from './database/database-secret';
import type { RotationStrategy } from './strategy';

/** The database strategies by engine family and by whether the secret names a master. */
export type DatabaseStrategies = Readonly<
  Record<
    'postgres' | 'mysql',
    { readonly singleUser: RotationStrategy; readonly alternatingUsers: RotationStrategy }
  >
>;

/**
 * Chooses a strategy from the value itself: a JSON object whose `engine` AWS names for PostgreSQL
 * or MySQL/MariaDB gets that engine's alternating-users strategy when it has `masterarn`, its
 * single-user strategy otherwise. Anything else is refused before anything changes.
 * Every step sees a value (createSecret AWSCURRENT, the others AWSPENDING, made from it), so all
 * four choose alike.
 */
export function byEngineStrategy(name: string, strategies: DatabaseStrategies): RotationStrategy {
  const choose = (secret: SecretDescription, value: string): RotationStrategy => {
    const document = parseJsonObject(value);
    const family = engineFamily(document?.engine);
    if (family !== undefined) {
      return document?.masterarn === undefined
        ? strategies[family].singleUser
        : strategies[family].alternatingUsers;
    }
    throw new RotationPolicyError(
      `Secret "${secret.name}" asks for a database rotation, but its value names no engine this deployment rotates (known: postgres, aurora-postgresql, mysql, mariadb, aurora-mysql); nothing was changed`,
    );
  };
  return {
    name,
    createValue: async (input) => choose(input.secret, input.current).createValue(input),
    applyToTarget: async (input) => choose(input.secret, input.pending).applyToTarget(input),
    test: async (input) => choose(input.secret, input.pending).test(input),
    previousStillValid: async (input) => {
      const chosen = choose(input.secret, input.previous);
      if (chosen.previousStillValid === undefined) {
        return { valid: false, reason: `strategy "${chosen.name}" cannot tell` };
      }
      return chosen.previousStillValid(input);
    },
    // Both engine strategies of a family have revokePrevious (single user: nothing to revoke).
    revokePrevious: async (input) => {
      const chosen = choose(input.secret, input.current);
      if (chosen.revokePrevious === undefined) {
        throw new RotationPolicyError(
          `Strategy "${chosen.name}" of "${input.secret.name}" cannot revoke; nothing was changed`,
        );
      }
      return chosen.revokePrevious(input);
    },
  };
}
