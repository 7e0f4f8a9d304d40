import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  describeError,
  InvalidEventError,
  SecretNotManagedError,
  sanitizeUpstreamMessage,
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
