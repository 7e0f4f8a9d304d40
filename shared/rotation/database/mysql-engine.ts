import type { Connection, ConnectionOptions, RowDataPacket } from 'mysql2/promise';
import { connectionError, connectionFailureOf, safeCode } from './connection-failure';
import type { DatabaseEngine, DatabaseLogin, DatabaseSession, EngineOptions } from './database-engine';
import { CONNECTION_STRING_UNSAFE } from './database-engine';
import { DatabaseLoginError, DatabasePrivilegeError, DatabaseStatementError } from './errors';
import { copiedGrants } from './mysql-grants';
import { trustRdsCertificates } from './rds-certificates';

type MySql = typeof import('mysql2/promise');
let driver: Promise<MySql> | undefined;
/** `mysql2`, imported on first use: the rotation function's cold start never pays for it otherwise. */
const loadMySql = (): Promise<MySql> => {
  driver ??= import('mysql2/promise').then(
    (module) => (module as MySql & { default?: MySql }).default ?? module,
  );
  return driver;
};

const LOGIN_REFUSED = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
]);
const PRIVILEGE_MISSING = new Set([
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_PROCACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
  'ER_CANT_CREATE_USER_WITH_GRANT',
  'ER_PASSWORD_NOT_ALLOWED',
]);

/**
 * MySQL and MariaDB through `mysql2`. Account names and passwords are string literals from the
 * driver's `format`/`escape` (`'user'@'host'`), never concatenated raw; the servers must not run
 * with NO_BACKSLASH_ESCAPES, which changes what an escaped literal means.
 */
export function mysqlEngine(options: EngineOptions = {}): DatabaseEngine {
  return {
    family: 'mysql',
    excludedCharacters: CONNECTION_STRING_UNSAFE,
    // MySQL 8 allows 32 characters; MariaDB 80. The smaller keeps a secret portable between them.
    maxUsernameLength: 32,
    async connect(login) {
      const mysql = await loadMySql();
      if (options.rdsCertificates && login.tls) await trustRdsCertificates();
      let connection: Connection;
      try {
        connection = await mysql.createConnection(connectionOptions(login, options));
      } catch (error) {
        throw loginFailure(error);
      }
      // A connection that breaks later emits 'error'; the failing query reports it instead.
      connection.on('error', () => {});
      return mysqlSession(connection, mysql);
    },
  };
}

function connectionOptions(login: DatabaseLogin, options: EngineOptions): ConnectionOptions {
  return {
    host: login.host,
    port: login.port ?? 3306,
    user: login.username,
    password: login.password,
    ...(login.dbname ? { database: login.dbname } : {}),
    ...(login.tls ? { ssl: { rejectUnauthorized: true, ...(options.ca ? { ca: options.ca } : {}) } } : {}),
    connectTimeout: options.connectTimeoutMs ?? 5000,
    charset: 'utf8mb4_general_ci',
    multipleStatements: false,
  };
}

function loginFailure(error: unknown): Error {
  const code = safeCode(error);
  if (LOGIN_REFUSED.has(code)) return new DatabaseLoginError(`MySQL refused the login (${code})`);
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT')
    return connectionError('tls-refused', 'Cannot connect to MySQL', code);
  const failure = connectionFailureOf(error) ?? 'unreachable';
  return connectionError(failure, 'Cannot connect to MySQL', code);
}

function statementFailure(error: unknown, what: string): Error {
  const code = safeCode(error);
  if (PRIVILEGE_MISSING.has(code)) return new DatabasePrivilegeError(`${what}: permission denied (${code})`);
  const failure = connectionFailureOf(error);
  if (failure) return connectionError(failure, what, code);
  return new DatabaseStatementError(`${what} failed (${code})`);
}

function mysqlSession(connection: Connection, mysql: MySql): DatabaseSession {
  const run = async (what: string, sql: string): Promise<RowDataPacket[]> => {
    try {
      const [rows] = await connection.query<RowDataPacket[]>(sql);
      return rows;
    } catch (error) {
      throw statementFailure(error, what);
    }
  };
  /** The one host the user may log in from; a user with none or several is refused. */
  const hostOf = async (username: string): Promise<string> => {
    const rows = await run(
      'Looking up a user',
      mysql.format("SELECT Host FROM mysql.user WHERE User = ? AND Host <> ''", [username]),
    );
    if (rows.length !== 1) {
      throw new DatabaseLoginError(
        rows.length === 0 ? 'The user does not exist in MySQL' : 'The user has several hosts in MySQL',
      );
    }
    return String(rows[0]?.Host);
  };
  return {
    ping: async () => {
      await run('SELECT 1', 'SELECT 1');
    },
    async setOwnPassword(_username, password) {
      // MariaDB's ALTER USER needs CREATE USER even for one's own account, and its SET PASSWORD takes
      // a plain string as a hash; MySQL 8 has no PASSWORD() but lets anyone ALTER USER USER().
      const [version] = await run('Reading the server version', 'SELECT VERSION() AS version');
      const statement = /mariadb/i.test(String(version?.version))
        ? 'SET PASSWORD = PASSWORD(?)'
        : 'ALTER USER USER() IDENTIFIED BY ?';
      await run('Changing the password', mysql.format(statement, [password]));
    },
    async userExists(username) {
      const rows = await run(
        'Looking up a user',
        mysql.format("SELECT 1 FROM mysql.user WHERE User = ? AND Host <> ''", [username]),
      );
      return rows.length > 0;
    },
    async setPassword(username, password) {
      const host = await hostOf(username);
      await run(
        'Changing a user’s password',
        mysql.format('ALTER USER ?@? IDENTIFIED BY ?', [username, host, password]),
      );
    },
    async ensureClone(original, clone, password) {
      const host = await hostOf(original);
      const exists =
        (
          await run(
            'Looking up a user',
            mysql.format('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [clone, host]),
          )
        ).length > 0;
      await run(
        exists ? 'Changing the clone user’s password' : 'Creating the clone user',
        mysql.format(`${exists ? 'ALTER' : 'CREATE'} USER ?@? IDENTIFIED BY ?`, [clone, host, password]),
      );
      try {
        const grants = await run(
          'Reading the grants to copy',
          mysql.format('SHOW GRANTS FOR ?@?', [original, host]),
        );
        const grantee = mysql.format('?@?', [clone, host]);
        for (const statement of copiedGrants(
          grants.map((row) => String(Object.values(row)[0])),
          original,
          host,
          grantee,
        )) {
          await run('Copying a grant to the clone user', statement);
        }
      } catch (error) {
        // DDL commits as it goes: a clone created by this call is dropped again, so nothing changed.
        if (!exists)
          await connection.query(mysql.format('DROP USER IF EXISTS ?@?', [clone, host])).catch(() => {});
        throw error;
      }
    },
    async close() {
      await connection.end().catch(() => connection.destroy());
    },
  };
}
