import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors';
import {
  loadWorkflowConfig,
  WORKFLOW_DEFAULTS,
  type WorkflowConfig,
  workflowEnvironment,
} from '../../shared/workflow/workflow-config';

const REQUIRED = {
  managedPrefixes: ['prod/a/', 'prod/b/'],
  clusters: ['eu-1', 'eu-2'],
  ledgerTableName: 'ledger',
};

describe('workflowEnvironment', () => {
  it('writes what loadWorkflowConfig reads back: every setting round-trips', () => {
    const config: WorkflowConfig = {
      ...REQUIRED,
      clusterAccess: {
        'eu-2': {
          roleArn: 'arn:aws:iam::210987654321:role/rotator-access',
          externalId: 'ext-1',
          region: 'eu-west-1',
        },
      },
      restartConcurrency: 7,
      emergencyRestartConcurrency: 70,
      restartPercent: 40,
      canaryWorkloads: 0,
      maxPlanBytes: 2048,
      requireOptIn: true,
      autoRollback: true,
      syncTimeoutMs: 45_000,
      rolloutTimeoutMs: 1_200_000,
      leaseMs: 30_000_000,
      rolloutPollBudgetMs: 30_000,
      rolloutPollIntervalMs: 2_000,
      restartWindows: { default: 'Sat,Sun 02:00-05:00 Europe/Berlin', namespaces: { batch: 'always' } },
    };
    expect(loadWorkflowConfig(workflowEnvironment(config))).toEqual(config);
  });

  it('writes every default it is not given, and those are the defaults the function reads without them', () => {
    const written = workflowEnvironment({ ...REQUIRED, restartConcurrency: undefined });
    expect(loadWorkflowConfig(written)).toEqual({ ...WORKFLOW_DEFAULTS, ...REQUIRED });
    expect(
      loadWorkflowConfig({
        ROTATOR_MANAGED_PREFIXES: 'prod/a/,prod/b/',
        ROTATOR_CLUSTERS: 'eu-1,eu-2',
        ROTATOR_LEDGER_TABLE: 'ledger',
      }),
    ).toEqual(loadWorkflowConfig(written));
    expect(written).toMatchObject({
      ROTATOR_RESTART_CONCURRENCY: '25',
      ROTATOR_EMERGENCY_RESTART_CONCURRENCY: '100',
      ROTATOR_RESTART_PERCENT: '25',
      ROTATOR_CANARY_WORKLOADS: '1',
      ROTATOR_MAX_PLAN_BYTES: '98304',
      ROTATOR_ROLLOUT_POLL_BUDGET_SECONDS: '60',
      ROTATOR_ROLLOUT_POLL_INTERVAL_SECONDS: '5',
    });
  });

  it('refuses a duration that is not whole seconds when writing, not at the cold start', () => {
    expect(() => workflowEnvironment({ ...REQUIRED, syncTimeoutMs: 1500 })).toThrow(ConfigError);
    expect(() => workflowEnvironment({ ...REQUIRED, syncTimeoutMs: 1500 })).toThrow(
      /ROTATOR_SYNC_TIMEOUT_SECONDS takes whole seconds/,
    );
  });

  it('leaves ROTATOR_CLUSTER_ACCESS out when no cluster has a role, and reads that as none', () => {
    const written = workflowEnvironment(REQUIRED);
    expect(written).not.toHaveProperty('ROTATOR_CLUSTER_ACCESS');
    expect(loadWorkflowConfig(written).clusterAccess).toEqual({});
  });
});

describe('loadWorkflowConfig: ROTATOR_CLUSTER_ACCESS', () => {
  const env = (access: string) => ({
    ROTATOR_MANAGED_PREFIXES: 'prod/',
    ROTATOR_CLUSTERS: 'eu-1,eu-2',
    ROTATOR_LEDGER_TABLE: 'ledger',
    ROTATOR_CLUSTER_ACCESS: access,
  });

  it.each([
    ['text that is not JSON', '{', /is not valid JSON/],
    [
      'a cluster ROTATOR_CLUSTERS does not list',
      '{"eu-3":{"roleArn":"arn:aws:iam::210987654321:role/r"}}',
      /names cluster eu-3/,
    ],
    [
      'a role ARN that is not one',
      '{"eu-2":{"roleArn":"arn:aws:iam::2109:user/r"}}',
      /must be an IAM role ARN/,
    ],
    [
      'an external id STS refuses',
      '{"eu-2":{"roleArn":"arn:aws:iam::210987654321:role/r","externalId":"a b"}}',
      /external id/,
    ],
    [
      'a field it does not know',
      '{"eu-2":{"roleArn":"arn:aws:iam::210987654321:role/r","sessionName":"x"}}',
      /sessionName/,
    ],
  ])('refuses %s at the cold start', (_, access, message) => {
    expect(() => loadWorkflowConfig(env(access))).toThrow(ConfigError);
    expect(() => loadWorkflowConfig(env(access))).toThrow(message);
  });
});
