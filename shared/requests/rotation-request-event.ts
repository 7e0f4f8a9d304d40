import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { InvalidEventError } from '../errors';
import * as z from '../schema';
import { issuesOf, versionIdSchema } from './rotation-request';

/** The `source` of the custom EventBridge event that asks for a rotation (and of nothing else). */
export const ROTATION_REQUEST_SOURCE = 'secret-rotation-orchestrator';
/** The `detail-type` of that event. */
export const ROTATION_REQUEST_DETAIL_TYPE = 'Secret Rotation Requested';

/**
 * The custom event, as automation puts it on the request bus (a leaked-credential finding, say):
 * `{ source: "secret-rotation-orchestrator", "detail-type": "Secret Rotation Requested",
 *    detail: { secretId, reason, requestedBy?, emergency?, retirePrevious? } }`.
 * `emergency` and `retirePrevious` may only be absent or `false`: a payload anyone allowed on the
 * bus (or allowed to invoke the function) can write never asks for either.
 */
const rotationRequestedEventSchema = z.object({
  id: versionIdSchema,
  source: z.literal(ROTATION_REQUEST_SOURCE),
  'detail-type': z.literal(ROTATION_REQUEST_DETAIL_TYPE),
  account: z.string().check(z.regex(/^\d{12}$/)),
  detail: z.object({
    secretId: z.string(),
    reason: z.string(),
    requestedBy: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256))),
    emergency: z.optional(z.boolean()),
    retirePrevious: z.optional(z.boolean()),
  }),
});

/** The function URL's JSON body. Unknown fields are refused, so a misspelt option is never ignored. */
const functionUrlBodySchema = z.strictObject({
  secretId: z.string(),
  reason: z.string(),
  retirePrevious: z.optional(z.boolean()),
  /** Optional idempotency key: a retried call with the same value rotates once. @default random */
  versionId: z.optional(z.string()),
});

export type IncomingRequest =
  | { readonly kind: 'eventbridge'; readonly request: unknown }
  | { readonly kind: 'function-url'; readonly event: FunctionUrlEvent };

/** A function URL request with `AuthType: AWS_IAM`, as @types/aws-lambda models it. */
export type FunctionUrlEvent = LambdaFunctionURLEventWithIAMAuthorizer;

/** Tells the two accepted event shapes apart; anything else is an {@link InvalidEventError}. */
export function classifyEvent(event: unknown): IncomingRequest {
  const e = event as (Partial<FunctionUrlEvent> & { source?: unknown }) | null;
  if (
    e &&
    typeof e === 'object' &&
    e.version === '2.0' &&
    typeof e.requestContext?.http?.method === 'string'
  ) {
    return { kind: 'function-url', event: e as FunctionUrlEvent };
  }
  if (e && typeof e === 'object' && e.source === ROTATION_REQUEST_SOURCE) {
    return { kind: 'eventbridge', request: requestFromEventBridge(event) };
  }
  throw new InvalidEventError(
    `Unrecognized event: expected "${ROTATION_REQUEST_DETAIL_TYPE}" from source "${ROTATION_REQUEST_SOURCE}" or a function URL request`,
  );
}

/**
 * The rotation request a custom EventBridge event carries: trigger `request`, actor
 * `eventbridge:<requestedBy or the sending account>` (as the sender wrote it: a claim, not an
 * identity), and the event's id as the new version's id, so a redelivered event rotates once.
 * Never an emergency and never retires the previous version: an event asking for either is
 * refused ({@link InvalidEventError}), so the request is seen to fail rather than run as less.
 */
export function requestFromEventBridge(event: unknown): Record<string, unknown> {
  const parsed = rotationRequestedEventSchema.safeParse(event);
  if (!parsed.success)
    throw new InvalidEventError(`Malformed rotation request event (${issuesOf(parsed.error)})`);
  const { id, account, detail } = parsed.data;
  if (detail.emergency || detail.retirePrevious) {
    throw new InvalidEventError(
      'emergency and retirePrevious are honoured only at the IAM-authenticated emergency URL (or `rotator emergency`); the custom event asks for an ordinary rotation',
    );
  }
  return {
    secretId: detail.secretId,
    reason: detail.reason,
    actor: `eventbridge:${detail.requestedBy ?? account}`,
    trigger: 'request',
    emergency: false,
    retirePrevious: false,
    versionId: id,
  };
}

/**
 * The rotation request a function URL call carries: POST, a JSON body, and the IAM caller
 * (`requestContext.authorizer.iam.userArn`) as the actor. Always an emergency (trigger `emergency`).
 * The caller's identity is checked by the caller of this function; here it is only read.
 */
export function requestFromFunctionUrl(event: FunctionUrlEvent, actor: string): Record<string, unknown> {
  const text = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidEventError(
      'The request body is not JSON: send {"secretId", "reason", "retirePrevious"?}',
    );
  }
  const parsed = functionUrlBodySchema.safeParse(json);
  if (!parsed.success) throw new InvalidEventError(`Malformed request body (${issuesOf(parsed.error)})`);
  return {
    secretId: parsed.data.secretId,
    reason: parsed.data.reason,
    actor,
    trigger: 'emergency',
    emergency: true,
    retirePrevious: parsed.data.retirePrevious ?? false,
    ...(parsed.data.versionId === undefined ? {} : { versionId: parsed.data.versionId }),
  };
}
