import { setTimeout as wait } from 'node:timers/promises';
/**
 * POSTs one JSON message to a webhook with `fetch`: a timeout per call, and a bounded retry with
 * full jitter for answers and failures that may pass (429, 5xx, a timeout, a dropped connection).
 * Any other answer (4xx, a redirect) is final after one call. Errors name the route's secret and
 * the status, never the URL, and keep no response body.
 */

import { fullJitterDelay } from '../concurrency';
import { WebhookDeliveryError } from '../errors';
import type { WebhookTarget } from './routing';

export interface WebhookDeliveryOptions {
  /** One call, connection to answer. */
  readonly timeoutMs: number;
  /** Calls in all (1 = no retry). */
  readonly attempts: number;
  /** The invocation's abort signal (middy aborts it before the Lambda timeout): no retry after it. */
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** The first retry waits up to 250 ms, then up to 500 ms, 1 s, 2 s: each a full-jitter draw. */
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 2_000;

const retryable = (status: number) => status === 429 || status >= 500;

/**
 * @returns the HTTP status of the answer that took the message, and the calls made.
 * @throws WebhookDeliveryError after a final answer or the last attempt.
 * @example await deliverWebhook(target, slackMessage(summary), { timeoutMs: 5000, attempts: 3 })
 */
export async function deliverWebhook(
  target: WebhookTarget,
  message: unknown,
  options: WebhookDeliveryOptions,
): Promise<{ readonly status: number; readonly attempts: number }> {
  const send = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => wait(ms));
  const body = JSON.stringify(message);
  let failure: number | string = 'not sent';
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await sleep(fullJitterDelay(attempt - 1, RETRY_BASE_MS, RETRY_CAP_MS, options.random));
    if (options.signal?.aborted)
      throw new WebhookDeliveryError(target.routeSecretName, 'invocation ending', attempt - 1);
    try {
      const response = await send(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        redirect: 'manual',
        signal: signalFor(options),
      });
      // Read and drop the answer (frees the connection); its text is never kept.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { status: response.status, attempts: attempt };
      failure = response.status;
      if (!retryable(response.status))
        throw new WebhookDeliveryError(target.routeSecretName, failure, attempt);
    } catch (error) {
      if (error instanceof WebhookDeliveryError) throw error;
      failure = networkFailure(error);
    }
  }
  throw new WebhookDeliveryError(target.routeSecretName, failure, options.attempts);
}

function signalFor(options: WebhookDeliveryOptions): AbortSignal {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  return options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
}

/**
 * A word for a failed call: `TimeoutError`, the socket's code (`ECONNREFUSED`, `ECONNRESET`), or
 * the error's class name. Never its message: undici's can quote the URL.
 */
function networkFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : 'UnknownError';
  if (name === 'TimeoutError' || name === 'AbortError') return name;
  const code = (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : name;
}
