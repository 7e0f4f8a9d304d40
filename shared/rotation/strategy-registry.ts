import { RotationPolicyError } from '../errors';
import type { SecretDescription } from '../secrets/secrets-port';
import { POLICY_TAGS } from './password-policy';
import type { RotationStrategy } from './strategy';

export const DEFAULT_STRATEGY = 'generated';

export type StrategyRegistry = Readonly<Record<string, RotationStrategy>>;

/** The strategy a secret asks for with its `rotator:strategy` tag; `generated` when untagged. */
export function selectStrategy(secret: SecretDescription, registry: StrategyRegistry): RotationStrategy {
  const name = secret.tags[POLICY_TAGS.strategy]?.trim() || DEFAULT_STRATEGY;
  const strategy = registry[name];
  if (strategy === undefined) {
    throw new RotationPolicyError(
      `Secret "${secret.name}" asks for rotation strategy "${name}", which this deployment does not have (known: ${Object.keys(registry).join(', ')})`,
    );
  }
  return strategy;
}
