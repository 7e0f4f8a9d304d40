import { describeError } from '../../errors';
import type { SecretDescription } from '../../secrets/secrets-port';
import type { DatabaseSession } from './database-engine';
import { type DatabaseStrategyDeps, loginOf, parseFor } from './database-login';
import type { DatabaseSecret } from './database-secret';
import { DatabaseLoginError, MasterSecretError } from './errors';

export interface MasterSecretDeps extends DatabaseStrategyDeps {
  /** The AWSCURRENT value of another secret (the master secret named by `masterarn`). */
  readonly readSecret: (secretId: string) => Promise<string>;
}

/** The `masterarn` of a value, or a MasterSecretError when it names none. */
export function masterArnOf(secret: SecretDescription, database: DatabaseSecret): string {
  if (database.masterarn === undefined) {
    throw new MasterSecretError(
      `Secret "${secret.name}" names no masterarn, which alternating-users rotation needs; nothing was changed`,
    );
  }
  return database.masterarn;
}

/**
 * A session of the master secret named by `user`'s `masterarn`, in `user`'s database (the
 * master's own when `user` names none). Every failure says it was the master's.
 */
export async function openMasterSession(
  deps: MasterSecretDeps,
  secret: SecretDescription,
  user: DatabaseSecret,
): Promise<DatabaseSession> {
  const master = await readMaster(deps, secret, masterArnOf(secret, user));
  return deps.engine
    .connect(loginOf({ ...master, dbname: user.dbname ?? master.dbname }, deps.tlsByDefault))
    .catch((error: unknown) => {
      if (!(error instanceof DatabaseLoginError)) throw error;
      throw new DatabaseLoginError(`The master secret of "${secret.name}" cannot log in (${error.message})`);
    });
}

async function readMaster(
  deps: MasterSecretDeps,
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
