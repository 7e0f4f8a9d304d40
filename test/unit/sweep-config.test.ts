import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors';
import { loadSweepConfig } from '../../shared/sweep/sweep-config';

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
  ])('fails fast on %s', (_name, env, message) => {
    expect(() => loadSweepConfig(env)).toThrow(ConfigError);
    expect(() => loadSweepConfig(env)).toThrow(message);
  });
});
