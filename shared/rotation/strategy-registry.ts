import { RotationPolicyError } from '../errors';
import type { SecretDescription } from '../secrets/secrets-port';
import { POLICY_TAGS } from './password-policy';
import type { RotationStrategy } from './strategy';

export const DEFAULT_STRATEGY = 'generated';
/** What an untagged secret gets when the registry has it: the value's `engine` decides (see default-strategies.ts). */
export const AUTO_STRATEGY = 'auto';

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
