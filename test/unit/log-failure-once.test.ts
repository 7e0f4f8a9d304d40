import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { SecretNotManagedError, toAwsCallError } from '../../shared/errors';
import { logFailureOnce } from '../../shared/log-failure-once';
import { createLogger } from '../../shared/observability';
import { captureOutput, findLeakedValues } from '../support/output-capture';

const SECRET_VALUE = 'hunter2-secret-value-0001';

const lambdaContext = {
  functionName: 'rotate-secret',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotate-secret',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

function fakeLogger() {
  return { error: vi.fn() };
}

/** Runs `failing` through a middy stack with only logFailureOnce, as a thin handler would. */
function handlerThrowing(logger: ReturnType<typeof fakeLogger>, error: unknown) {
  return middy()
    .use(logFailureOnce(logger, 'step failed'))
    .handler(async () => {
      throw error;
    });
}

/** Runs `run` with stdout and stderr captured; returns what was written. */
async function captured(run: () => Promise<unknown>): Promise<string> {
  const output = captureOutput();
  try {
    await run().catch(() => undefined);
  } finally {
    output.stop();
  }
  return output.text();
}

describe('logFailureOnce', () => {
  it('logs a failure once, with the error’s safe fields, and rethrows the very error', async () => {
    // Prepare
    const logger = fakeLogger();
    const refused = new SecretNotManagedError('other/app/db');

    // Act
    const thrown = await handlerThrowing(logger, refused)({}, lambdaContext).catch((e: unknown) => e);

    // Assess
    expect(thrown).toBe(refused);
    expect(logger.error).toHaveBeenCalledOnce();
    expect(logger.error).toHaveBeenCalledWith('step failed', {
      error: { name: 'SecretNotManagedError', code: 'SECRET_NOT_MANAGED', message: refused.message },
    });
  });

  it('logs nothing when the invocation succeeds', async () => {
    const logger = fakeLogger();
    const handler = middy()
      .use(logFailureOnce(logger))
      .handler(async () => 'done');

    expect(await handler({}, lambdaContext)).toBe('done');
    expect(logger.error).not.toHaveBeenCalled();
  });

  it.each([
    [
      'a foreign error whose message holds a DSN',
      new Error(`connect postgres://app:${SECRET_VALUE}@db/app refused`),
    ],
    [
      'a foreign error whose message holds a password pair',
      new Error(`bad config: password=${SECRET_VALUE}`),
    ],
    [
      'an SDK error whose message holds the value',
      toAwsCallError(
        'PutSecretValue',
        'prod/app/db',
        Object.assign(new Error(`Validation failed for SecretString password: ${SECRET_VALUE}`), {
          name: 'ValidationException',
        }),
      ),
    ],
  ])('never writes a secret value: %s', async (_, error) => {
    // Prepare: a real Powertools logger, whose JSON lines are captured.
    const logger = createLogger();
    const handler = middy()
      .use(logFailureOnce(logger, 'step failed'))
      .handler(async () => {
        throw error;
      });

    // Act
    const text = await captured(() => handler({}, lambdaContext));

    // Assess
    expect(text).toContain('"step failed"');
    expect(findLeakedValues(text, [SECRET_VALUE])).toEqual([]);
  });

  it('keeps the keys the invocation appended when used after injectLambdaContext', async () => {
    const logger = createLogger();
    const handler = middy()
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logFailureOnce(logger, 'step failed'))
      .handler(async () => {
        logger.appendKeys({ secretId: 'prod/app/db' });
        throw new SecretNotManagedError('prod/app/db');
      });

    const text = await captured(() => handler({}, lambdaContext));

    const [line] = text.split('\n').filter((l) => l.includes('"step failed"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      level: 'ERROR',
      secretId: 'prod/app/db',
      function_name: 'rotate-secret',
      error: { name: 'SecretNotManagedError', code: 'SECRET_NOT_MANAGED' },
    });
  });
});
