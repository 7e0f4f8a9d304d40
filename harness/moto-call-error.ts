import type { MetadataBearer, Pluggable } from '@smithy/types';
import { sanitizeUpstreamMessage } from '../shared/errors';
import type { MotoServer } from './moto-server';

/**
 * A call to moto failed on moto's side (HTTP 5xx, or an answer that is not the protocol's JSON or
 * XML, such as the HTML page moto's server sends when a request raises), after the SDK's retries.
 * Keeps the original error as `cause` and its `$metadata`, so code under test that reads the
 * status still sees it.
 */
export class MotoCallError extends Error {
  override readonly name = 'MotoCallError';
  readonly $metadata: MetadataBearer['$metadata'];

  constructor(
    readonly operation: string,
    readonly httpStatus: number | undefined,
    readonly attempts: number,
    detail: string,
    options: ErrorOptions & { $metadata: MetadataBearer['$metadata'] },
  ) {
    const status = httpStatus === undefined ? 'an unreadable answer' : `HTTP ${httpStatus}`;
    const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
    super(`moto ${operation} failed with ${status} after ${tries}${detail ? `: ${detail}` : ''}`, options);
    this.$metadata = options.$metadata;
  }
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: MetadataBearer['$metadata'];
  /** Set by the SDK's XML protocols when the body could not be parsed. */
  $responseBodyText?: string;
}

/**
 * Client middleware, outside the retries: a call that failed on moto's side throws a
 * {@link MotoCallError}; modelled 4xx errors (ResourceNotFoundException, …) pass through as they are.
 * @example client.middlewareStack.use(reportMotoFailures())
 */
export function reportMotoFailures<I extends object, O extends object>(): Pluggable<I, O> {
  return {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          try {
            return await next(args);
          } catch (error) {
            throw asMotoCallError(String(context.commandName).replace(/Command$/, ''), error);
          }
        },
        { step: 'initialize', priority: 'high', name: 'reportMotoFailures' },
      );
    },
  };
}

/** `error` as a {@link MotoCallError} if moto failed to answer `operation`; otherwise unchanged. */
function asMotoCallError(operation: string, error: unknown): unknown {
  const sdk = (error ?? {}) as SdkError;
  const status = sdk.$metadata?.httpStatusCode;
  // On a body that is not JSON (moto's HTML 500 page), the SDK's JSON protocols throw a bare
  // SyntaxError; the XML ones keep the body as $responseBodyText.
  const unparsed = sdk.name === 'SyntaxError' || typeof sdk.$responseBodyText === 'string';
  if (!unparsed && !(status !== undefined && status >= 500)) return error;
  const detail = unparsed
    ? errorPage(sdk.$responseBodyText)
    : `${sdk.name ?? 'Error'}${sdk.message ? ` (${sanitizeUpstreamMessage(sdk.message)})` : ''}`;
  return new MotoCallError(operation, status, sdk.$metadata?.attempts ?? 1, detail, {
    cause: error,
    $metadata: sdk.$metadata ?? {},
  });
}

function errorPage(body: string | undefined): string {
  const title = body && /<title>([^<]*)<\/title>/i.exec(body)?.[1];
  return (
    `${title ? `"${sanitizeUpstreamMessage(title)}", ` : ''}an error page, not the service's JSON or XML ` +
    "(moto raised while handling the request; moto's log has the traceback)"
  );
}

/**
 * For a script that failed with `error`: moto's last traceback, if a {@link MotoCallError} is
 * `error` or among its causes (code under test may wrap it), to print next to the error.
 * @example catch (error) { const traceback = await motoTraceback(error, moto); if (traceback) console.error(traceback); throw error; }
 */
export async function motoTraceback(
  error: unknown,
  moto: Pick<MotoServer, 'lastTraceback'>,
): Promise<string | undefined> {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof MotoCallError) {
      const traceback = await moto.lastTraceback();
      return traceback && `moto's last traceback:\n${traceback}`;
    }
  }
  return undefined;
}
