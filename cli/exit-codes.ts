import { CommanderError } from 'commander';
import { AwsCallError, OrchestratorError, sanitizeUpstreamMessage } from '../shared/errors';

/**
 * The CLI's exit codes. `status` also uses ATTENTION when a secret is overdue or stuck, so it can
 * gate a CI job; every other command uses it for input it refused.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  /** Bad input or refused (unmanaged secret, missing option), or `status` found overdue/stuck secrets. */
  attention: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Codes of our errors that mean "refused, nothing changed" rather than "something failed". */
const REFUSED_CODES = new Set([
  'SECRET_NOT_MANAGED',
  'CONFIG_INVALID',
  'EVENT_INVALID',
  'ROTATION_STATE_INVALID',
  'ROTATION_IN_PROGRESS',
]);
const REFUSED_AWS_ERRORS = new Set(['ResourceNotFoundException', 'InvalidParameterException']);

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.attention;
  if (error instanceof AwsCallError && REFUSED_AWS_ERRORS.has(error.awsErrorName)) return EXIT.attention;
  if (error instanceof OrchestratorError && REFUSED_CODES.has(error.code)) return EXIT.attention;
  return EXIT.failed;
}

/**
 * One line for the operator: `error: <message>`. Our own errors are already safe to print; anything
 * else is cut to one sanitized line. The stack follows only with `--verbose`.
 */
export function describeFailure(error: unknown, verbose: boolean): string {
  const message =
    error instanceof OrchestratorError
      ? error.message
      : error instanceof Error
        ? `${error.name}: ${sanitizeUpstreamMessage(error.message)}`
        : 'unexpected failure';
  const line = `error: ${message}`;
  return verbose && error instanceof Error && error.stack ? `${line}\n${error.stack}` : line;
}
