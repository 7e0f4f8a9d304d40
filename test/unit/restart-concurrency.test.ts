import { describe, expect, it } from 'vitest';
import { restartBudgetFor } from '../../shared/workflow/claim-step';
import { waveSize } from '../../shared/workflow/restart-steps';
import { loadWorkflowConfig } from '../../shared/workflow/workflow-config';

const ENV = {
  ROTATOR_MANAGED_PREFIXES: 'prod/app-team/',
  ROTATOR_CLUSTERS: 'prod',
  ROTATOR_LEDGER_TABLE: 'ledger',
};
const config = {
  restartConcurrency: 25,
  emergencyRestartConcurrency: 100,
  restartPercent: 25,
  canaryWorkloads: 1,
};

describe('restartBudgetFor', () => {
  it('gives an ordinary propagation the configured count, percentage and canary', () => {
    expect(restartBudgetFor({ emergency: false }, config)).toEqual({ inFlight: 25, percent: 25, canary: 1 });
  });

  it('raises an emergency to the emergency count, with no canary, but never lifts the bound', () => {
    expect(restartBudgetFor({ emergency: true }, config)).toEqual({
      inFlight: 100,
      percent: 100,
      canary: 0,
      bypassWindows: true,
    });
    expect(
      restartBudgetFor({ emergency: true }, { ...config, emergencyRestartConcurrency: 10 }).inFlight,
    ).toBe(25);
  });

  it('reads its defaults from the environment and refuses 0 or more than 500 in flight at cold start', () => {
    const loaded = loadWorkflowConfig(ENV);
    expect(restartBudgetFor({ emergency: false }, loaded)).toEqual({ inFlight: 25, percent: 25, canary: 1 });
    expect(restartBudgetFor({ emergency: true }, loaded).inFlight).toBe(100);
    for (const value of ['0', '501']) {
      expect(() => loadWorkflowConfig({ ...ENV, ROTATOR_EMERGENCY_RESTART_CONCURRENCY: value })).toThrow(
        /ROTATOR_EMERGENCY_RESTART_CONCURRENCY/,
      );
    }
  });
});

describe('waveSize', () => {
  it.each([
    [{ inFlight: 25, percent: 25, canary: 1 }, 500, 25],
    [{ inFlight: 25, percent: 25, canary: 1 }, 40, 10],
    [{ inFlight: 25, percent: 25, canary: 1 }, 1, 1],
    [{ inFlight: 100, percent: 100, canary: 0 }, 5000, 100],
  ])('budget %o over %i affected workloads lets %i roll out at once', (budget, affected, expected) => {
    expect(waveSize(budget, affected)).toBe(expected);
  });
});
