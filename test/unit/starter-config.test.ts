import { describe, expect, it } from 'vitest';
import { loadStarterConfig, starterEnvironment } from '../../shared/workflow/starter-config';

describe('starterEnvironment', () => {
  it('writes what loadStarterConfig reads back', () => {
    const config = {
      managedPrefixes: ['prod/a/', 'prod/b/'],
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation',
      ledgerTableName: 'ledger',
    };
    expect(loadStarterConfig(starterEnvironment(config))).toEqual(config);
  });

  it('fails fast without the state machine', () => {
    expect(() =>
      loadStarterConfig({ ROTATOR_MANAGED_PREFIXES: 'p/', ROTATOR_LEDGER_TABLE: 'ledger' }),
    ).toThrow(/ROTATOR_STATE_MACHINE_ARN/);
  });
});
