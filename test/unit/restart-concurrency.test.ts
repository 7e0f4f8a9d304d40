import { describe, expect, it } from 'vitest';
import { restartConcurrencyFor } from '../../shared/workflow/ledger-steps';
import { loadWorkflowConfig } from '../../shared/workflow/workflow-config';

const ENV = {
  ROTATOR_MANAGED_PREFIXES: 'prod/app-team/',
  ROTATOR_CLUSTERS: 'prod',
  ROTATOR_LEDGER_TABLE: 'ledger',
};

describe('restartConcurrencyFor', () => {
  it.each([
    ['an ordinary propagation', false, { restartConcurrency: 5, emergencyRestartConcurrency: 20 }, 5],
    ['an emergency', true, { restartConcurrency: 5, emergencyRestartConcurrency: 20 }, 20],
    [
      'an emergency configured below the ordinary bound',
      true,
      { restartConcurrency: 30, emergencyRestartConcurrency: 10 },
      30,
    ],
  ])('%s restarts at most that many workloads at once', (_name, emergency, config, expected) => {
    expect(restartConcurrencyFor({ emergency }, config)).toBe(expected);
  });

  it('never lifts the bound: an emergency gets a positive limit, not 0 (no limit)', () => {
    const config = loadWorkflowConfig(ENV);
    expect(config.emergencyRestartConcurrency).toBe(20);
    expect(restartConcurrencyFor({ emergency: true }, config)).toBeGreaterThan(0);
  });

  it('refuses an emergency concurrency of 0 or over 40 at cold start', () => {
    for (const value of ['0', '41']) {
      expect(() => loadWorkflowConfig({ ...ENV, ROTATOR_EMERGENCY_RESTART_CONCURRENCY: value })).toThrow(
        /ROTATOR_EMERGENCY_RESTART_CONCURRENCY/,
      );
    }
  });
});
