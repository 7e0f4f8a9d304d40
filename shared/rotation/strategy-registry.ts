import { RotationPolicyError } from '../errors';
import type { SecretDescription } from '../secrets/secrets-port';
import { POLICY_TAGS } from './password-policy';
import type { RotationStrategy } from './strategy';

export const DEFAULT_STRATEGY = 'generated';
/** What an untagged secret gets when the registry has it: the value's `engine` decides (see default-strategies.ts). */
export const AUTO_STRATEGY = 'auto';

/**
 * The strategy names the database rotation function offers (a `rotator:strategy` tag's value):
 * - `postgres-single-user`, `postgres-alternating-users`, `mysql-single-user`,
 *   `mysql-alternating-users`: database credentials in AWS's JSON shape (MySQL ones also for MariaDB);
 * - `database`: one of those four, by the value's `engine` and whether it has `masterarn`.
 * Untagged secrets rotated by that function are rotated as `database`.
 */
export const DATABASE_STRATEGY_NAMES = [
  'database',
  'postgres-single-user',
  'postgres-alternating-users',
  'mysql-single-user',
  'mysql-alternating-users',
] as const;

/** Whether a secret's `rotator:strategy` tag asks for the database rotation function. */
export function asksForDatabaseRotation(tags: Readonly<Record<string, string>>): boolean {
  const name = tags[POLICY_TAGS.strategy]?.trim();
  return name !== undefined && (DATABASE_STRATEGY_NAMES as readonly string[]).includes(name);
}

export type StrategyRegistry = Readonly<Record<string, RotationStrategy>>;

/**
 * The strategy a secret asks for with its `rotator:strategy` tag; when untagged, the registry's
 * `auto` strategy, or `generated` in a registry without one.
 */
export function selectStrategy(secret: SecretDescription, registry: StrategyRegistry): RotationStrategy {
  const name =
    secret.tags[POLICY_TAGS.strategy]?.trim() ||
    (Object.hasOwn(registry, AUTO_STRATEGY) ? AUTO_STRATEGY : DEFAULT_STRATEGY);
  const strategy = registry[name];
  if (strategy === undefined) {
    throw new RotationPolicyError(
      `Secret "${secret.name}" asks for rotation strategy "${name}", which this deployment does not have (known: ${Object.keys(registry).join(', ')})`,
    );
  }
  return strategy;
}
