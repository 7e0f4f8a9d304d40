import type { RotationConfig } from '../config';
import type { SecretsPort } from '../secrets/secrets-port';
import { byEngineStrategy, type DatabaseStrategies } from './by-engine-strategy';
import { alternatingUsersStrategy } from './database/alternating-users-strategy';
import type { DatabaseEngine, EngineOptions } from './database/database-engine';
import { mysqlEngine } from './database/mysql-engine';
import { postgresEngine } from './database/postgres-engine';
import { singleUserStrategy } from './database/single-user-strategy';
import { generatedStrategy } from './generated-strategy';
import { AUTO_STRATEGY, type StrategyRegistry } from './strategy-registry';

/**
 * The strategies a deployment offers, by the name a `rotator:strategy` tag gives:
 * - `generated`: random values (the whole string, or the `rotator:fields` of a JSON secret);
 * - `postgres-single-user`, `postgres-alternating-users`, `mysql-single-user`,
 *   `mysql-alternating-users`: database credentials in AWS's JSON shape (MySQL ones also for MariaDB);
 * - `database`: one of those four, by the value's `engine` and whether it has `masterarn`;
 * - `auto` (untagged secrets): like `database` when the value names a known engine, else `generated`.
 * The database drivers load only when a database strategy first connects.
 */
export function defaultStrategies(
  secrets: Pick<SecretsPort, 'randomPassword' | 'getSecretString'>,
  config: RotationConfig,
  databases: EngineOptions = {},
): StrategyRegistry {
  const passwords = (policy: Parameters<SecretsPort['randomPassword']>[0]) => secrets.randomPassword(policy);
  const generated = generatedStrategy({ passwords, deploymentPolicy: config.defaultPasswordPolicy });
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
    generated,
    'postgres-single-user': database.postgres.singleUser,
    'postgres-alternating-users': database.postgres.alternatingUsers,
    'mysql-single-user': database.mysql.singleUser,
    'mysql-alternating-users': database.mysql.alternatingUsers,
    database: byEngineStrategy('database', database),
    [AUTO_STRATEGY]: byEngineStrategy(AUTO_STRATEGY, database, generated),
  };
}
