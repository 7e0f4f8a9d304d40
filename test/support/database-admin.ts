import mysql from 'mysql2/promise';
import pg from 'pg';
import { startMariaDb } from '../../scripts/databases/mariadb-server';
import { type LocalDatabaseServer, startPostgres } from '../../scripts/databases/postgres-server';
import { type DatabaseSecretValue, HOSTILE } from './database-fixture';

/**
 * A local database server seen by a test as its administrator: users and masters with hostile
 * names and passwords, logins tried as a client would, and each user's stored password hash (to
 * prove a password did or did not change without knowing it). The same shape for PostgreSQL and
 * MariaDB, so one table-driven test covers both.
 */
export interface DatabaseAdmin {
  readonly server: LocalDatabaseServer;
  /** The strategy names a `rotator:strategy` tag gives this engine. */
  readonly strategies: { readonly singleUser: string; readonly alternatingUsers: string };
  /** A login user with privileges in the test database, and its secret value. */
  createUser(tag: string): Promise<DatabaseSecretValue>;
  /** A master as the cloud gives one: may create users and grant what it holds, not more. */
  createMaster(tag: string): Promise<DatabaseSecretValue>;
  canLogin(username: string, password: string): Promise<boolean>;
  /** The server's stored verifier of the user's password (scram-sha-256 or mysql_native_password). */
  passwordHash(username: string): Promise<string>;
  stop(): Promise<void>;
}

/** Every password a created user gets is passed to `remember`, for the leak scan. */
type Remember = (password: string) => void;

export async function postgresAdmin(remember: Remember): Promise<DatabaseAdmin> {
  const server = await startPostgres();
  remember(server.admin.password);
  const config = (user: string, password: string): pg.ClientConfig => ({
    host: server.host,
    port: server.port,
    user,
    password,
    database: 'postgres',
    ssl: { ca: server.caPem },
  });
  const admin = await connectWhenReady(
    () => new pg.Client(config(server.admin.username, server.admin.password)),
  );
  let serial = 0;
  const createUser = async (tag: string) => {
    serial += 1;
    const value = hostileValue('postgres', server, `${tag}${serial}`, 'postgres');
    remember(value.password);
    await admin.query(
      `CREATE ROLE ${pg.escapeIdentifier(value.username)} LOGIN PASSWORD ${pg.escapeLiteral(value.password)}`,
    );
    return value;
  };
  return {
    server,
    strategies: { singleUser: 'postgres-single-user', alternatingUsers: 'postgres-alternating-users' },
    createUser,
    async createMaster(tag) {
      const master = await createUser(tag);
      await admin.query(`ALTER ROLE ${pg.escapeIdentifier(master.username)} CREATEROLE`);
      return master;
    },
    async canLogin(username, password) {
      const client = new pg.Client(config(username, password));
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    },
    async passwordHash(username) {
      const { rows } = await admin.query<{ hash: string }>(
        'SELECT rolpassword AS hash FROM pg_authid WHERE rolname = $1',
        [username],
      );
      return String(rows[0]?.hash);
    },
    async stop() {
      await admin.end();
      await server.stop();
    },
  };
}

export async function mariadbAdmin(remember: Remember): Promise<DatabaseAdmin> {
  const server = await startMariaDb();
  remember(server.admin.password);
  const options = (user: string, password: string): mysql.ConnectionOptions => ({
    host: server.host,
    port: server.port,
    user,
    password,
    ssl: { ca: server.caPem },
    charset: 'utf8mb4_general_ci',
  });
  const admin = await mysql.createConnection(options(server.admin.username, server.admin.password));
  await admin.query('CREATE DATABASE appdb');
  let serial = 0;
  const createUser = async (tag: string, grants = 'SELECT, INSERT ON appdb.*', grantOption = false) => {
    serial += 1;
    const value = hostileValue('mariadb', server, `${tag}${serial}`, 'appdb');
    remember(value.password);
    await admin.query(mysql.format('CREATE USER ?@? IDENTIFIED BY ?', [value.username, '%', value.password]));
    const grant = `GRANT ${grants} TO ?@?${grantOption ? ' WITH GRANT OPTION' : ''}`;
    await admin.query(mysql.format(grant, [value.username, '%']));
    return value;
  };
  return {
    server,
    strategies: { singleUser: 'mysql-single-user', alternatingUsers: 'mysql-alternating-users' },
    createUser: (tag) => createUser(tag),
    createMaster: (tag) => createUser(tag, 'ALL PRIVILEGES ON *.*', true),
    async canLogin(username, password) {
      try {
        const connection = await mysql.createConnection(options(username, password));
        await connection.query('SELECT 1');
        await connection.end();
        return true;
      } catch {
        return false;
      }
    },
    async passwordHash(username) {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        mysql.format('SELECT authentication_string AS hash FROM mysql.user WHERE User = ? AND Host = ?', [
          username,
          '%',
        ]),
      );
      return String(rows[0]?.hash);
    },
    async stop() {
      await admin.end();
      await server.stop();
    },
  };
}

/**
 * PostgreSQL accepts TCP connections before it accepts logins ("the database system is starting
 * up", SQLSTATE 57P03), which a loaded machine shows: retried for up to 30 s.
 */
async function connectWhenReady(client: () => pg.Client): Promise<pg.Client> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const attempt = client();
    try {
      await attempt.connect();
      return attempt;
    } catch (error) {
      await attempt.end().catch(() => {});
      if ((error as { code?: unknown }).code !== '57P03' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** A secret value for a user whose name and password hold quotes, backslashes, `$`, `;` and Unicode. */
function hostileValue(
  engine: string,
  server: LocalDatabaseServer,
  tag: string,
  dbname: string,
): DatabaseSecretValue {
  return {
    engine,
    host: server.host,
    port: server.port,
    username: HOSTILE.user(tag),
    password: HOSTILE.password(tag),
    dbname,
    ssl: true,
  };
}
