import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors';
import { loadSweepConfig, SWEEP_DEFAULTS, sweepEnvironment } from '../../shared/sweep/sweep-config';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-secret';

describe('loadSweepConfig', () => {
  it('uses safe defaults: one day of grace, stuck after an hour (and repaired), 50 rotations a run, no ledger', () => {
    expect(loadSweepConfig({ ROTATOR_MANAGED_PREFIXES: 'prod/a/, prod/b/' })).toEqual({
      managedPrefixes: ['prod/a/', 'prod/b/'],
      graceMs: 86_400_000,
      stuckAfterMs: 3_600_000,
      maxRotationsPerRun: 50,
      repairStuck: true,
      ledgerTableName: undefined,
      maxPropagationsPerRun: 20,
      propagationLeaseMs: 22_200_000,
    });
  });

  it('reads the ledger table, the reconcile cap and lease, and turns repair off', () => {
    expect(
      loadSweepConfig({
        ROTATOR_MANAGED_PREFIXES: 'p/',
        ROTATOR_REPAIR_STUCK: 'false',
        ROTATOR_LEDGER_TABLE: 'rotation-ledger',
        ROTATOR_MAX_PROPAGATIONS_PER_RUN: '5',
        ROTATOR_PROPAGATION_LEASE_MINUTES: '30',
      }),
    ).toMatchObject({
      repairStuck: false,
      ledgerTableName: 'rotation-ledger',
      maxPropagationsPerRun: 5,
      propagationLeaseMs: 1_800_000,
    });
  });

  it('reads the ledger table alone (the sweep records its rotations; reconciling needs the state machine too)', () => {
    expect(
      loadSweepConfig({ ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_LEDGER_TABLE: 'rotation-ledger' }),
    ).toMatchObject({ ledgerTableName: 'rotation-ledger', stateMachineArn: undefined });
  });

  it("enforces schedules only with a rotation function: rules by prefix, the stack's own secrets, a cap", () => {
    const config = loadSweepConfig({
      ROTATOR_MANAGED_PREFIXES: 'prod/app/',
      ROTATOR_ROTATION_FUNCTION_ARN: FN,
      ROTATOR_ROTATION_RULES: JSON.stringify([
        { prefix: 'prod/app/', automaticallyAfterDays: 30 },
        { prefix: 'prod/app/payments/', scheduleExpression: 'cron(0 4 ? * SUN *)', windowHours: 2 },
      ]),
      ROTATOR_STACK_SCHEDULED_SECRETS: 'prod/app/db-password, prod/app/other',
      ROTATOR_MAX_SCHEDULES_PER_RUN: '5',
    });
    expect(config.schedules).toEqual({
      rotationFunctionArn: FN,
      rules: [
        { prefix: 'prod/app/', schedule: { kind: 'days', days: 30 } },
        {
          prefix: 'prod/app/payments/',
          schedule: { kind: 'expression', expression: 'cron(0 4 ? * SUN *)', windowHours: 2 },
        },
      ],
      stackScheduled: new Set(['prod/app/db-password', 'prod/app/other']),
      maxPerRun: 5,
    });
  });

  it('enforces tags alone with a rotation function and no rules (50 a run), and nothing without one', () => {
    expect(
      loadSweepConfig({ ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_ROTATION_FUNCTION_ARN: FN }).schedules,
    ).toEqual({ rotationFunctionArn: FN, rules: [], stackScheduled: new Set(), maxPerRun: 50 });
    expect(loadSweepConfig({ ROTATOR_MANAGED_PREFIXES: 'p/' }).schedules).toBeUndefined();
  });

  it.each([
    ['no prefixes', {}, /ROTATOR_MANAGED_PREFIXES is required/],
    ['a wildcard prefix', { ROTATOR_MANAGED_PREFIXES: 'prod/*' }, /ROTATOR_MANAGED_PREFIXES/],
    [
      'a stuck threshold under 5 minutes',
      { ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_STUCK_AFTER_MINUTES: '1' },
      /ROTATOR_STUCK_AFTER_MINUTES/,
    ],
    [
      'a negative cap',
      { ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_MAX_ROTATIONS_PER_RUN: '-1' },
      /ROTATOR_MAX_ROTATIONS_PER_RUN/,
    ],
    [
      'a repair flag that is not a boolean',
      { ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_REPAIR_STUCK: 'yes' },
      /ROTATOR_REPAIR_STUCK/,
    ],
    [
      'rules that are not JSON',
      { ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_ROTATION_FUNCTION_ARN: FN, ROTATOR_ROTATION_RULES: '[{' },
      /ROTATOR_ROTATION_RULES is not valid JSON/,
    ],
    [
      'a rule outside the managed prefixes',
      {
        ROTATOR_MANAGED_PREFIXES: 'prod/app/',
        ROTATOR_ROTATION_FUNCTION_ARN: FN,
        ROTATOR_ROTATION_RULES: '[{"prefix":"prod/","automaticallyAfterDays":30}]',
      },
      /ROTATOR_ROTATION_RULES\.0\.prefix "prod\/" is not within a managed prefix \(prod\/app\/\)/,
    ],
    [
      'a rule with both a day count and an expression',
      {
        ROTATOR_MANAGED_PREFIXES: 'p/',
        ROTATOR_ROTATION_FUNCTION_ARN: FN,
        ROTATOR_ROTATION_RULES:
          '[{"prefix":"p/","automaticallyAfterDays":30,"scheduleExpression":"rate(1 day)"}]',
      },
      /ROTATOR_ROTATION_RULES\.0 needs exactly one of automaticallyAfterDays or scheduleExpression/,
    ],
    [
      'rules without a rotation function',
      {
        ROTATOR_MANAGED_PREFIXES: 'p/',
        ROTATOR_ROTATION_RULES: '[{"prefix":"p/","automaticallyAfterDays":30}]',
      },
      /ROTATOR_ROTATION_FUNCTION_ARN is required with ROTATOR_ROTATION_RULES/,
    ],
    [
      'a rotation function that is not a Lambda ARN',
      { ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_ROTATION_FUNCTION_ARN: 'rotate-secret' },
      /ROTATOR_ROTATION_FUNCTION_ARN must be a Lambda function ARN/,
    ],
  ])('fails fast on %s', (_name, env, message) => {
    expect(() => loadSweepConfig(env)).toThrow(ConfigError);
    expect(() => loadSweepConfig(env)).toThrow(message);
  });
});

describe('sweepEnvironment', () => {
  const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation';

  it('writes what loadSweepConfig reads back: every setting of every feature round-trips', () => {
    const written = sweepEnvironment({
      managedPrefixes: ['prod/app/'],
      graceMs: 1_800_000,
      stuckAfterMs: 600_000,
      maxRotationsPerRun: 5,
      repairStuck: false,
      ledger: {
        tableName: 'rotation-ledger',
        reconcile: {
          stateMachineArn: STATE_MACHINE,
          maxPropagationsPerRun: 3,
          propagationLeaseMs: 3_600_000,
        },
      },
      schedules: {
        rotationFunctionArn: FN,
        databaseRotationFunctionArn: `${FN}-database`,
        rules: [{ prefix: 'prod/app/', automaticallyAfterDays: 30 }],
        stackScheduledSecrets: ['prod/app/db-password'],
        maxPerRun: 4,
      },
    });
    expect(loadSweepConfig(written)).toEqual({
      managedPrefixes: ['prod/app/'],
      graceMs: 1_800_000,
      stuckAfterMs: 600_000,
      maxRotationsPerRun: 5,
      repairStuck: false,
      ledgerTableName: 'rotation-ledger',
      stateMachineArn: STATE_MACHINE,
      maxPropagationsPerRun: 3,
      propagationLeaseMs: 3_600_000,
      schedules: {
        rotationFunctionArn: FN,
        databaseRotationFunctionArn: `${FN}-database`,
        rules: [{ prefix: 'prod/app/', schedule: { kind: 'days', days: 30 } }],
        stackScheduled: new Set(['prod/app/db-password']),
        maxPerRun: 4,
      },
    });
  });

  it('writes the defaults of what it deploys, the ones the function reads without them, and nothing of what it does not', () => {
    const written = sweepEnvironment({ managedPrefixes: ['p/'], ledger: { tableName: 'rotation-ledger' } });
    const { maxSchedulesPerRun: _, ...defaults } = SWEEP_DEFAULTS;
    expect(loadSweepConfig(written)).toEqual({
      managedPrefixes: ['p/'],
      ledgerTableName: 'rotation-ledger',
      ...defaults,
    });
    expect(
      loadSweepConfig({ ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_LEDGER_TABLE: 'rotation-ledger' }),
    ).toEqual(loadSweepConfig(written));
    expect(Object.keys(written).sort()).toEqual([
      'ROTATOR_LEDGER_TABLE',
      'ROTATOR_MANAGED_PREFIXES',
      'ROTATOR_MAX_ROTATIONS_PER_RUN',
      'ROTATOR_REPAIR_STUCK',
      'ROTATOR_STUCK_AFTER_MINUTES',
      'ROTATOR_SWEEP_GRACE_HOURS',
    ]);
  });

  it('writes a fractional grace in hours, which the function accepts', () => {
    expect(loadSweepConfig(sweepEnvironment({ managedPrefixes: ['p/'], graceMs: 5_400_000 })).graceMs).toBe(
      5_400_000,
    );
  });
});
