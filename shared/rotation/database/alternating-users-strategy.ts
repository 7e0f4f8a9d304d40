import { describeError, SecretShapeError } from '../../errors';
import type { SecretDescription } from '../../secrets/secrets-port';
import type { RotationStrategy } from '../strategy';
import {
  type DatabaseStrategyDeps,
  loginOf,
  newPassword,
  parseFor,
  testPending,
  tryLogin,
  withFields,
  withSession,
} from './database-login';
import { alternateUsername, type DatabaseSecret, originalUsername } from './database-secret';
import { DatabaseLoginError, MasterSecretError } from './errors';

export interface AlternatingUsersDeps extends DatabaseStrategyDeps {
  /** The AWSCURRENT value of another secret (the master secret named by `masterarn`). */
  readonly readSecret: (secretId: string) => Promise<string>;
}

/**
 * Alternating users, as AWS's multi-user templates: each rotation switches between `<user>` and
 * `<user>_clone`, and the master secret named by `masterarn` sets the other user's password,
 * creating the clone with the original's privileges the first time. The user in AWSCURRENT keeps
 * working until the rotation after next.
 */
export function alternatingUsersStrategy(name: string, deps: AlternatingUsersDeps): RotationStrategy {
  return {
    name,
    async createValue({ secret, current }) {
      const database = parseFor(deps.engine, secret, current, 'AWSCURRENT');
      masterArnOf(secret, database);
      const username = alternateUsername(database.username);
      assertUsernameFits(deps, secret, username);
      return withFields(database, { username, password: await newPassword(deps, secret) });
    },
    async applyToTarget({ secret, pending, staged }) {
      const target = parseFor(deps.engine, secret, pending, 'AWSPENDING');
      const already = await tryLogin(deps.engine, loginOf(target, deps.tlsByDefault));
      if (already) return withSession(already, async () => {});
      const current = parseFor(deps.engine, secret, await staged.current(), 'AWSCURRENT');
      if (target.username !== alternateUsername(current.username)) {
        throw new SecretShapeError(
          `The AWSPENDING user of "${secret.name}" is not the alternate of its AWSCURRENT user`,
        );
      }
      const master = await readMaster(deps, secret, masterArnOf(secret, current));
      const session = await deps.engine
        .connect(loginOf({ ...master, dbname: current.dbname ?? master.dbname }, deps.tlsByDefault))
        .catch((error: unknown) => {
          if (!(error instanceof DatabaseLoginError)) throw error;
          throw new DatabaseLoginError(
            `The master secret of "${secret.name}" cannot log in (${error.message})`,
          );
        });
      const original = originalUsername(target.username);
      await withSession(session, (open) =>
        target.username === original
          ? open.setPassword(original, target.password)
          : open.ensureClone(original, target.username, target.password),
      );
    },
    test: ({ secret, pending }) => testPending(deps, secret, pending),
  };
}

function masterArnOf(secret: SecretDescription, database: DatabaseSecret): string {
  if (database.masterarn === undefined) {
    throw new MasterSecretError(
      `Secret "${secret.name}" names no masterarn, which alternating-users rotation needs; nothing was changed`,
    );
  }
  return database.masterarn;
}

async function readMaster(
  deps: AlternatingUsersDeps,
  secret: SecretDescription,
  masterArn: string,
): Promise<DatabaseSecret> {
  let value: string;
  try {
    value = await deps.readSecret(masterArn);
  } catch (error) {
    throw new MasterSecretError(
      `The master secret of "${secret.name}" cannot be read (${describeError(error).message}); nothing was changed`,
    );
  }
  try {
    return parseFor(deps.engine, secret, value, 'master secret’s AWSCURRENT');
  } catch (error) {
    throw new MasterSecretError(`${describeError(error).message}; nothing was changed`);
  }
}

function assertUsernameFits(deps: AlternatingUsersDeps, secret: SecretDescription, username: string): void {
  const length =
    deps.engine.family === 'postgres' ? Buffer.byteLength(username, 'utf8') : [...username].length;
  if (length > deps.engine.maxUsernameLength) {
    throw new SecretShapeError(
      `The alternate user of "${secret.name}" would be ${length} long, over ${deps.engine.family}'s ${deps.engine.maxUsernameLength}`,
    );
  }
}
