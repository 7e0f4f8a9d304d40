import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  asRetryable,
  describeError,
  InvalidEventError,
  KubernetesCallError,
  kubernetesCallError,
  SecretNotManagedError,
  sanitizeUpstreamMessage,
  TransientError,
  toAwsCallError,
} from '../../shared/errors';

describe('toAwsCallError', () => {
  it('keeps the operation, AWS error name, HTTP status and cause', () => {
    const upstream = Object.assign(new Error('Secrets Manager can’t find the specified secret.'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });

    const error = toAwsCallError('DescribeSecret', 'prod/app/db', upstream);

    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      name: 'AwsCallError',
      code: 'AWS_CALL_FAILED',
      operation: 'DescribeSecret',
      awsErrorName: 'ResourceNotFoundException',
      httpStatus: 400,
      cause: upstream,
    });
    expect(error.message).toBe(
      'DescribeSecret on "prod/app/db" failed: ResourceNotFoundException (Secrets Manager can’t find the specified secret.)',
    );
  });

  it('copes with a thrown non-Error', () => {
    expect(toAwsCallError('GetSecretValue', 's', 'boom').awsErrorName).toBe('UnknownError');
  });
});

describe('sanitizeUpstreamMessage', () => {
  it('folds whitespace and cuts long text', () => {
    const text = sanitizeUpstreamMessage(`a\n\n b ${'x'.repeat(500)}`);
    expect(text.startsWith('a b x')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(201);
  });
});

describe('describeError', () => {
  it('gives name and code for our errors', () => {
    expect(describeError(new SecretNotManagedError('other/x'))).toMatchObject({
      name: 'SecretNotManagedError',
      code: 'SECRET_NOT_MANAGED',
    });
    expect(describeError(new InvalidEventError('bad'))).toEqual({
      name: 'InvalidEventError',
      code: 'EVENT_INVALID',
      message: 'bad',
    });
  });

  it('marks foreign errors as unexpected and omits stacks', () => {
    const described = describeError(new TypeError('x is undefined'));
    expect(described).toEqual({ name: 'TypeError', code: 'UNEXPECTED', message: 'x is undefined' });
  });
});

describe('kubernetesCallError', () => {
  const denial = 'env[0].value: Invalid value: "hunter2-secret"';
  it.each([
    ['a Status with a one-word reason', { kind: 'Status', reason: 'Invalid', message: denial }, 'Invalid'],
    ['a reason that is not one word', { kind: 'Status', reason: `Invalid: ${denial}` }, undefined],
    ['a Status without a reason', { kind: 'Status', message: denial }, undefined],
    ['a body that is not JSON', `<html>${denial}</html>`, undefined],
  ])('keeps the status, and the reason of %s, never the body', (_, body, reason) => {
    const error = kubernetesCallError(422, typeof body === 'string' ? body : JSON.stringify(body));

    expect(error).toBeInstanceOf(KubernetesCallError);
    expect(error).toMatchObject({ httpStatus: 422, reason, code: 'KUBERNETES_CALL_FAILED' });
    expect(error.message).toBe(`Kubernetes API call failed: HTTP 422${reason ? ` ${reason}` : ''}`);
    expect(inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })).not.toContain('hunter2');
  });
});

describe('asRetryable', () => {
  it.each([
    { error: new KubernetesCallError(503, 'ServiceUnavailable'), retried: true },
    { error: new KubernetesCallError(429, 'TooManyRequests'), retried: true },
    { error: new KubernetesCallError(409, 'Conflict'), retried: false },
    // undici's request() throws the socket's error as it is; fetch wraps it in a TypeError's cause.
    { error: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), retried: true },
    { error: new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }), retried: true },
    {
      error: Object.assign(new Error('unable to verify the first certificate'), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      }),
      retried: false,
    },
  ])('$error.message is retried: $retried', ({ error, retried }) => {
    expect(asRetryable(error) instanceof TransientError).toBe(retried);
  });
});
