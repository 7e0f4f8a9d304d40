import type { RotationConfig } from '../config';
import type { SecretsPort } from '../secrets/secrets-port';
import { generatedStrategy } from './generated-strategy';
import type { StrategyRegistry } from './strategy-registry';

/** The strategies a deployment offers. Add a database strategy here when it exists. */
export function defaultStrategies(
  secrets: Pick<SecretsPort, 'randomPassword'>,
  config: RotationConfig,
): StrategyRegistry {
  return {
    generated: generatedStrategy({
      passwords: (policy) => secrets.randomPassword(policy),
      deploymentPolicy: config.defaultPasswordPolicy,
    }),
  };
}
