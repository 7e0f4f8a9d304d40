import { describe, expect, it } from 'vitest';
import { secretDisplayName, secretNameOf } from '../../shared/secrets/secret-id';

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

describe('secretDisplayName', () => {
  it.each([
    ['prod/app-team/db', 'prod/app-team/db'],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf', 'prod/app-team/db'],
    ['arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a:b-AbCdEf', 'a:b'],
    ['arn:aws:s3:::bucket/prod/app-team/db-AbCdEf', 'arn:aws:s3:::bucket/prod/app-team/db-AbCdEf'],
    ['not:an:arn', 'not:an:arn'],
  ])('shows %s as %s', (secretId, name) => {
    expect(secretDisplayName(secretId)).toBe(name);
  });
});
