import { setTimeout as wait } from 'node:timers/promises';
import { fullJitterDelay } from '../concurrency';
import type { ApiRequest, ApiResponse, KubernetesTransport } from './kubernetes-transport';

/**
 * Retries inside the step, before the state machine's own Retry (which reruns the whole step, 2 s
 * and up apart): a few quick attempts per call, so one throttled call or one cut connection does
 * not cost a step its other calls.
 */
export const KUBERNETES_RETRY = {
  /** Attempts per call, the first included. */
  attempts: 4,
  /** Full-jitter backoff: up to 250 ms before the first retry, doubling, at most 2 s. */
  baseMs: 250,
  capMs: 2_000,
  /**
   * The longest `Retry-After` waited for inside the step (client-go waits what the server says).
   * A server asking for longer gets its answer back: the state machine's Retry waits instead.
   */
  maxRetryAfterMs: 5_000,
} as const;

/** Answers that say "send it again later": API Priority and Fairness's 429, an overloaded 503. */
const RETRY_LATER = new Set([429, 503]);

/**
 * A connection reset or closed before the whole answer arrived (undici's codes and node:net's).
 * Timeouts are not here: a black-holed server already held the call for 15 s, and the state
 * machine's Retry is the better place to wait again.
 */
const CONNECTION_CUT = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * Methods that may be sent again after a cut, when the first one may have been applied: reads, and
 * our merge patches, which set absolute values (the restart patch carries its own restartedAt and
 * marker, so a resent one leaves the pod template as the first left it and starts no second rollout).
 */
const RESENDABLE: ReadonlySet<ApiRequest['method']> = new Set(['GET', 'PATCH']);

/** What one attempt gave: an answer, or the error the transport threw. */
export type AttemptOutcome = { readonly response: ApiResponse } | { readonly error: unknown };

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: Date): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

function connectionCut(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && CONNECTION_CUT.has(code);
}

/**
 * The pause before sending `request` again after attempt number `attempt` (1 = the first), or
 * undefined to give its outcome back. 429 and 503 wait what `Retry-After` says (up to
 * {@link KUBERNETES_RETRY}.maxRetryAfterMs) plus a full-jitter draw, so callers throttled together
 * do not return together; without the header, the full-jitter draw alone. A cut connection is
 * retried for resendable methods only.
 * @example retryDelayMs(1, { response: { status: 429, text: '', retryAfter: '1' } }, 'GET', { now, random }) // 1000–1249
 */
export function retryDelayMs(
  attempt: number,
  outcome: AttemptOutcome,
  method: ApiRequest['method'],
  context: { readonly now: Date; readonly random: () => number },
): number | undefined {
  if (attempt >= KUBERNETES_RETRY.attempts) return undefined;
  const jitter = fullJitterDelay(attempt, KUBERNETES_RETRY.baseMs, KUBERNETES_RETRY.capMs, context.random);
  if ('error' in outcome) return RESENDABLE.has(method) && connectionCut(outcome.error) ? jitter : undefined;
  if (!RETRY_LATER.has(outcome.response.status)) return undefined;
  const asked = retryAfterMs(outcome.response.retryAfter, context.now);
  if (asked === undefined) return jitter;
  return asked > KUBERNETES_RETRY.maxRetryAfterMs ? undefined : asked + jitter;
}

export interface RetryingOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => Date;
}

/**
 * `transport` with {@link retryDelayMs}'s retries: what is left after them (a 429, a 5xx, an error)
 * is returned or thrown as the last attempt gave it, for the state machine's Retry.
 * @example new CustomObjectsClient(retryingTransport(bearerTokenTransport(endpoint, token)))
 */
export function retryingTransport(
  transport: KubernetesTransport,
  options: RetryingOptions = {},
): KubernetesTransport {
  const sleep = options.sleep ?? ((ms: number) => wait(ms));
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => new Date());
  return {
    async send(request) {
      for (let attempt = 1; ; attempt++) {
        let outcome: AttemptOutcome;
        try {
          outcome = { response: await transport.send(request) };
        } catch (error) {
          outcome = { error };
        }
        const delay = retryDelayMs(attempt, outcome, request.method, { now: now(), random });
        if (delay === undefined) {
          if ('error' in outcome) throw outcome.error;
          return outcome.response;
        }
        await sleep(delay);
      }
    },
  };
}
