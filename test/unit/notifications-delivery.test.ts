import { describe, expect, it, vi } from 'vitest';
import { WebhookDeliveryError } from '../../shared/errors';
import type { WebhookTarget } from '../../shared/notifications/routing';
import { deliverWebhook } from '../../shared/notifications/webhook-delivery';

const TARGET: WebhookTarget = {
  routeSecretName: 'ops/rotator-notifications/payments',
  url: new URL('https://hooks.example.com/services/route-token-0123456789'),
  format: 'slack',
};

/** A fetch that answers each call with the next entry: a status, or an error to throw. */
function scriptedFetch(answers: (number | Error)[]) {
  return vi.fn(async () => {
    const next = answers.shift();
    if (next === undefined) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return new Response(next >= 200 && next < 300 ? 'ok' : `error page echoing ${TARGET.url}`, {
      status: next,
    });
  });
}

function options(fetch: ReturnType<typeof scriptedFetch>) {
  const sleep = vi.fn(async (_ms: number) => undefined);
  return {
    timeoutMs: 1000,
    attempts: 3,
    fetch: fetch as unknown as typeof globalThis.fetch,
    sleep,
    random: () => 0.5,
  };
}

const refused = (cause: string) => Object.assign(new TypeError('fetch failed'), { cause: { code: cause } });

describe('deliverWebhook', () => {
  it('posts the message as JSON once when the webhook takes it', async () => {
    const fetch = scriptedFetch([200]);
    const result = await deliverWebhook(TARGET, { text: 'hello' }, options(fetch));
    expect(result).toEqual({ status: 200, attempts: 1 });
    expect(fetch).toHaveBeenCalledWith(
      TARGET.url,
      expect.objectContaining({
        method: 'POST',
        body: '{"text":"hello"}',
        headers: { 'content-type': 'application/json' },
      }),
    );
  });

  it.each([
    ['a 500', [500, 200]],
    ['a 503 twice', [503, 503, 202]],
    ['a 429', [429, 200]],
    ['a refused connection', [refused('ECONNREFUSED'), 200]],
    ['a timeout', [new DOMException('timed out', 'TimeoutError'), 200]],
  ])('retries %s with a full-jitter pause, then succeeds', async (_case, answers) => {
    const fetch = scriptedFetch([...answers]);
    const opts = options(fetch);
    const result = await deliverWebhook(TARGET, {}, opts);
    expect(result.attempts).toBe(answers.length);
    // random() = 0.5: half the ceiling, 125 of 250 ms before the first retry, 250 of 500 ms before the second.
    expect(opts.sleep.mock.calls.map(([ms]) => ms)).toEqual([125, 250].slice(0, answers.length - 1));
  });

  it.each([[400], [403], [404], [301]])(
    'does not retry a %i: one call, then a WebhookDeliveryError without the URL',
    async (status) => {
      const fetch = scriptedFetch([status, 200]);
      const error = await failureOf(deliverWebhook(TARGET, {}, options(fetch)));
      expect(fetch).toHaveBeenCalledTimes(1);
      expect(error).toBeInstanceOf(WebhookDeliveryError);
      expect(error).toMatchObject({ failure: status, attempts: 1, routeSecretName: TARGET.routeSecretName });
      expect(error.message).toBe(
        `Webhook of notification route "${TARGET.routeSecretName}" refused the notification: HTTP ${status} after 1 attempt(s)`,
      );
      expect(error.cause).toBeUndefined();
    },
  );

  it('gives up after the configured attempts, naming the last failure', async () => {
    const fetch = scriptedFetch([500, refused('ECONNRESET'), 502, 200]);
    const error = await failureOf(deliverWebhook(TARGET, {}, options(fetch)));
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(error).toMatchObject({ failure: 502, attempts: 3 });
  });

  it('names a network failure by its code, never by its message (which can quote the URL)', async () => {
    const fetch = scriptedFetch([
      Object.assign(new TypeError(`fetch failed ${TARGET.url}`), { cause: { code: 'ENOTFOUND' } }),
    ]);
    const error = await failureOf(deliverWebhook(TARGET, {}, { ...options(fetch), attempts: 1 }));
    expect(error.message).toContain('ENOTFOUND');
    expect(error.message).not.toContain('route-token');
  });

  it('stops retrying once the invocation is being aborted', async () => {
    const abort = new AbortController();
    const fetch = scriptedFetch([500, 200]);
    const opts = {
      ...options(fetch),
      signal: abort.signal,
      sleep: vi.fn(async (_ms: number) => abort.abort()),
    };
    const error = await failureOf(deliverWebhook(TARGET, {}, opts));
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(error).toMatchObject({ failure: 'invocation ending', attempts: 1 });
  });

  it('times a call out after timeoutMs', async () => {
    const hanging = vi.fn(
      (_url: URL, init: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const started = Date.now();
    const error = await failureOf(
      deliverWebhook(
        TARGET,
        {},
        {
          timeoutMs: 50,
          attempts: 1,
          fetch: hanging as unknown as typeof fetch,
        },
      ),
    );
    expect(error).toMatchObject({ failure: 'TimeoutError', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

/** The error a delivery failed with; fails the test when it succeeded. */
async function failureOf(delivery: Promise<unknown>): Promise<WebhookDeliveryError> {
  try {
    await delivery;
  } catch (error) {
    return error as WebhookDeliveryError;
  }
  throw new Error('expected the delivery to fail');
}
