import type { MiddlewareObj } from '@middy/core';
import { describeError } from './errors';
import type { RotationLogger } from './observability';

/**
 * The one place a failed invocation is logged: a middy `onError` that writes one error line with
 * the error's safe fields ({@link describeError}: name, code, sanitized message; never a stack,
 * a cause or a value) and then lets the error go on to Lambda, unchanged. Use it after
 * `injectLambdaContext`, so the line still carries the keys the invocation appended; the domain
 * functions then neither log nor catch just to log.
 * @example middy().use(injectLambdaContext(logger)).use(logFailureOnce(logger, 'sweep failed')).handler(run)
 */
export function logFailureOnce(
  logger: Pick<RotationLogger, 'error'>,
  message = 'invocation failed',
): MiddlewareObj<unknown, unknown, Error> {
  return {
    onError: (request) => {
      logger.error(message, { error: describeError(request.error) });
    },
  };
}
