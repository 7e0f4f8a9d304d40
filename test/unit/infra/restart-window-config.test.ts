import { describe, expect, it, vi } from 'vitest';
import { synthLocalStack } from '../../../harness/local-stack';
import { parseDeploymentConfig } from '../../../infra/lib/deployment-config';
import { ConfigError } from '../../../shared/errors';
import { loadWorkflowConfig } from '../../../shared/workflow/workflow-config';

vi.stubEnv('CDK_VALIDATION', 'false');

/** cdk.json's `propagation.restartWindows`, from the deployment configuration to the step's cold start. */
const WINDOWS = {
  default: 'Sat,Sun 02:00-05:00 Europe/Berlin',
  namespaces: { payments: 'Tue 22:00-01:00 UTC' },
};
const STEP_ENV = {
  ROTATOR_MANAGED_PREFIXES: 'prod/',
  ROTATOR_CLUSTERS: 'prod-eu-1',
  ROTATOR_LEDGER_TABLE: 'ledger',
};

/** The synthesized propagation step function's environment (the function that lists ROTATOR_CLUSTERS). */
function stepEnvironment(propagation: object): Record<string, string> {
  const { template } = synthLocalStack(
    { managedPrefixes: ['prod/app-team/'], propagation },
    { bundle: false },
  );
  const variables = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map(
      (r) =>
        (r.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {},
    )
    .find((v) => 'ROTATOR_CLUSTERS' in v && 'ROTATOR_CANARY_WORKLOADS' in v);
  if (!variables) throw new Error('no propagation step function in the template');
  return variables;
}

describe('restart windows in the deployment configuration', () => {
  it('reaches the step function’s environment, which reads it back at cold start', () => {
    const environment = stepEnvironment({ clusterNames: ['prod-eu-1'], restartWindows: WINDOWS });

    expect(JSON.parse(environment.ROTATOR_RESTART_WINDOWS ?? '{}')).toEqual(WINDOWS);
    expect(loadWorkflowConfig({ ...environment, ROTATOR_LEDGER_TABLE: 'ledger' }).restartWindows).toEqual(
      WINDOWS,
    );
  });

  it('is left out of the environment when not configured', () => {
    expect(stepEnvironment({ clusterNames: ['prod-eu-1'] })).not.toHaveProperty('ROTATOR_RESTART_WINDOWS');
  });

  it.each([
    [
      { default: 'Sat 02:00-05:00' },
      /propagation\.restartWindows\.default: Restart window entry "Sat 02:00-05:00" is not/,
    ],
    [
      { namespaces: { payments: 'Sat 02:00-05:00 Moon/Base' } },
      /propagation\.restartWindows\.namespaces\.payments: .*"Moon\/Base" is not an IANA/,
    ],
    [
      { namespaces: { Payments_1: 'always' } },
      /propagation\.restartWindows\.namespaces\.Payments_1: Invalid key/,
    ],
    [{ weekly: 'always' }, /propagation\.restartWindows/],
  ])('refuses %j at synth, naming the field', (restartWindows, message) => {
    expect(() =>
      parseDeploymentConfig({
        managedPrefixes: ['prod/app-team/'],
        propagation: { clusterNames: ['prod-eu-1'], restartWindows },
      }),
    ).toThrow(message);
  });

  it('a malformed ROTATOR_RESTART_WINDOWS fails the cold start with a ConfigError', () => {
    const load = () =>
      loadWorkflowConfig({
        ...STEP_ENV,
        ROTATOR_RESTART_WINDOWS: JSON.stringify({ default: 'Caturday 01:00-02:00 UTC' }),
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/ROTATOR_RESTART_WINDOWS/);
  });
});
