import { describe, expect, it } from 'vitest';
import { SecretNotManagedError } from '../../shared/errors';
import { assertManaged, isManaged, secretNameOf } from '../../shared/managed-prefixes';

const PREFIXES = ['prod/app-team/', 'staging/app-team/'];

describe('secretNameOf', () => {
  it.each([
    ['prod/app-team/db', 'prod/app-team/db'],
    [
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
      'prod/app-team/db-AbCdEf',
    ],
    ['arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/x-AbCdEf', 'prod/x-AbCdEf'],
    ['arn:aws:s3:::bucket/prod/app-team/db', 'arn:aws:s3:::bucket/prod/app-team/db'],
  ])('reads %s as %s', (secretId, name) => {
    expect(secretNameOf(secretId)).toBe(name);
  });
});

describe('isManaged', () => {
  it.each([
    ['prod/app-team/db', true],
    ['staging/app-team/api/key', true],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf', true],
    ['prod/app-teamX/db', false],
    ['prod/other-team/db', false],
    ['PROD/app-team/db', false],
    ['x/prod/app-team/db', false],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/other/db-AbCdEf', false],
    ['', false],
  ])('%s → %s', (secretId, expected) => {
    expect(isManaged(secretId, PREFIXES)).toBe(expected);
  });
});

describe('assertManaged', () => {
  it('throws SecretNotManagedError naming the secret', () => {
    expect(() => assertManaged('prod/other/db', PREFIXES)).toThrow(SecretNotManagedError);
    expect(() => assertManaged('prod/other/db', PREFIXES)).toThrow(
      /"prod\/other\/db" is outside the managed prefixes/,
    );
  });

  it('accepts a managed secret', () => {
    expect(() => assertManaged('prod/app-team/db', PREFIXES)).not.toThrow();
  });
});
