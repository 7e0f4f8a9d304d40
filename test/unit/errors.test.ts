import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  asRetryable,
  describeError,
  InvalidEventError,
  isObjectGone,
  KubernetesCallError,
  kubernetesCallError,
  RotationTestFailedError,
  SecretNotManagedError,
  safeMessage,
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

  it.each([
    ['a URL DSN', 'connect to postgres://app:hunter2-pw@db:5432/app failed', 'postgres://***@db:5432/app'],
    ['a password holding @ and /', 'mysql://root:p@ss/w0rd-x@db/app', 'mysql://***@db/app'],
    ['a libpq keyword DSN', 'host=db user=app password=hunter2-pw dbname=app', 'password=*** dbname=app'],
    ['a quoted JSON field', '{"username":"app","password":"hunter2-pw"}', '"password":***}'],
    ['a token pair', 'refused token: hunter2-pw;', 'token: ***;'],
  ])('replaces the credentials in %s', (_, message, kept) => {
    const text = sanitizeUpstreamMessage(message);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('w0rd');
    expect(text).toContain(kept);
  });

  it('keeps the ARNs and names an AWS message carries', () => {
    const message =
      'User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf';
    expect(sanitizeUpstreamMessage(message)).toBe(message);
  });
});

describe('RotationTestFailedError', () => {
  it('keeps the strategy error’s class name and sanitized message, and no cause', () => {
    class DatabaseError extends Error {
      override name = 'DatabaseError';
    }
    const driver = new DatabaseError('password authentication failed for postgres://app:hunter2-pw@db/app');

    const error = new RotationTestFailedError('prod/app/db', driver);

    expect(error.message).toBe(
      'Pending version of "prod/app/db" failed its test: DatabaseError (password authentication failed for postgres://***@db/app)',
    );
    expect(error.strategyErrorName).toBe('DatabaseError');
    expect(error.cause).toBeUndefined();
    expect(inspect(error, { depth: 5 })).not.toContain('hunter2');
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

  it('always has a message, also for a thrown non-Error', () => {
    expect(describeError('boom')).toEqual({
      name: 'UnknownError',
      code: 'UNEXPECTED',
      message: 'unknown error',
    });
  });

  it('sanitizes a foreign error’s message', () => {
    const described = describeError(new Error('dial postgres://app:hunter2-pw@db/app: refused'));
    expect(described.message).toBe('dial postgres://***@db/app: refused');
  });
});

describe('safeMessage', () => {
  it.each([
    ['one of ours, as written', new InvalidEventError('bad field'), 'bad field'],
    ['a foreign error, sanitized', new Error('a\n b password=hunter2-pw'), 'a b password=***'],
    ['anything else', 42, 'unknown error'],
  ])('gives %s', (_, error, message) => {
    expect(safeMessage(error)).toBe(message);
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

describe('isObjectGone', () => {
  it.each([
    [new KubernetesCallError(404, 'NotFound'), true],
    // kube-apiserver's plain-text "404 page not found": the path is not served, no object was deleted.
    [new KubernetesCallError(404, undefined), false],
    [new KubernetesCallError(410, 'Gone'), false],
    [new KubernetesCallError(403, 'Forbidden'), false],
    [new Error('404 NotFound'), false],
  ])('%s: %s', (error, gone) => {
    expect(isObjectGone(error)).toBe(gone);
  });
});

describe('asRetryable', () => {
  it.each([
    { error: new KubernetesCallError(503, 'ServiceUnavailable'), retried: true },
    { error: new KubernetesCallError(429, 'TooManyRequests'), retried: true },
    // Past the adapter's own conflict retries, the state machine's Retry sends the merge patch again.
    { error: new KubernetesCallError(409, 'Conflict'), retried: true },
    { error: new KubernetesCallError(404, 'NotFound'), retried: false },
    { error: new KubernetesCallError(403, 'Forbidden'), retried: false },
    // The SDK's request timeout (shared/aws/client-options.ts) once its own attempts are spent.
    {
      error: toAwsCallError(
        'DescribeSecret',
        'prod/app/db',
        Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      ),
      retried: true,
    },
    // undici's request() throws the socket's error as it is; fetch wraps it in a TypeError's cause.
    { error: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), retried: true },
    { error: new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }), retried: true },
    // A cut answer that outlasted the transport's own attempts (fault row H): the state machine retries.
    {
      error: Object.assign(new Error('Response body object should not be disturbed or locked'), {
        code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
      }),
      retried: true,
    },
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
