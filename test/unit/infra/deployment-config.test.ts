import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDeploymentConfig } from '../../../infra/lib/deployment-config';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'));
const MINIMAL = { managedPrefixes: ['prod/app-team/'] };

describe('parseDeploymentConfig', () => {
  it('reads the sample configuration in cdk.json', () => {
    const config = parseDeploymentConfig(CDK_JSON.context.orchestrator);

    expect(config).toEqual({
      managedPrefixes: ['prod/app-team/', 'staging/app-team/'],
      rotationSchedules: [
        { secretName: 'prod/app-team/db-password', automaticallyAfterDays: 30, windowHours: 4 },
      ],
      rotationRules: [{ prefix: 'prod/app-team/', automaticallyAfterDays: 30, windowHours: 4 }],
      defaultPasswordPolicy: { length: 32 },
      kmsKeyArns: [],
      emergencyPrincipals: [],
      requestPrincipals: [],
      emergencyCooldownMinutes: 15,
      logRetentionDays: 90,
      databaseRotation: { masterSecretArns: [], tlsByDefault: true },
      propagation: { clusterNames: ['prod-eu-1'], restartConcurrency: 5 },
      notifications: { secretPrefix: 'ops/rotator-notifications/', kmsKeyArns: [] },
      compliance: {
        maxAge: [{ prefix: 'prod/app-team/', days: 90 }],
        defaultMaxAgeDays: 365,
        freshnessObjectiveMinutes: 60,
      },
    });
  });

  it.each([
    [
      'a master secret named without its suffix',
      { masterSecretArns: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db/master'] },
      /full secret ARN/,
    ],
    [
      'a VPC without security groups',
      { vpc: { vpcId: 'vpc-0abc', subnetIds: ['subnet-0abc'], securityGroupIds: [] } },
      /securityGroupIds/,
    ],
    [
      'a subnet given by name',
      { vpc: { vpcId: 'vpc-0abc', subnetIds: ['private-a'], securityGroupIds: ['sg-0abc'] } },
      /subnet id/,
    ],
    ['an unknown key', { masterArns: [] }, /databaseRotation/],
  ])('refuses a databaseRotation section with %s', (_name, databaseRotation, message) => {
    expect(() => parseDeploymentConfig({ ...MINIMAL, databaseRotation })).toThrow(message);
  });

  it('refuses a schedule that asks for the database function when none is deployed', () => {
    const rotationSchedules = [
      { secretName: 'prod/app-team/db', automaticallyAfterDays: 30, rotationFunction: 'database' },
    ];
    expect(() => parseDeploymentConfig({ ...MINIMAL, rotationSchedules })).toThrow(
      /rotationSchedules\.0\.rotationFunction: asks for the database rotation function/,
    );
    expect(
      parseDeploymentConfig({ ...MINIMAL, rotationSchedules, databaseRotation: {} }).rotationSchedules[0]
        ?.rotationFunction,
    ).toBe('database');
  });

  it.each([
    ['no cluster', { clusterNames: [] }],
    ['a cluster name with spaces', { clusterNames: ['prod eu'] }],
    ['an unknown key', { clusterNames: ['prod'], waves: 3 }],
    ['a concurrency of 0', { clusterNames: ['prod'], restartConcurrency: 0 }],
    ['an emergency concurrency of 0 (no limit)', { clusterNames: ['prod'], emergencyRestartConcurrency: 0 }],
    ['an emergency concurrency over 500', { clusterNames: ['prod'], emergencyRestartConcurrency: 501 }],
    ['a restart percentage over 100', { clusterNames: ['prod'], restartPercent: 101 }],
    ['more than 10 canary workloads', { clusterNames: ['prod'], canaryWorkloads: 11 }],
  ])('refuses a propagation section with %s', (_name, propagation) => {
    expect(() => parseDeploymentConfig({ ...MINIMAL, propagation })).toThrow(/orchestrator\.propagation/);
  });

  it('fills in the defaults of a minimal configuration', () => {
    expect(parseDeploymentConfig(MINIMAL)).toEqual({
      managedPrefixes: ['prod/app-team/'],
      rotationSchedules: [],
      rotationRules: [],
      kmsKeyArns: [],
      emergencyPrincipals: [],
      requestPrincipals: [],
      emergencyCooldownMinutes: 15,
      logRetentionDays: 90,
    });
  });

  it.each([
    [
      'a request principal that is not an IAM role or user ARN',
      { requestPrincipals: ['*'] },
      /requestPrincipals/,
    ],
    ['a negative emergency cooldown', { emergencyCooldownMinutes: -1 }, /emergencyCooldownMinutes/],
    ['an emergency cooldown over a day', { emergencyCooldownMinutes: 1441 }, /emergencyCooldownMinutes/],
  ])('refuses %s', (_name, extra, field) => {
    expect(() => parseDeploymentConfig({ ...MINIMAL, ...extra })).toThrow(field);
  });

  it('reads JSON text, as `cdk synth -c orchestrator=…` passes it', () => {
    expect(parseDeploymentConfig(JSON.stringify(MINIMAL)).managedPrefixes).toEqual(['prod/app-team/']);
  });

  it.each<[string, unknown, string]>([
    ['a missing prefix list', {}, 'orchestrator.managedPrefixes: Invalid input: expected array'],
    [
      'an empty prefix list',
      { managedPrefixes: [] },
      'orchestrator.managedPrefixes: must name at least one prefix',
    ],
    [
      'a wildcard prefix',
      { managedPrefixes: ['prod/*'] },
      'orchestrator.managedPrefixes.0: may contain only',
    ],
    [
      'a prefix without a trailing slash',
      { managedPrefixes: ['prod/app-team/', 'prod/payments'] },
      'orchestrator.managedPrefixes.1: must end with "/"',
    ],
    [
      'overlapping prefixes',
      { managedPrefixes: ['prod/', 'staging/app-team/', 'prod/payments/'] },
      'orchestrator.managedPrefixes.2: managed prefixes "prod/payments/" and "prod/" overlap',
    ],
    [
      'a prefix given twice',
      { managedPrefixes: ['prod/app-team/', 'prod/app-team/'] },
      'orchestrator.managedPrefixes.1: managed prefix "prod/app-team/" is given more than once',
    ],
    [
      'a one-segment prefix',
      { managedPrefixes: ['prod/app-team/', 'staging/'] },
      'orchestrator.managedPrefixes.1: must have at least two segments',
    ],
    [
      'a misspelt key',
      { ...MINIMAL, managedPrefix: ['x/'] },
      'orchestrator: Unrecognized key: "managedPrefix"',
    ],
    [
      'a schedule with both rules',
      {
        ...MINIMAL,
        rotationSchedules: [
          { secretName: 'prod/app-team/db', automaticallyAfterDays: 1, scheduleExpression: 'rate(1 day)' },
        ],
      },
      'orchestrator.rotationSchedules.0: needs exactly one of automaticallyAfterDays or scheduleExpression',
    ],
    [
      'a schedule with no rule',
      { ...MINIMAL, rotationSchedules: [{ secretName: 'prod/app-team/db' }] },
      'orchestrator.rotationSchedules.0: needs exactly one of',
    ],
    [
      'a malformed schedule expression',
      { ...MINIMAL, rotationSchedules: [{ secretName: 'prod/app-team/db', scheduleExpression: 'weekly' }] },
      'orchestrator.rotationSchedules.0.scheduleExpression: must be rate(…) or cron(…)',
    ],
    [
      'a window over 24 hours',
      {
        ...MINIMAL,
        rotationSchedules: [{ secretName: 'prod/app-team/db', automaticallyAfterDays: 7, windowHours: 30 }],
      },
      'orchestrator.rotationSchedules.0.windowHours',
    ],
    [
      'part days',
      { ...MINIMAL, rotationSchedules: [{ secretName: 'prod/app-team/db', automaticallyAfterDays: 1.5 }] },
      'orchestrator.rotationSchedules.0.automaticallyAfterDays',
    ],
    [
      'a rule outside the managed prefixes',
      { ...MINIMAL, rotationRules: [{ prefix: 'prod/', automaticallyAfterDays: 30 }] },
      'orchestrator.rotationRules.0.prefix: "prod/" is not within a managed prefix (prod/app-team/)',
    ],
    [
      'a rule for a neighbour of a managed prefix',
      { ...MINIMAL, rotationRules: [{ prefix: 'prod/app-teamx/', automaticallyAfterDays: 30 }] },
      'orchestrator.rotationRules.0.prefix: "prod/app-teamx/" is not within a managed prefix',
    ],
    [
      'the same prefix twice',
      {
        ...MINIMAL,
        rotationRules: [
          { prefix: 'prod/app-team/', automaticallyAfterDays: 30 },
          { prefix: 'prod/app-team/', scheduleExpression: 'rate(7 days)' },
        ],
      },
      'orchestrator.rotationRules.1.prefix: "prod/app-team/" is given twice',
    ],
    [
      'a rule with no schedule',
      { ...MINIMAL, rotationRules: [{ prefix: 'prod/app-team/' }] },
      'orchestrator.rotationRules.0: needs exactly one of automaticallyAfterDays or scheduleExpression',
    ],
    [
      'a rule with a malformed expression',
      { ...MINIMAL, rotationRules: [{ prefix: 'prod/app-team/', scheduleExpression: 'every monday' }] },
      'orchestrator.rotationRules.0.scheduleExpression: must be rate(…) or cron(…)',
    ],
    [
      'a rule naming a secret instead of a prefix',
      { ...MINIMAL, rotationRules: [{ secretName: 'prod/app-team/db', automaticallyAfterDays: 30 }] },
      'orchestrator.rotationRules.0: Unrecognized key: "secretName"',
    ],
    [
      'a short password',
      { ...MINIMAL, defaultPasswordPolicy: { length: 4 } },
      'orchestrator.defaultPasswordPolicy.length',
    ],
    [
      'a KMS alias',
      { ...MINIMAL, kmsKeyArns: ['arn:aws:kms:us-east-1:123456789012:alias/x'] },
      'orchestrator.kmsKeyArns.0: must be a KMS key ARN',
    ],
    [
      'a retention CloudWatch Logs does not offer',
      { ...MINIMAL, logRetentionDays: 45 },
      'orchestrator.logRetentionDays: must be one of 1, 3, 5, 7, 14, 30, 60, 90',
    ],
  ])('refuses %s, naming the field', (_name, raw, message) => {
    expect(() => parseDeploymentConfig(raw)).toThrow(message);
  });

  it('names every bad field at once', () => {
    const raw = { managedPrefixes: [], logRetentionDays: 45 };

    expect(() => parseDeploymentConfig(raw)).toThrow(
      /orchestrator\.managedPrefixes: .*\n.*orchestrator\.logRetentionDays: /,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['no configuration', undefined, /set the context key "orchestrator" in cdk\.json/],
    ['text that is not JSON', '{managedPrefixes', /is a string but not JSON/],
  ])('refuses %s with a clear message', (_name, raw, message) => {
    expect(() => parseDeploymentConfig(raw)).toThrow(message);
  });
});
