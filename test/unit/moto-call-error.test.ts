import type { Pluggable } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { MotoCallError, reportMotoFailures } from '../../harness/moto-call-error';
import { sanitizeUpstreamMessage } from '../../shared/errors';

/** Runs reportMotoFailures around a call that throws `error`, as the SDK's stack would. */
async function failedCall(error: unknown): Promise<unknown> {
  let middleware: ((next: () => Promise<never>, context: object) => () => Promise<never>) | undefined;
  const stack = { add: (added: typeof middleware) => (middleware = added) };
  (reportMotoFailures() as Pluggable<object, object>).applyToStack(stack as never);
  const call = middleware?.(async () => Promise.reject(error), { commandName: 'CreateSecretCommand' });
  return call?.().catch((e: unknown) => e);
}

describe('reportMotoFailures', () => {
  it('folds and cuts moto’s message as every upstream message is (sanitizeUpstreamMessage)', async () => {
    const message = `Internal error\n  in handler: ${'x'.repeat(300)}`;
    const upstream = Object.assign(new Error(message), {
      name: 'InternalFailure',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });

    const failure = await failedCall(upstream);

    expect(failure).toBeInstanceOf(MotoCallError);
    expect((failure as Error).message).toBe(
      `moto CreateSecret failed with HTTP 500 after 3 attempts: InternalFailure (${sanitizeUpstreamMessage(message)})`,
    );
  });

  it('passes a modelled 4xx error through', async () => {
    const notFound = Object.assign(new Error('not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });

    expect(await failedCall(notFound)).toBe(notFound);
  });
});
