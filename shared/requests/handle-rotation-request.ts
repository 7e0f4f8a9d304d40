import type { LambdaFunctionURLResult } from 'aws-lambda';
import {
  describeError,
  EmergencyCooldownError,
  InvalidEventError,
  RotationInProgressError,
  SecretNotManagedError,
} from '../errors';
import { type RotationRequestDeps, type RotationRequestResult, requestRotation } from './request-rotation';
import { classifyEvent, type FunctionUrlEvent, requestFromFunctionUrl } from './rotation-request-event';

/**
 * The request function's entry: the custom EventBridge event `Secret Rotation Requested` only (the
 * result is returned, a failure is thrown so Lambda's asynchronous retries and the failure
 * destination see it). A payload shaped like a function URL request is refused
 * ({@link InvalidEventError}): the emergency URL has its own function, so nothing that reaches
 * this one, however shaped, can ask for an emergency.
 */
export async function handleRequestedEvent(
  event: unknown,
  deps: RotationRequestDeps,
): Promise<RotationRequestResult> {
  const incoming = classifyEvent(event);
  if (incoming.kind !== 'eventbridge') {
    throw new InvalidEventError(
      'A function URL request reached the request function; emergencies are served by the emergency URL function only',
    );
  }
  return requestRotation(incoming.request, deps);
}

/**
 * The emergency function's entry: an IAM-authorized function URL request only, answered with an
 * HTTP status (202, 400, 403, 405, 409, 429 with `Retry-After` inside the emergency cooldown, 500,
 * and the error's safe message). Anything else, an EventBridge event included, is an
 * {@link InvalidEventError} (thrown).
 */
export async function handleFunctionUrl(
  event: unknown,
  deps: RotationRequestDeps,
): Promise<LambdaFunctionURLResult> {
  const incoming = classifyEvent(event);
  if (incoming.kind !== 'function-url') {
    throw new InvalidEventError(
      'An EventBridge event reached the emergency URL function; it serves its URL only',
    );
  }
  return answerFunctionUrl(incoming.event, deps);
}

async function answerFunctionUrl(
  event: FunctionUrlEvent,
  deps: RotationRequestDeps,
): Promise<LambdaFunctionURLResult> {
  if (event.requestContext.http.method !== 'POST') {
    return respond(405, { error: 'MethodNotAllowed', message: 'Use POST' }, { Allow: 'POST' });
  }
  const actor = event.requestContext.authorizer?.iam?.userArn;
  if (!actor) {
    deps.logger.warn('function URL request without an IAM caller refused');
    return respond(403, {
      error: 'Forbidden',
      message: 'The request carries no IAM identity (AuthType must be AWS_IAM)',
    });
  }
  let request: Record<string, unknown>;
  try {
    request = requestFromFunctionUrl(event, actor);
  } catch (error) {
    deps.logger.warn('function URL request refused', { error: describeError(error) });
    return failure(error, deps.now?.() ?? new Date());
  }
  try {
    const result = await requestRotation(request, deps);
    return respond(202, {
      secretName: result.secretName,
      versionId: result.versionId,
      ...(result.repairedPendingVersionId
        ? { repairedPendingVersionId: result.repairedPendingVersionId }
        : {}),
    });
  } catch (error) {
    // Answered, not thrown: the handler's logFailureOnce never sees it, so it is logged here.
    deps.logger.error('rotation request refused or failed', { error: describeError(error) });
    return failure(error, deps.now?.() ?? new Date());
  }
}

/** HTTP status for each error a request can end with. */
export function statusOf(error: unknown): number {
  if (error instanceof InvalidEventError) return 400;
  if (error instanceof SecretNotManagedError) return 403;
  if (error instanceof RotationInProgressError) return 409;
  if (error instanceof EmergencyCooldownError) return 429;
  return 500;
}

/**
 * The error's name and safe message (sanitized, never a value: see describeError); inside the
 * emergency cooldown also when to come back (`nextAllowedAt`, and `Retry-After` in whole seconds).
 */
function failure(error: unknown, now: Date): LambdaFunctionURLResult {
  const { name, message } = describeError(error);
  const body = { error: name, message };
  if (!(error instanceof EmergencyCooldownError)) return respond(statusOf(error), body);
  const seconds = Math.max(1, Math.ceil((error.nextAllowedAt.getTime() - now.getTime()) / 1000));
  return respond(
    429,
    { ...body, nextAllowedAt: error.nextAllowedAt.toISOString() },
    { 'Retry-After': String(seconds) },
  );
}

function respond(
  statusCode: number,
  body: object,
  headers: Record<string, string> = {},
): LambdaFunctionURLResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
