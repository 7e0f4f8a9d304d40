import type { Client, ClientConfig } from 'pg';
import { connectionError, connectionFailureOf, safeCode } from './connection-failure';
import type { DatabaseEngine, DatabaseLogin, DatabaseSession, EngineOptions } from './database-engine';
import { CONNECTION_STRING_UNSAFE } from './database-engine';
import { DatabaseLoginError, DatabasePrivilegeError, DatabaseStatementError } from './errors';
import { trustRdsCertificates } from './rds-certificates';

type Pg = typeof import('pg');
let driver: Promise<Pg> | undefined;
/** `pg`, imported on first use: the rotation function's cold start never pays for it otherwise. */
const loadPg = (): Promise<Pg> => {
  driver ??= import('pg').then((module) => (module as Pg & { default?: Pg }).default ?? module);
  return driver;
};

/** SQLSTATEs of a refused login: bad password or no such role (28P01), no such database (3D000), refused (28000). */
const LOGIN_REFUSED = new Set(['28P01', '28000', '3D000']);

/**
 * PostgreSQL through `pg`. Identifiers are quoted with escapeIdentifier and passwords with
 * escapeLiteral (both the driver's); values in queries are parameters.
 */
export function postgresEngine(options: EngineOptions = {}): DatabaseEngine {
  return {
    family: 'postgres',
    excludedCharacters: CONNECTION_STRING_UNSAFE,
    maxUsernameLength: 63,
    async connect(login) {
      const pg = await loadPg();
      if (options.rdsCertificates && login.tls) await trustRdsCertificates();
      const client = new pg.Client(clientConfig(login, options));
      // A connection that breaks later emits 'error'; the failing query reports it instead.
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        throw loginFailure(error, login.tls);
      }
      return postgresSession(client, pg);
    },
  };
}

function clientConfig(login: DatabaseLogin, options: EngineOptions): ClientConfig {
  return {
    host: login.host,
    port: login.port ?? 5432,
    user: login.username,
    password: login.password,
    database: login.dbname ?? 'postgres',
    ssl: login.tls ? { rejectUnauthorized: true, ...(options.ca ? { ca: options.ca } : {}) } : false,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: 10_000,
    application_name: 'secret-rotation-orchestrator',
  };
}

function loginFailure(error: unknown, tls: boolean): Error {
  const code = safeCode(error);
  if (LOGIN_REFUSED.has(code))
    return new DatabaseLoginError(`PostgreSQL refused the login (SQLSTATE ${code})`);
  const failure = connectionFailureOf(error);
  if (failure) return connectionError(failure, 'Cannot connect to PostgreSQL', code);
  const message = error instanceof Error ? error.message : '';
  if (tls && /does not support SSL/i.test(message)) {
    return connectionError('tls-refused', 'Cannot connect to PostgreSQL', 'NO_SSL');
  }
  if (/timeout/i.test(message)) return connectionError('timeout', 'Cannot connect to PostgreSQL', 'TIMEOUT');
  return connectionError('unreachable', 'Cannot connect to PostgreSQL', code);
}

function statementFailure(error: unknown, what: string): Error {
  const code = safeCode(error);
  if (code === '42501') return new DatabasePrivilegeError(`${what}: permission denied (SQLSTATE 42501)`);
  const failure = connectionFailureOf(error);
  if (failure) return connectionError(failure, what, code);
  return new DatabaseStatementError(`${what} failed (SQLSTATE ${code})`);
}

function postgresSession(client: Client, pg: Pg): DatabaseSession {
  const run = async (what: string, statements: readonly (readonly [string, unknown[]?])[]) => {
    try {
      for (const [text, values] of statements) await client.query(text, values);
    } catch (error) {
      throw statementFailure(error, what);
    }
  };
  const roleExists = async (name: string) => {
    try {
      return (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
    } catch (error) {
      throw statementFailure(error, 'Looking up a role');
    }
  };
  const role = (name: string) => pg.escapeIdentifier(name);
  const literal = (value: string) => pg.escapeLiteral(value);
  return {
    ping: () => run('SELECT 1', [['SELECT 1']]),
    setOwnPassword: (username, password) =>
      run('Changing the password', [[`ALTER ROLE ${role(username)} WITH PASSWORD ${literal(password)}`]]),
    userExists: (username) => roleExists(username),
    setPassword: (username, password) =>
      run('Changing a user’s password', [
        [`ALTER ROLE ${role(username)} WITH PASSWORD ${literal(password)}`],
      ]),
    async ensureClone(original, clone, password) {
      if (!(await roleExists(original))) {
        throw new DatabaseLoginError('The user to clone does not exist in PostgreSQL');
      }
      const create = (await roleExists(clone))
        ? `ALTER ROLE ${role(clone)} WITH LOGIN PASSWORD ${literal(password)}`
        : `CREATE ROLE ${role(clone)} WITH LOGIN PASSWORD ${literal(password)}`;
      // One transaction: a master that may create the role but not grant membership leaves nothing.
      // The clone is a member of the original and logs in as it (SET ROLE at login), so everything
      // it creates is owned by the original, under the original's default privileges.
      await run('Creating or updating the clone user', [
        ['BEGIN'],
        [create],
        [`GRANT ${role(original)} TO ${role(clone)}`],
        [`ALTER ROLE ${role(clone)} SET role TO ${literal(original)}`],
        ['COMMIT'],
      ]).catch(async (error: unknown) => {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      });
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}
