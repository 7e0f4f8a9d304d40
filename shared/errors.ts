/**
 * Every error the orchestrator raises on purpose. Each class sets `name`, keeps its `cause`, and
 * carries a stable `code` for logs and metrics. Messages name secrets and versions, never values.
 */

export abstract class OrchestratorError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The deployment's configuration is missing or malformed; raised once at cold start. */
export class ConfigError extends OrchestratorError {
  readonly code = 'CONFIG_INVALID';
}

/** An incoming event does not have the shape we accept; nothing was called. */
export class InvalidEventError extends OrchestratorError {
  readonly code = 'EVENT_INVALID';
}

/** The secret is not under any managed prefix; refused before any AWS call. */
export class SecretNotManagedError extends OrchestratorError {
  readonly code = 'SECRET_NOT_MANAGED';
  constructor(readonly secretId: string) {
    super(`Secret "${secretId}" is outside the managed prefixes of this deployment; nothing was changed`);
  }
}

/** Secrets Manager would not let this rotation proceed (rotation disabled, unknown or non-pending version). */
export class RotationStateError extends OrchestratorError {
  readonly code = 'ROTATION_STATE_INVALID';
}

/** The secret's value does not have the shape its rotation policy expects. */
export class SecretShapeError extends OrchestratorError {
  readonly code = 'SECRET_SHAPE_INVALID';
}

/**
 * An automatic rollback was refused before anything changed: the previous credential would not
 * work (single-user rotation, a revoked user) or the secret's labels are not as the rollback expects.
 */
export class RollbackRefusedError extends OrchestratorError {
  readonly code = 'ROLLBACK_REFUSED';
}

/** The rotation policy (from tags or configuration) is malformed. */
export class RotationPolicyError extends OrchestratorError {
  readonly code = 'ROTATION_POLICY_INVALID';
}

/**
 * The pending version failed the strategy's test; AWSCURRENT was not moved. The strategy's error
 * is kept only as its class name and a sanitized message, never as a cause: a database driver's
 * error can carry a DSN with the very password under test.
 */
export class RotationTestFailedError extends OrchestratorError {
  readonly code = 'ROTATION_TEST_FAILED';
  /** The class name of the strategy's error, e.g. `Error` or a driver's `DatabaseError`. */
  readonly strategyErrorName: string;
  constructor(secretName: string, strategyError: unknown) {
    const { name, message } = describeError(strategyError);
    super(`Pending version of "${secretName}" failed its test: ${name} (${message})`);
    this.strategyErrorName = name;
  }
}

/**
 * A rotation of this secret is already under way (AWSPENDING sits on a version that is not
 * AWSCURRENT, and it is younger than the stuck threshold); nothing was changed.
 */
export class RotationInProgressError extends OrchestratorError {
  readonly code = 'ROTATION_IN_PROGRESS';
  constructor(
    readonly secretName: string,
    readonly pendingVersionId: string,
  ) {
    super(
      `Secret "${secretName}" has a rotation in progress (version ${pendingVersionId} is AWSPENDING); nothing was changed. Retry later, or request an emergency rotation to repair it`,
    );
  }
}

/**
 * An emergency rotation of this secret was requested less than the emergency cooldown ago (or the
 * ledger holds too many recent entries to tell); nothing was changed. `nextAllowedAt` is the
 * earliest time the next emergency rotation of this secret is accepted.
 */
export class EmergencyCooldownError extends OrchestratorError {
  readonly code = 'EMERGENCY_COOLDOWN';
  constructor(
    readonly secretName: string,
    readonly nextAllowedAt: Date,
    /** The emergency rotation that started the cooldown; absent when the history was too busy to read through. */
    readonly lastVersionId?: string,
  ) {
    super(
      `Secret "${secretName}" ${lastVersionId ? `had an emergency rotation (version ${lastVersionId}) requested` : 'has too many ledger entries'} within the emergency cooldown; nothing was changed. The next emergency rotation is allowed from ${nextAllowedAt.toISOString()}`,
    );
  }
}

/** An AWS API call failed. The message is trimmed and never includes request parameters. */
export class AwsCallError extends OrchestratorError {
  readonly code = 'AWS_CALL_FAILED';
  constructor(
    readonly operation: string,
    readonly awsErrorName: string,
    readonly httpStatus: number | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const MAX_UPSTREAM_MESSAGE = 200;

/**
 * Turns anything thrown by an SDK call into an {@link AwsCallError} whose text is safe to log:
 * the upstream message is cut to one line of at most 200 characters.
 */
export function toAwsCallError(operation: string, secretId: string, error: unknown): AwsCallError {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const upstream = error instanceof Error ? sanitizeUpstreamMessage(error.message) : '';
  return new AwsCallError(
    operation,
    name,
    status,
    `${operation} on "${secretId}" failed: ${name}${upstream ? ` (${upstream})` : ''}`,
    { cause: error },
  );
}

/** `scheme://user:password@` in a URL or DSN: everything from `//` to the last `@` of the word goes. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)\S*@/gi;
/** `password=…`, `pwd: …`, `"token":"…"` and the like, as drivers and config dumps write them. */
const SECRET_ASSIGNMENT =
  /\b(password|passwd|pwd|token|api[_-]?key|secret[_-]?key|client[_-]?secret)("?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;,&"']+)/gi;

/**
 * Upstream error text made safe to log: credentials in URLs/DSNs and `password=`-style pairs are
 * replaced by `***`, whitespace is folded to one line and the result cut to 200 characters.
 * @example sanitizeUpstreamMessage('connect postgres://app:hunter2@db/app failed') // 'connect postgres://***@db/app failed'
 */
export function sanitizeUpstreamMessage(message: string): string {
  const oneLine = message
    .replace(URL_CREDENTIALS, '$1***@')
    .replace(SECRET_ASSIGNMENT, '$1$2***')
    .replace(/\s+/g, ' ')
    .trim();
  return oneLine.length > MAX_UPSTREAM_MESSAGE ? `${oneLine.slice(0, MAX_UPSTREAM_MESSAGE)}…` : oneLine;
}

/** What a log line or an answer may say about an error; an AwsCallError adds its call. */
export interface ErrorDescription {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly operation?: string;
  readonly awsErrorName?: string;
  readonly httpStatus?: number | undefined;
}

/**
 * Fields of an error that are safe to put in a structured log line or a response: our errors'
 * own messages (which never hold values), any other error's message sanitized, never a stack or
 * a cause.
 */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof AwsCallError) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      operation: error.operation,
      awsErrorName: error.awsErrorName,
      httpStatus: error.httpStatus,
    };
  }
  if (error instanceof OrchestratorError) {
    return { name: error.name, code: error.code, message: error.message };
  }
  if (error instanceof Error) {
    return { name: error.name, code: 'UNEXPECTED', message: sanitizeUpstreamMessage(error.message) };
  }
  return { name: 'UnknownError', code: 'UNEXPECTED', message: 'unknown error' };
}

/** The message of {@link describeError}: safe to report or return. */
export function safeMessage(error: unknown): string {
  return describeError(error).message;
}

/** A ledger item read back (or a record about to be written) does not have the ledger's shape. */
export class LedgerItemInvalidError extends OrchestratorError {
  readonly code = 'LEDGER_ITEM_INVALID';
}

/** finishPropagation for a version nobody has claimed; nothing was written. */
export class PropagationNotClaimedError extends OrchestratorError {
  readonly code = 'PROPAGATION_NOT_CLAIMED';
  constructor(
    readonly secretName: string,
    readonly versionId: string,
  ) {
    super(`No propagation of "${secretName}" version ${versionId} has been claimed; nothing was recorded`);
  }
}

/** finishPropagation by an execution that does not hold the claim (its lease was taken over); nothing was written. */
/** A Kubernetes list whose continue token expired more often than the pager restarts it. */
export class ListRestartError extends OrchestratorError {
  readonly code = 'KUBERNETES_LIST_EXPIRED';
}

/** A propagation's outcome is already recorded (succeeded or failed); it is not rewritten. */
export class PropagationAlreadyFinishedError extends OrchestratorError {
  readonly code = 'PROPAGATION_ALREADY_FINISHED';
  constructor(
    readonly secretName: string,
    readonly versionId: string,
    readonly status: string,
    /**
     * Why the summary could not be brought up to this outcome, when the ledger tried and failed
     * (the outcome itself stands; the next write of the summary corrects it).
     */
    readonly summaryNotUpdated?: ErrorDescription,
  ) {
    super(`The propagation of "${secretName}" version ${versionId} is already recorded as ${status}`);
  }
}

export class PropagationHeldByOtherError extends OrchestratorError {
  readonly code = 'PROPAGATION_HELD_BY_OTHER';
  constructor(
    readonly secretName: string,
    readonly versionId: string,
    readonly executionId: string,
    readonly holderExecutionId: string,
  ) {
    super(
      `Propagation of "${secretName}" version ${versionId} is held by ${holderExecutionId}, not ${executionId}; nothing was recorded`,
    );
  }
}

/** A cluster's plan would not fit in the workflow's state; the propagation refuses before changing anything. */
export class PlanTooLargeError extends OrchestratorError {
  readonly code = 'PLAN_TOO_LARGE';
}

/**
 * A restart window (the `secret-rotator.io/restart-window` annotation or the deployment's
 * `restartWindows`) is malformed, or its next opening is further away than a propagation may wait.
 * The workload is refused (reported, never restarted); the message names the problem, not a value.
 */
export class RestartWindowError extends OrchestratorError {
  readonly code = 'RESTART_WINDOW_INVALID';
}

/** A restarted workload's rollout failed or did not finish by its deadline; later restarts are not begun. */
export class RolloutFailedError extends OrchestratorError {
  readonly code = 'ROLLOUT_FAILED';
}

/**
 * A call failed in a way that may pass on a later attempt (throttling, 5xx, a dropped connection).
 * The workflow retries exactly this error name with backoff and jitter; every other error is final.
 */
export class TransientError extends OrchestratorError {
  readonly code = 'TRANSIENT';
}

/**
 * A Kubernetes API call failed. Only the HTTP status and the Status object's one-word reason are
 * kept, never the response body or headers: a webhook's denial or a 422 can echo object fields
 * (a workload's env values among them). Built at the adapter's edge by {@link kubernetesCallError}.
 */
export class KubernetesCallError extends OrchestratorError {
  readonly code = 'KUBERNETES_CALL_FAILED';
  constructor(
    readonly httpStatus: number,
    readonly reason: string | undefined,
  ) {
    super(`Kubernetes API call failed: HTTP ${httpStatus}${reason ? ` ${reason}` : ''}`);
  }
}

/**
 * The object itself is gone: a 404 whose Status says `NotFound`. A path the API server does not
 * serve at all (a CRD not installed, a version not served, a CRD not yet established) is a 404 too,
 * but a plain-text `404 page not found` with no Status: that is not a deleted object, and is never
 * treated as one.
 */
export function isObjectGone(error: unknown): boolean {
  return error instanceof KubernetesCallError && error.httpStatus === 404 && error.reason === 'NotFound';
}

const STATUS_REASON = /^[A-Za-z]{1,64}$/;

/**
 * The {@link KubernetesCallError} for an API server's answer: its HTTP status and, when the body is a
 * Status object, its `reason` if that is one word (`Forbidden`, `Conflict`, `Expired`). The body
 * is read for that word only and then dropped; no cause is kept, since any would carry it.
 * @example kubernetesCallError(409, '{"kind":"Status","reason":"Conflict",…}') // HTTP 409 Conflict
 */
export function kubernetesCallError(httpStatus: number, body: string): KubernetesCallError {
  const reason = (safeJson(body) as { reason?: unknown } | undefined)?.reason;
  return new KubernetesCallError(
    httpStatus,
    typeof reason === 'string' && STATUS_REASON.test(reason) ? reason : undefined,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServiceError',
  'InternalFailure',
  // The request timeout of shared/aws/client-options.ts, after the SDK's own attempts.
  'TimeoutError',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  // An answer cut short (fewer bytes than its Content-Length): the connection went mid-response.
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  // undici's own timeouts (kubernetes-transport.ts sets them): a black-holed or stalled API server.
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Wraps an error that is worth retrying in a {@link TransientError} (message kept, already safe);
 * returns any other error unchanged. AWS: throttling names and HTTP 5xx. Kubernetes: 409, 429 and 5xx.
 */
export function asRetryable(error: unknown): unknown {
  if (error instanceof TransientError) return error;
  const status =
    error instanceof AwsCallError || error instanceof KubernetesCallError ? error.httpStatus : undefined;
  const awsName = error instanceof AwsCallError ? error.awsErrorName : undefined;
  // fetch puts the socket's error in `cause`; undici's request() and node:net throw it as it is.
  const networkCode =
    (error as { cause?: { code?: unknown } })?.cause?.code ?? (error as { code?: unknown })?.code;
  const transient =
    (awsName !== undefined && THROTTLING.has(awsName)) ||
    (typeof status === 'number' && (status === 429 || status >= 500)) ||
    // A conflict that outlasted the adapter's own retries: every write is a merge patch of absolute
    // values (no resourceVersion), so sending it again later is safe (fault row V-burst).
    (error instanceof KubernetesCallError && status === 409) ||
    (typeof networkCode === 'string' && NETWORK.has(networkCode));
  if (!transient) return error;
  const message = error instanceof Error ? sanitizeUpstreamMessage(error.message) : 'transient failure';
  return new TransientError(message, { cause: error });
}

/**
 * A notification route (the webhook secret of an owner, or the default one) does not hold
 * `{"url": "https://…", "format": "slack"|"teams"}`. Names the route's secret and the field, never
 * its value: the URL is a credential (anyone holding it may post to the channel).
 */
export class WebhookRouteInvalidError extends OrchestratorError {
  readonly code = 'WEBHOOK_ROUTE_INVALID';
  constructor(
    readonly routeSecretName: string,
    problem: string,
  ) {
    super(`Notification route "${routeSecretName}" is invalid: ${problem}`);
  }
}

/**
 * A webhook did not take a notification: the last answer's HTTP status (or the network error's
 * code) and the attempts made. Names the route's secret, never the URL, and keeps no cause and no
 * response body (a receiver's error page can echo the request).
 */
export class WebhookDeliveryError extends OrchestratorError {
  readonly code = 'WEBHOOK_DELIVERY_FAILED';
  constructor(
    readonly routeSecretName: string,
    /** The last answer's HTTP status, or the network failure's code (`TimeoutError`, `ECONNREFUSED`). */
    readonly failure: number | string,
    readonly attempts: number,
  ) {
    super(
      `Webhook of notification route "${routeSecretName}" refused the notification: ${
        typeof failure === 'number' ? `HTTP ${failure}` : failure
      } after ${attempts} attempt(s)`,
    );
  }
}

/**
 * A notification went to several routes (the owner's or default one and namespace routes) and more
 * than one did not take it; each was tried. Keeps each route's own error (a
 * {@link WebhookRouteInvalidError} or {@link WebhookDeliveryError}, which name the route's secret
 * and never its URL) and their messages.
 */
export class NotificationRoutesFailedError extends OrchestratorError {
  readonly code = 'NOTIFICATION_ROUTES_FAILED';
  constructor(
    readonly failures: readonly (WebhookRouteInvalidError | WebhookDeliveryError)[],
    readonly sent: number,
  ) {
    super(
      `${failures.length} notification routes failed (${sent} sent): ${failures.map((f) => f.message).join('; ')}`,
    );
  }
}
