/**
 * The demo's sample database: a throw-away PostgreSQL (scripts/databases) with database `orders`,
 * its app user and a master, as a DBA would set them up, and logins tried as a client would.
 * Passwords are random, stay in this process and are handed only to Secrets Manager.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type LocalDatabaseServer, startPostgres } from '../scripts/databases/postgres-server';

/** The names; `user` owns database `dbname` and its table `orders`. */
export const ORDERS_DATABASE = { dbname: 'orders', user: 'orders_app', master: 'orders_master' } as const;

export interface Credential {
  readonly username: string;
  readonly password: string;
}

/** A login tried as a client would: in, running as which role; or refused, with the SQLSTATE. */
export type Login =
  | { readonly ok: true; readonly runsAs: string }
  | { readonly ok: false; readonly code: string };

export interface OrdersDatabase {
  readonly server: LocalDatabaseServer;
  /** e.g. `PostgreSQL 15.18 (Debian 15.18-0+deb12u1)` */
  readonly version: string;
  /**
   * Creates the app user (owner of database `orders` and its table `orders`) and a master that may
   * create users and grant the app's role (CREATEROLE; ADMIN OPTION on it, as PostgreSQL 16+ asks).
   */
  createUsers(): Promise<{ readonly user: Credential; readonly master: Credential }>;
  /** Logs in to `orders` over TLS and reads its table. */
  login(credential: Credential): Promise<Login>;
  stop(): Promise<void>;
}

/** A temp folder for the server's CA (the database function's NODE_EXTRA_CA_CERTS), removed by `remove`. */
export function caFolder() {
  const dir = mkdtempSync(join(tmpdir(), 'rotator-demo-ca-'));
  return { caFile: join(dir, 'ca.pem'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts PostgreSQL with the project's script and writes its CA's PEM to `caFile`. */
export async function startOrdersDatabase(caFile: string): Promise<OrdersDatabase> {
  const server = await startPostgres();
  writeFileSync(caFile, server.caPem);
  const client = ({ username, password }: Credential, database: string) =>
    new pg.Client({
      ...{ host: server.host, port: server.port, database, ssl: { ca: server.caPem } },
      ...{ user: username, password },
    });
  const admin = client(server.admin, 'postgres');
  await admin.connect();
  const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');
  return {
    server,
    version: `PostgreSQL ${rows[0]?.server_version}`,
    async createUsers() {
      const { dbname, user, master } = ORDERS_DATABASE;
      const password = () => randomBytes(24).toString('base64url');
      const credentials = {
        user: { username: user, password: password() },
        master: { username: master, password: password() },
      };
      const role = pg.escapeIdentifier;
      const literal = pg.escapeLiteral;
      await admin.query(`CREATE ROLE ${role(user)} LOGIN PASSWORD ${literal(credentials.user.password)}`);
      await admin.query(
        `CREATE ROLE ${role(master)} LOGIN CREATEROLE PASSWORD ${literal(credentials.master.password)}`,
      );
      await admin.query(`GRANT ${role(user)} TO ${role(master)} WITH ADMIN OPTION`);
      await admin.query(`CREATE DATABASE ${role(dbname)} OWNER ${role(user)}`);
      const owner = client(credentials.user, dbname);
      await owner.connect();
      await owner.query(
        'CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item text)',
      );
      await owner.query("INSERT INTO orders (item) VALUES ('espresso machine')");
      await owner.end();
      return credentials;
    },
    async login(credential) {
      const session = client(credential, ORDERS_DATABASE.dbname);
      try {
        await session.connect();
        const result = await session.query<{ runs_as: string }>('SELECT current_user AS runs_as FROM orders');
        return { ok: true, runsAs: String(result.rows[0]?.runs_as) };
      } catch (error) {
        return { ok: false, code: String((error as { code?: unknown }).code ?? 'none') };
      } finally {
        await session.end().catch(() => {});
      }
    },
    async stop() {
      await admin.end().catch(() => {});
      await server.stop();
    },
  };
}
