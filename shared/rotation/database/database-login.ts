import { SecretShapeError } from '../../errors';
import type { SecretDescription } from '../../secrets/secrets-port';
import type { PasswordSource } from '../generated-strategy';
import { type PasswordPolicyInput, resolvePasswordPolicy } from '../password-policy';
import type { DatabaseEngine, DatabaseLogin, DatabaseSession } from './database-engine';
import { type DatabaseSecret, parseDatabaseSecret } from './database-secret';
import { DatabaseLoginError } from './errors';

/** What every database strategy is built from. */
export interface DatabaseStrategyDeps {
  readonly engine: DatabaseEngine;
  readonly passwords: PasswordSource;
  readonly deploymentPolicy: PasswordPolicyInput;
  /** TLS for secrets that do not say. */
  readonly tlsByDefault: boolean;
}

/** Parses one version and checks it is for this strategy's engine. */
export function parseFor(
  engine: DatabaseEngine,
  secret: SecretDescription,
  value: string,
  stage: string,
): DatabaseSecret {
  const parsed = parseDatabaseSecret(value, secret.name, stage);
  if (parsed.family !== engine.family) {
    throw new SecretShapeError(
      `The ${stage} value of "${secret.name}" names a ${parsed.family} engine, but its strategy rotates ${engine.family}`,
    );
  }
  return parsed;
}

export function loginOf(database: DatabaseSecret, tlsByDefault: boolean): DatabaseLogin {
  return {
    host: database.host,
    port: database.port,
    username: database.username,
    password: database.password,
    dbname: database.dbname,
    tls: database.tls ?? tlsByDefault,
  };
}

/** A session, or `undefined` when the database refuses this login; unreachable servers still throw. */
export async function tryLogin(
  engine: DatabaseEngine,
  login: DatabaseLogin,
): Promise<DatabaseSession | undefined> {
  try {
    return await engine.connect(login);
  } catch (error) {
    if (error instanceof DatabaseLoginError) return undefined;
    throw error;
  }
}

/** Runs `work` in a session and always closes it. */
export async function withSession<T>(
  session: DatabaseSession,
  work: (session: DatabaseSession) => Promise<T>,
) {
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** A password from the secret's policy, minus the characters the engine's connection strings cannot carry. */
export function newPassword(deps: DatabaseStrategyDeps, secret: SecretDescription): Promise<string> {
  const policy = resolvePasswordPolicy(deps.deploymentPolicy, secret.tags);
  return deps.passwords({
    ...policy,
    excludeCharacters: `${policy.excludeCharacters}${deps.engine.excludedCharacters}`,
    fields: undefined,
  });
}

/** The pending value written back: the current document with only the named fields changed. */
export function withFields(database: DatabaseSecret, fields: Record<string, string>): string {
  return JSON.stringify({ ...database.document, ...fields });
}

/** testSecret for every database strategy: log in with AWSPENDING and run a query. */
export async function testPending(
  deps: DatabaseStrategyDeps,
  secret: SecretDescription,
  pending: string,
): Promise<void> {
  const database = parseFor(deps.engine, secret, pending, 'AWSPENDING');
  const session = await deps.engine.connect(loginOf(database, deps.tlsByDefault));
  await withSession(session, (open) => open.ping());
}
