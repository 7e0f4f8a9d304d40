import type { RotationConfig } from '../config';
import { RotationPolicyError } from '../errors';
import type { SecretsPort } from '../secrets/secrets-port';
import { byEngineStrategy, type DatabaseStrategies } from './by-engine-strategy';
import { alternatingUsersStrategy } from './database/alternating-users-strategy';
import type { DatabaseEngine, EngineOptions } from './database/database-engine';
import { mysqlEngine } from './database/mysql-engine';
import { postgresEngine } from './database/postgres-engine';
import { singleUserStrategy } from './database/single-user-strategy';
import { generatedStrategy } from './generated-strategy';
import type { RotationStrategy } from './strategy';
import { AUTO_STRATEGY, DATABASE_STRATEGY_NAMES, type StrategyRegistry } from './strategy-registry';

export { DATABASE_STRATEGY_NAMES } from './strategy-registry';

type Passwords = Pick<SecretsPort, 'randomPassword'>;

/**
 * What the rotation function (functions/rotate-secret) offers: `generated`, random values (the
 * whole string, or the `rotator:fields` of a JSON secret). It carries no database driver; a secret
 * tagged with a database strategy is refused with the function that rotates it named.
 */
export function generatedStrategies(secrets: Passwords, config: RotationConfig): StrategyRegistry {
  const generated = generatedStrategy({
    passwords: (policy) => secrets.randomPassword(policy),
    deploymentPolicy: config.defaultPasswordPolicy,
  });
  return {
    generated,
    ...Object.fromEntries(DATABASE_STRATEGY_NAMES.map((name) => [name, rotatedElsewhere(name)])),
  };
}

/**
 * What the database rotation function (functions/rotate-database-secret) offers: the names of
 * {@link DATABASE_STRATEGY_NAMES}, and `auto` (untagged secrets) as `database`. The drivers load
 * only when a strategy first connects.
 */
export function databaseStrategies(
  secrets: Pick<SecretsPort, 'randomPassword' | 'getSecretString'>,
  config: RotationConfig,
  databases: EngineOptions = {},
): StrategyRegistry {
  const passwords = (policy: Parameters<SecretsPort['randomPassword']>[0]) => secrets.randomPassword(policy);
  const strategiesFor = (engine: DatabaseEngine) => {
    const deps = {
      engine,
      passwords,
      deploymentPolicy: config.defaultPasswordPolicy,
      tlsByDefault: databases.tlsByDefault ?? false,
    };
    const readSecret = (secretId: string) =>
      secrets.getSecretString(secretId, { versionStage: 'AWSCURRENT' });
    return {
      singleUser: singleUserStrategy(`${engine.family}-single-user`, deps),
      alternatingUsers: alternatingUsersStrategy(`${engine.family}-alternating-users`, {
        ...deps,
        readSecret,
      }),
    };
  };
  const database: DatabaseStrategies = {
    postgres: strategiesFor(postgresEngine(databases)),
    mysql: strategiesFor(mysqlEngine(databases)),
  };
  return {
    'postgres-single-user': database.postgres.singleUser,
    'postgres-alternating-users': database.postgres.alternatingUsers,
    'mysql-single-user': database.mysql.singleUser,
    'mysql-alternating-users': database.mysql.alternatingUsers,
    database: byEngineStrategy('database', database),
    [AUTO_STRATEGY]: byEngineStrategy(AUTO_STRATEGY, database),
  };
}

/** A database strategy asked of the function without drivers: refused before anything changes. */
function rotatedElsewhere(name: string): RotationStrategy {
  const refuse = (secretName: string): never => {
    throw new RotationPolicyError(
      `Secret "${secretName}" asks for rotation strategy "${name}", which the database rotation function runs (RotateDatabaseSecret, deployed with the databaseRotation prop); point the secret's rotation at that function. Nothing was changed`,
    );
  };
  return {
    name,
    createValue: async ({ secret }) => refuse(secret.name),
    applyToTarget: async ({ secret }) => refuse(secret.name),
    test: async ({ secret }) => refuse(secret.name),
  };
}
