import { Duration, Token } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  orchestratorPropsProblems,
  type RotationScheduleProps,
  type SecretRotationOrchestratorProps,
} from '../../../infra/lib/orchestrator-props';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PREFIXES = ['prod/app-team/', 'staging/app-team/'];
const withSchedule = (schedule: RotationScheduleProps): SecretRotationOrchestratorProps => ({
  managedPrefixes: PREFIXES,
  rotationSchedules: [schedule],
});
const DAILY = { secretName: 'prod/app-team/db', automaticallyAfter: Duration.days(1) };

describe('orchestratorPropsProblems', () => {
  it.each<[string, SecretRotationOrchestratorProps]>([
    ['prefixes only', { managedPrefixes: PREFIXES }],
    ['siblings that share leading characters', { managedPrefixes: ['prod/app/', 'prod/apple/'] }],
    [
      'every option',
      {
        managedPrefixes: PREFIXES,
        rotationSchedules: [
          { ...DAILY, window: Duration.hours(24), rotateImmediately: false },
          { secretName: 'staging/app-team/api', scheduleExpression: 'cron(0 4 ? * SUN *)' },
        ],
        defaultPasswordPolicy: { length: 40, excludePunctuation: true },
        kmsKeyArns: [KEY, 'arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab'],
        memorySize: 10240,
      },
    ],
    [
      'a KMS key given as a token',
      { managedPrefixes: PREFIXES, kmsKeyArns: [Token.asString({ Ref: 'Key' })] },
    ],
  ])('finds nothing wrong with %s', (_name, props) => {
    expect(orchestratorPropsProblems(props, 'us-east-1')).toEqual([]);
  });

  it.each<[string, SecretRotationOrchestratorProps, RegExp]>([
    ['no managed prefix', { managedPrefixes: [] }, /^managedPrefixes must name at least one prefix$/],
    ['a wildcard prefix', { managedPrefixes: ['prod/*'] }, /"prod\/\*" must not contain a wildcard/],
    ['a single-character wildcard', { managedPrefixes: ['prod/app-?/'] }, /must not contain a wildcard/],
    ['an empty prefix', { managedPrefixes: [''] }, /managed prefix ""/],
    ['a prefix with a comma', { managedPrefixes: ['prod/a,b/'] }, /"prod\/a,b\/" may contain only/],
    ['a prefix given as a token', { managedPrefixes: [Token.asString({ Ref: 'P' })] }, /literal strings/],
    [
      'a prefix without a trailing slash (secret:prod/payments* covers prod/payments-old/)',
      { managedPrefixes: ['prod/payments'] },
      /^managed prefix "prod\/payments" must end with "\/": IAM matches secret:prod\/payments\* literally/,
    ],
    ['a one-character prefix', { managedPrefixes: ['p'] }, /managed prefix "p" must end with "\/"/],
    [
      'a prefix within another',
      { managedPrefixes: ['prod/app-team/', 'prod/app-team/payments/'] },
      /^managed prefixes "prod\/app-team\/payments\/" and "prod\/app-team\/" overlap/,
    ],
    // Review M3: one segment would hand over every secret of an environment.
    [
      'a one-segment prefix',
      { managedPrefixes: ['prod/'] },
      /^managed prefix "prod\/" must have at least two segments, e\.g\. "prod\/app-team\/"/,
    ],
    ['an empty first segment', { managedPrefixes: ['/app/'] }, /"\/app\/" must have at least two segments/],
    [
      'a prefix containing a later one',
      { managedPrefixes: ['staging/app-team/x/', 'staging/app-team/'] },
      /"staging\/app-team\/x\/" and "staging\/app-team\/" overlap/,
    ],
    [
      'a prefix given twice',
      { managedPrefixes: ['prod/app-team/', 'prod/app-team/'] },
      /^managed prefix "prod\/app-team\/" is given more than once$/,
    ],
    [
      'a schedule outside the prefixes',
      withSchedule({ ...DAILY, secretName: 'prod/other-team/db' }),
      /"prod\/other-team\/db" is outside the managed prefixes \(prod\/app-team\/, staging\/app-team\/\)/,
    ],
    [
      'a schedule one character past a prefix boundary',
      withSchedule({ ...DAILY, secretName: 'prod/app-teamX/db' }),
      /is outside the managed prefixes/,
    ],
    [
      'a schedule named by ARN',
      withSchedule({
        ...DAILY,
        secretName: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/x',
      }),
      /secretName must be a secret name/,
    ],
    [
      'two schedules for one secret',
      { managedPrefixes: PREFIXES, rotationSchedules: [DAILY, DAILY] },
      /"prod\/app-team\/db" is given more than once/,
    ],
    ['a schedule with no rule', withSchedule({ secretName: 'prod/app-team/db' }), /exactly one of/],
    [
      'a schedule with both rules',
      withSchedule({ ...DAILY, scheduleExpression: 'rate(1 day)' }),
      /exactly one of automaticallyAfter or scheduleExpression/,
    ],
    [
      'a schedule in part days',
      withSchedule({ ...DAILY, automaticallyAfter: Duration.hours(36) }),
      /automaticallyAfter must be whole days from 1 to 1000/,
    ],
    [
      'a schedule over 1000 days',
      withSchedule({ ...DAILY, automaticallyAfter: Duration.days(1001) }),
      /automaticallyAfter must be whole days from 1 to 1000/,
    ],
    [
      'a malformed schedule expression',
      withSchedule({ secretName: 'prod/app-team/db', scheduleExpression: 'every 7 days' }),
      /scheduleExpression must be rate\(…\) or cron\(…\), got "every 7 days"/,
    ],
    [
      'a window longer than a day',
      withSchedule({ ...DAILY, window: Duration.hours(25) }),
      /window must be whole hours from 1 to 24/,
    ],
    [
      'a window in minutes',
      withSchedule({ ...DAILY, window: Duration.minutes(90) }),
      /window must be whole hours from 1 to 24/,
    ],
    [
      'a bad password policy',
      { managedPrefixes: PREFIXES, defaultPasswordPolicy: { length: 2 } },
      /^defaultPasswordPolicy\.length: /,
    ],
    [
      'an unknown password policy field',
      { managedPrefixes: PREFIXES, defaultPasswordPolicy: { size: 40 } as never },
      /^defaultPasswordPolicy: .*size/,
    ],
    [
      'a KMS alias instead of a key',
      { managedPrefixes: PREFIXES, kmsKeyArns: ['arn:aws:kms:us-east-1:123456789012:alias/secrets'] },
      /is not a KMS key ARN/,
    ],
    ['a wildcard KMS key', { managedPrefixes: PREFIXES, kmsKeyArns: ['*'] }, /"\*" is not a KMS key ARN/],
    [
      'a KMS key in another region',
      { managedPrefixes: PREFIXES, kmsKeyArns: [KEY.replace('us-east-1', 'eu-west-1')] },
      /is in eu-west-1; Secrets Manager in us-east-1 uses only keys in its own region/,
    ],
    ['too little memory', { managedPrefixes: PREFIXES, memorySize: 64 }, /memorySize must be whole MiB/],
    ['part MiB', { managedPrefixes: PREFIXES, memorySize: 256.5 }, /memorySize must be whole MiB/],
  ])('reports %s', (_name, props, message) => {
    const problems = orchestratorPropsProblems(props, 'us-east-1');

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('reports every problem at once', () => {
    const props = { managedPrefixes: ['prod/*'], memorySize: 1, kmsKeyArns: ['alias/x'] };

    expect(orchestratorPropsProblems(props, 'us-east-1')).toHaveLength(3);
  });

  it('accepts a key in any region when the stack is environment-agnostic', () => {
    const props = { managedPrefixes: PREFIXES, kmsKeyArns: [KEY.replace('us-east-1', 'eu-west-1')] };

    expect(orchestratorPropsProblems(props, Token.asString({ Ref: 'AWS::Region' }))).toEqual([]);
  });
});
