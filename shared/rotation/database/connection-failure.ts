import { type ConnectionFailure, DatabaseConnectionError } from './errors';

const TLS_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** The driver-independent reason a connection failed, from a Node socket or TLS error code. */
export function connectionFailureOf(error: unknown): ConnectionFailure | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (TLS_UNTRUSTED.has(code)) return 'tls-untrusted';
  if (UNREACHABLE.has(code)) return 'unreachable';
  if (code === 'ETIMEDOUT') return 'timeout';
  return undefined;
}

const DESCRIPTIONS: Record<ConnectionFailure, string> = {
  unreachable: 'the database server cannot be reached',
  timeout: 'the database server did not answer in time',
  'tls-refused': 'the database server does not offer TLS, which the secret asks for',
  'tls-untrusted': "the database server's TLS certificate is not trusted for its host",
};

/** A {@link DatabaseConnectionError} naming what was tried; `code` is the driver's, safe to show. */
export function connectionError(
  failure: ConnectionFailure,
  what: string,
  code: string,
): DatabaseConnectionError {
  return new DatabaseConnectionError(failure, `${what}: ${DESCRIPTIONS[failure]} (${code})`);
}

/** The error's `code` when it is a short identifier (an errno name or SQLSTATE), else `unknown`. */
export function safeCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/i.test(code) ? code : 'unknown';
}
