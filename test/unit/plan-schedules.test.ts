import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  planSchedules,
  ruleFor,
  type ScheduleOptions,
} from '../../shared/sweep/plan-schedules';
import { type ScheduleRule, scheduleFromTags } from '../../shared/sweep/schedule-rules';
import type { SecretSummary } from '../../shared/sweep/secret-summary';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-secret';
const RULES: ScheduleRule[] = [
  { prefix: 'prod/app/', schedule: { kind: 'days', days: 30 } },
  {
    prefix: 'prod/app/payments/',
    schedule: { kind: 'expression', expression: 'cron(0 4 ? * SUN *)', windowHours: 2 },
  },
];
const OPTIONS: ScheduleOptions = { rules: RULES, rotationFunctionArn: FN, stackScheduled: new Set() };

function secret(name: string, extra: Partial<SecretSummary> = {}): SecretSummary {
  return {
    name,
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    rotationEnabled: false,
    versionIdsToStages: { v1: ['AWSCURRENT'] },
    tags: {},
    ...extra,
  };
}
/** What ListSecrets reports for a secret on `days` with our function. */
const onDays = (days: number, extra: Partial<SecretSummary> = {}): Partial<SecretSummary> => ({
  rotationEnabled: true,
  rotationIntervalDays: days,
  rotationLambdaArn: FN,
  ...extra,
});

describe('planSchedules with the database rotation function deployed', () => {
  const DB_FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-database-secret';
  const withDatabase: ScheduleOptions = { ...OPTIONS, databaseRotationFunctionArn: DB_FN };
  const functionOf = (summary: SecretSummary, options = withDatabase) => {
    const [decision] = planSchedules([summary], options);
    return decision?.action.kind === 'configure'
      ? decision.action.rotationFunctionArn
      : decision?.action.kind;
  };

  it('schedules a secret tagged with a database strategy with the database function', () => {
    for (const strategy of ['database', 'postgres-alternating-users', 'mysql-single-user']) {
      expect(functionOf(secret('prod/app/db', { tags: { 'rotator:strategy': strategy } }))).toBe(DB_FN);
    }
  });

  it('keeps a secret the database function rotates on it, and moves one tagged for it there', () => {
    expect(functionOf(secret('prod/app/db', onDays(30, { rotationLambdaArn: DB_FN })))).toBe('none');
    expect(
      functionOf(secret('prod/app/db', onDays(30, { rotationLambdaArn: DB_FN, rotationIntervalDays: 90 }))),
    ).toBe(DB_FN);
    expect(functionOf(secret('prod/app/db', onDays(30, { tags: { 'rotator:strategy': 'database' } })))).toBe(
      DB_FN,
    );
  });

  it('schedules other secrets with the rotation function, and every secret there without a database function', () => {
    expect(functionOf(secret('prod/app/token'))).toBe(FN);
    expect(functionOf(secret('prod/app/token', { tags: { 'rotator:strategy': 'generated' } }))).toBe(FN);
    expect(functionOf(secret('prod/app/db', { tags: { 'rotator:strategy': 'database' } }), OPTIONS)).toBe(FN);
  });
});

describe('planSchedules', () => {
  it.each<[string, string, Partial<SecretSummary>, string, string?]>([
    // Prepare: a name and what ListSecrets says; Assess: the action and the reason or source.
    ['a new secret under a rule', 'prod/app/db', {}, 'configure', 'rotation off → every 30 days'],
    [
      'a secret whose rotation was turned off',
      'prod/app/db',
      onDays(30, { rotationEnabled: false }),
      'configure',
      'rotation off → every 30 days',
    ],
    ['a secret on another interval', 'prod/app/db', onDays(90), 'configure', 'every 90 days → every 30 days'],
    [
      'a secret on a cron instead',
      'prod/app/db',
      onDays(7, { rotationScheduleExpression: 'cron(0 1 * * ? *)' }),
      'configure',
      'cron(0 1 * * ? *) → every 30 days',
    ],
    // Review M6: never taken over without the secret's opt-in (e.g. from AWS's RDS template function).
    [
      'a secret rotated by another function',
      'prod/app/db',
      onDays(30, { rotationLambdaArn: `${FN}-old` }),
      'none',
      'rotated-by-another-function',
    ],
    [
      'a secret rotated by another function, on another schedule',
      'prod/app/db',
      onDays(90, { rotationLambdaArn: `${FN}-old` }),
      'none',
      'rotated-by-another-function',
    ],
    [
      'a secret rotated by another function that opts in to be taken over',
      'prod/app/db',
      onDays(30, { rotationLambdaArn: `${FN}-old`, tags: { 'rotator:take-over': 'true' } }),
      'configure',
      'rotated by another function',
    ],
    ['a matching secret', 'prod/app/db', onDays(30), 'none', 'matches'],
    [
      'a matching secret reported as rate(30 days)',
      'prod/app/db',
      onDays(30, { rotationScheduleExpression: 'rate(30 days)' }),
      'none',
      'matches',
    ],
    [
      'a matching secret with a window the rule does not ask for',
      'prod/app/db',
      onDays(30, { rotationWindow: '3h' }),
      'none',
      'matches',
    ],
    ['a secret under no rule', 'prod/other/db', {}, 'none', 'no-schedule'],
    [
      'the longest prefix: a payments secret on 30 days',
      'prod/app/payments/db',
      onDays(30),
      'configure',
      'every 30 days → cron(0 4 ? * SUN *), window 2h',
    ],
    [
      'the longest prefix, matching (AutomaticallyAfterDays derived from the cron is ignored)',
      'prod/app/payments/db',
      onDays(7, { rotationScheduleExpression: 'cron(0 4 ? * SUN *)', rotationWindow: '2h' }),
      'none',
      'matches',
    ],
    [
      'the longest prefix, another window',
      'prod/app/payments/db',
      onDays(7, { rotationScheduleExpression: 'cron(0 4 ? * SUN *)', rotationWindow: '4h' }),
      'configure',
      'window 4h → 2h',
    ],
    [
      'the longest prefix, no window reported',
      'prod/app/payments/db',
      onDays(7, { rotationScheduleExpression: 'cron(0 4 ? * SUN *)' }),
      'configure',
      'window default → 2h',
    ],
    [
      'a tag over the rule',
      'prod/app/db',
      onDays(30, { tags: { 'rotator:schedule': '7d' } }),
      'configure',
      'every 30 days → every 7 days',
    ],
    ['a tag matching', 'prod/app/db', onDays(7, { tags: { 'rotator:schedule': '7d' } }), 'none', 'matches'],
    [
      'a tag under no rule',
      'prod/other/db',
      { tags: { 'rotator:schedule': 'rate(10 days)' } },
      'configure',
      'rotation off → rate(10 days)',
    ],
    [
      'a tag with rate(10 days) while on 10 days',
      'prod/other/db',
      onDays(10, { tags: { 'rotator:schedule': 'rate(10 days)' } }),
      'none',
      'matches',
    ],
    [
      'an unreadable tag (the rule is not used instead)',
      'prod/app/db',
      { tags: { 'rotator:schedule': 'monthly' } },
      'invalid-tag',
    ],
    [
      'a pending rotation (next run)',
      'prod/app/db',
      { versionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } },
      'none',
      'rotation-in-progress',
    ],
  ])('%s → %s', (_name, name, extra, kind, detail) => {
    // Act
    const [decision] = planSchedules([secret(name, extra)], OPTIONS);

    // Assess
    expect(decision?.action.kind).toBe(kind);
    const action = decision?.action;
    if (action?.kind === 'configure') expect(action.reason).toBe(detail);
    if (action?.kind === 'none') expect(action.reason).toBe(detail);
    if (action?.kind === 'invalid-tag') expect(action.error).toMatch(/^Tag rotator:schedule must be days/);
  });

  it('leaves a secret the stack schedules to CloudFormation, tag or not', () => {
    const tagged = secret('prod/app/db', { tags: { 'rotator:schedule': '7d' } });
    const [decision] = planSchedules([tagged], { ...OPTIONS, stackScheduled: new Set(['prod/app/db']) });
    expect(decision?.action).toEqual({ kind: 'none', reason: 'stack-scheduled' });
  });

  it('names where the wanted schedule came from and carries it whole', () => {
    const [byRule, byTag] = planSchedules(
      [secret('prod/app/payments/db'), secret('prod/app/cache', { tags: { 'rotator:schedule': ' 14d ' } })],
      OPTIONS,
    );
    expect(byRule?.action).toMatchObject({
      kind: 'configure',
      source: 'rule prod/app/payments/',
      schedule: { kind: 'expression', expression: 'cron(0 4 ? * SUN *)', windowHours: 2 },
    });
    expect(byTag?.action).toMatchObject({
      kind: 'configure',
      source: 'tag rotator:schedule',
      schedule: { kind: 'days', days: 14 },
    });
  });
});

describe('ruleFor', () => {
  it('picks the longest matching prefix whatever the order of the rules', () => {
    expect(ruleFor('prod/app/payments/db', [...RULES].reverse())?.prefix).toBe('prod/app/payments/');
    expect(ruleFor('prod/app/paymentsx', RULES)?.prefix).toBe('prod/app/');
    expect(ruleFor('prod/apple', RULES)).toBeUndefined();
  });
});

describe('scheduleFromTags', () => {
  it.each<[string, unknown]>([
    ['30d', { schedule: { kind: 'days', days: 30 } }],
    ['1d', { schedule: { kind: 'days', days: 1 } }],
    ['rate(4 hours)', { schedule: { kind: 'expression', expression: 'rate(4 hours)' } }],
    ['cron(0 4 ? * SUN *)', { schedule: { kind: 'expression', expression: 'cron(0 4 ? * SUN *)' } }],
  ])('reads %s', (value, expected) => {
    expect(scheduleFromTags({ 'rotator:schedule': value })).toEqual(expected);
  });

  it.each(['0d', '1001d', '30', '30 days', 'd', 'rate()', 'weekly', ''])(
    'refuses %j with the tag named',
    (value) => {
      expect(scheduleFromTags({ 'rotator:schedule': value })).toEqual({
        error: 'Tag rotator:schedule must be days (e.g. 30d, 1–1000), rate(…) or cron(…)',
      });
    },
  );

  it('is undefined without the tag, whatever other rotator tags say', () => {
    expect(scheduleFromTags({ 'rotator:length': '40' })).toBeUndefined();
  });
});

describe('describeSchedule', () => {
  it('says days, expressions and windows plainly', () => {
    expect(describeSchedule({ kind: 'days', days: 30, windowHours: 4 })).toBe('every 30 days, window 4h');
    expect(describeSchedule({ kind: 'expression', expression: 'rate(12 hours)' })).toBe('rate(12 hours)');
  });
});
