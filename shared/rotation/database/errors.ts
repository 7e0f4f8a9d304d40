import { OrchestratorError } from '../../errors';

/**
 * The errors of the database strategies. Messages name the secret, the version stage and what
 * failed, never a value; a driver's error is kept only as its code (SQLSTATE, errno name), never as
 * text or cause: driver messages can quote the statement, and so the password in it.
 */

/** The secret's `masterarn` is missing, unreadable or not a database secret; nothing was changed. */
export class MasterSecretError extends OrchestratorError {
  readonly code = 'MASTER_SECRET_UNAVAILABLE';
}

/** The database refused a login (wrong password, no such user); nothing was changed. */
export class DatabaseLoginError extends OrchestratorError {
  readonly code = 'DATABASE_LOGIN_FAILED';
}

/** Why a database could not be reached. */
export type ConnectionFailure = 'unreachable' | 'tls-refused' | 'tls-untrusted' | 'timeout';

/** The database could not be reached, or not over TLS as the secret asks; nothing was changed. */
export class DatabaseConnectionError extends OrchestratorError {
  readonly code = 'DATABASE_UNREACHABLE';
  constructor(
    readonly failure: ConnectionFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The login lacks a privilege a statement needs (e.g. a master without CREATEROLE); nothing was changed. */
export class DatabasePrivilegeError extends OrchestratorError {
  readonly code = 'DATABASE_PRIVILEGE_MISSING';
}

/** A statement failed for another reason; the message carries the driver's error code only. */
export class DatabaseStatementError extends OrchestratorError {
  readonly code = 'DATABASE_STATEMENT_FAILED';
}

/**
 * Revoking the previous credential was refused because it could hit a user still in use: the
 * AWSPREVIOUS user is not the alternate of the AWSCURRENT one, or lives on another server. Nothing
 * was changed.
 */
export class RevokeRefusedError extends OrchestratorError {
  readonly code = 'REVOKE_REFUSED';
}
