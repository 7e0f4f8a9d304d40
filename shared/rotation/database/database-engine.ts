/**
 * What the database strategies need from one engine, and no more. postgres-engine.ts and
 * mysql-engine.ts implement it with the engine's driver, loaded on first use. Every failure is one
 * of ./errors.ts, never a driver's error.
 */

/** Where and as whom to log in. */
export interface DatabaseLogin {
  readonly host: string;
  readonly port: number | undefined;
  readonly username: string;
  readonly password: string;
  readonly dbname: string | undefined;
  /** TLS with the server's certificate verified (against {@link EngineOptions.ca} or Node's trust store). */
  readonly tls: boolean;
}

export interface DatabaseSession {
  /** Runs a query that reads nothing (`SELECT 1`): the login works. */
  ping(): Promise<void>;
  /** Changes the password of the user this session logged in as (`username`). */
  setOwnPassword(username: string, password: string): Promise<void>;
  /** Changes another user's password (a master session). */
  setPassword(username: string, password: string): Promise<void>;
  /** Whether a user (role) of that name exists (a master session). */
  userExists(username: string): Promise<boolean>;
  /**
   * Makes `clone` a login with `password` and the privileges of `original` (created when missing),
   * so objects made through either end up with one owner and the same grants. All or nothing.
   */
  ensureClone(original: string, clone: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseEngine {
  readonly family: 'postgres' | 'mysql';
  /** Characters generated passwords never contain: they break this engine's connection strings. */
  readonly excludedCharacters: string;
  /** Longest user name the engine accepts, in UTF-8 bytes (PostgreSQL) or characters (MySQL). */
  readonly maxUsernameLength: number;
  /** Logs in; a refused login is a DatabaseLoginError, an unreachable server a DatabaseConnectionError. */
  connect(login: DatabaseLogin): Promise<DatabaseSession>;
}

/** Deployment-wide settings of the database engines. */
export interface EngineOptions {
  /** PEM bundle to verify database servers with; Node's trust store (and NODE_EXTRA_CA_CERTS) when absent. */
  readonly ca?: string | undefined;
  /** Trust Amazon RDS's CA certificates too (rds-certificates.ts). Default: false. */
  readonly rdsCertificates?: boolean | undefined;
  /** TLS for secrets that do not say (`ssl`/`sslmode` absent). Default: false. */
  readonly tlsByDefault?: boolean | undefined;
  /** Milliseconds to wait for a connection. Default: 5000. */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * Characters that URL-style and keyword/value connection strings of both engines cannot carry
 * without quoting or percent-encoding (libpq, JDBC, mysql2/PyMySQL URLs), so a generated password
 * works pasted into any of them.
 */
export const CONNECTION_STRING_UNSAFE = ` "'\`\\/@:;?#%&=+,()[]{}<>`;
