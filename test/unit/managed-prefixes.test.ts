import { describe, expect, it } from 'vitest';
import { SecretNotManagedError } from '../../shared/errors';
import { assertManaged, isManaged } from '../../shared/managed-prefixes';

const PREFIXES = ['prod/app-team/', 'staging/app-team/'];

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
