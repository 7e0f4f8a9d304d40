import type { SecretsPort } from '../aws/secrets-port';
import type { RotationConfig } from '../config';
import { generatedStrategy } from './generated-strategy';
import type { StrategyRegistry } from './strategy-registry';

/** The strategies a deployment offers. Add a database strategy here when it exists. */
export function defaultStrategies(secrets: SecretsPort, config: RotationConfig): StrategyRegistry {
  return {
    generated: generatedStrategy({
      passwords: (policy) => secrets.randomPassword(policy),
      deploymentPolicy: config.defaultPasswordPolicy,
    }),
  };
}
