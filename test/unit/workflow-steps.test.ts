import { describe, expect, it, vi } from 'vitest';
import {
  AwsCallError,
  InvalidEventError,
  KubernetesCallError,
  RolloutFailedError,
  TransientError,
} from '../../shared/errors';
import type { ClusterPort } from '../../shared/kubernetes/cluster-port';
import type { Workload } from '../../shared/propagation/workload-types';
import { finishClusterStep } from '../../shared/workflow/cluster-outcome';
import { type ClusterStepDeps, checkSyncStep, finishSync } from '../../shared/workflow/cluster-steps';
import { executionName } from '../../shared/workflow/execution-name';
import { alertSubject, type LedgerStepDeps, retirePreviousStep } from '../../shared/workflow/ledger-steps';
import { checkRolloutStep, restartPatch } from '../../shared/workflow/restart-steps';
import { runWorkflowStep, type WorkflowStepDeps } from '../../shared/workflow/run-workflow-step';
import type { EsTarget, SyncProgress } from '../../shared/workflow/workflow-state';

const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const deployment = (name: string) => ({ kind: 'Deployment' as const, namespace: 'shop', name });
const target = (name: string, consumers: string[]): EsTarget => ({
  namespace: 'shop',
  name,
  prior: {},
  targetSecret: `${name}-secret`,
  consumers: consumers.map(deployment),
  reasons: [],
});
const progress = (over: Partial<SyncProgress> = {}): SyncProgress => ({
  annotatedAt: '2026-11-23T10:00:00.000Z',
  deadline: '2026-11-23T10:05:00.000Z',
  done: false,
  pending: [],
  synced: [],
  failed: [],
  restarts: [],
  refused: [],
  ...over,
});

function clusterDeps(cluster: Partial<ClusterPort>, now = '2026-11-23T10:01:00.000Z'): ClusterStepDeps {
  return {
    clusterFor: async () => cluster as ClusterPort,
    requireOptIn: false,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    now: () => new Date(now),
  };
}

describe('executionName', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app-team/db-AbCdEf';

  it('is a valid Step Functions name that ends in the version and names the secret', () => {
    const name = executionName('prod/app-team/db', arn, VERSION);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(name.startsWith('prod-app-team-db-')).toBe(true);
    expect(name.endsWith(VERSION)).toBe(true);
  });

  it('is the same for the same secret and version, different for another secret of the same slug', () => {
    expect(executionName('prod/app-team/db', arn, VERSION)).toBe(
      executionName('prod/app-team/db', arn, VERSION),
    );
    expect(executionName('prod/app-team/db', `${arn}x`, VERSION)).not.toBe(
      executionName('prod/app-team/db', arn, VERSION),
    );
  });

  it('stays within 80 characters for a long name, keeping the version and suffix whole', () => {
    const name = executionName(`prod/${'x'.repeat(300)}`, arn, VERSION, 'r2026112310');
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.endsWith(`${VERSION}-r2026112310`)).toBe(true);
  });
});

describe('finishSync', () => {
  it('restarts the consumers of confirmed ExternalSecrets only', () => {
    const done = finishSync(
      progress({ synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }] }),
      [target('a', ['api']), target('b', ['worker'])],
    );
    expect(done.done).toBe(true);
    expect(done.restarts).toEqual([deployment('api')]);
  });

  it('refuses a workload that also uses the Secret of an unconfirmed ExternalSecret', () => {
    const done = finishSync(
      progress({ synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }] }),
      [target('a', ['api', 'both']), target('b', ['both'])],
    );
    expect(done.restarts).toEqual([deployment('api')]);
    expect(done.refused).toEqual([{ ref: deployment('both'), reason: expect.stringContaining('b-secret') }]);
  });

  it('restarts a workload once even when two confirmed ExternalSecrets feed it', () => {
    const synced = ['a', 'b'].map((name) => ({ kind: 'ExternalSecret', namespace: 'shop', name }));
    expect(finishSync(progress({ synced }), [target('a', ['api']), target('b', ['api'])]).restarts).toEqual([
      deployment('api'),
    ]);
  });
});

describe('checkSyncStep', () => {
  const plan = {
    plannedAt: '2026-11-23T10:00:00.000Z',
    resync: [target('a', ['api'])],
    notRefreshing: [],
    alreadyRestarted: [],
    refused: [],
  };

  it('keeps waiting before the deadline', async () => {
    const next = await checkSyncStep(
      { cluster: 'c', plan, sync: progress({ pending: ['shop/a'] }) },
      clusterDeps({ getExternalSecretSync: async () => ({}) }),
    );
    expect(next).toMatchObject({ done: false, pending: ['shop/a'] });
  });

  it('fails what is still pending past the deadline, and restarts nothing for it', async () => {
    const next = await checkSyncStep(
      { cluster: 'c', plan, sync: progress({ pending: ['shop/a'] }) },
      clusterDeps({ getExternalSecretSync: async () => ({}) }, '2026-11-23T10:06:00.000Z'),
    );
    expect(next.done).toBe(true);
    expect(next.failed).toEqual([
      {
        ref: { kind: 'ExternalSecret', namespace: 'shop', name: 'a' },
        reason: 'ESO did not confirm a sync within 300 s',
      },
    ]);
    expect(next.restarts).toEqual([]);
  });

  it('confirms a fresh sync and schedules its consumers', async () => {
    const synced = {
      syncedResourceVersion: '2-new',
      refreshTime: '2026-11-23T10:00:30Z',
      ready: { status: 'True', reason: 'SecretSynced' },
    };
    const next = await checkSyncStep(
      { cluster: 'c', plan, sync: progress({ pending: ['shop/a'] }) },
      clusterDeps({ getExternalSecretSync: async () => synced }),
    );
    expect(next).toMatchObject({ done: true, restarts: [deployment('api')] });
  });
});

describe('restart and rollout steps', () => {
  const item = {
    cluster: 'c',
    workload: deployment('api'),
    secretName: 'prod/db',
    versionId: VERSION,
    restartedAt: '2026-11-23T10:00:00.000Z',
  };

  it('writes the same patch on a retry, so a repeated restart starts no second rollout', () => {
    expect(JSON.stringify(restartPatch(item))).toBe(JSON.stringify(restartPatch({ ...item })));
    expect(restartPatch(item).spec.template.metadata.annotations).toMatchObject({
      'kubectl.kubernetes.io/restartedAt': item.restartedAt,
    });
  });

  const observation = (status: object) => ({
    kind: 'Deployment' as const,
    generation: 2,
    spec: { replicas: 1 },
    status,
  });

  it('raises RolloutFailedError for a failed rollout', async () => {
    const failed = observation({
      observedGeneration: 2,
      conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }],
    });
    await expect(
      checkRolloutStep(
        { ...item, restart: { deadline: '2026-11-23T11:00:00.000Z' } },
        clusterDeps({ getRollout: async () => failed }),
      ),
    ).rejects.toBeInstanceOf(RolloutFailedError);
  });

  it('raises RolloutFailedError for a rollout still progressing past its deadline', async () => {
    const progressing = observation({ observedGeneration: 2, replicas: 2, updatedReplicas: 1 });
    const deps = clusterDeps({ getRollout: async () => progressing }, '2026-11-23T11:00:01.000Z');
    await expect(
      checkRolloutStep({ ...item, restart: { deadline: '2026-11-23T11:00:00.000Z' } }, deps),
    ).rejects.toThrow(/not complete by/);
    const early = clusterDeps({ getRollout: async () => progressing }, '2026-11-23T10:59:00.000Z');
    await expect(
      checkRolloutStep({ ...item, restart: { deadline: '2026-11-23T11:00:00.000Z' } }, early),
    ).resolves.toMatchObject({
      state: 'progressing',
    });
  });

  it('keeps watching within its poll budget, so a quick rollout costs the workflow one poll', async () => {
    const progressing = observation({ observedGeneration: 2, replicas: 2, updatedReplicas: 1 });
    const done = observation({
      observedGeneration: 2,
      replicas: 1,
      updatedReplicas: 1,
      availableReplicas: 1,
    });
    const answers = [progressing, progressing, done];
    const getRollout = vi.fn(async () => answers.shift() ?? done);
    const sleep = vi.fn(async () => {});
    const deps = {
      ...clusterDeps({ getRollout }, '2026-11-23T10:59:00.000Z'),
      rolloutPollBudgetMs: 60_000,
      rolloutPollIntervalMs: 5000,
      sleep,
    };

    const result = await checkRolloutStep(
      { ...item, restart: { deadline: '2026-11-23T11:00:00.000Z' } },
      deps,
    );

    expect(result.state).toBe('done');
    expect(getRollout).toHaveBeenCalledTimes(3);
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('hands the wait back to the state machine when its budget runs out', async () => {
    const progressing = observation({ observedGeneration: 2, replicas: 2, updatedReplicas: 1 });
    const getRollout = vi.fn(async () => progressing);
    const deps = {
      ...clusterDeps({ getRollout }, '2026-11-23T10:59:00.000Z'),
      rolloutPollBudgetMs: 0,
      sleep: vi.fn(async () => {}),
    };

    const result = await checkRolloutStep(
      { ...item, restart: { deadline: '2026-11-23T11:00:00.000Z' } },
      deps,
    );

    expect(result.state).toBe('progressing');
    expect(getRollout).toHaveBeenCalledTimes(1);
  });
});

describe('finishClusterStep', () => {
  const secret = {
    name: 'prod/db',
    arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf',
    tags: {},
  };
  const workload = (name: string, marker?: string): Workload => ({
    kind: 'Deployment',
    namespace: 'shop',
    name,
    annotations: {},
    podTemplateAnnotations: marker ? { 'secret-rotator.io/restarted-for': marker } : {},
    podSpec: {},
  });

  it('when a rollout failed, names the workloads that did restart (read back by their marker)', async () => {
    const listWorkloads = vi.fn(async () => [
      workload('api', `prod/db@${VERSION}`),
      workload('worker'),
      workload('other', `prod/db@${VERSION}`),
    ]);
    const outcome = await finishClusterStep(
      {
        state: {
          cluster: 'c',
          secret,
          versionId: VERSION,
          sync: progress({ done: true, restarts: [deployment('api'), deployment('worker')] }),
          error: {
            Error: 'RolloutFailedError',
            Cause: JSON.stringify({ errorMessage: 'Deployment/shop/api: ProgressDeadlineExceeded' }),
          },
        },
      },
      clusterDeps({ listWorkloads }),
    );
    expect(outcome).toEqual({
      cluster: 'c',
      outcome: 'failed',
      synced: [],
      restarted: ['Deployment/shop/api'],
      failed: ['RolloutFailedError: Deployment/shop/api: ProgressDeadlineExceeded'],
    });
    expect(listWorkloads).toHaveBeenCalledTimes(1);
  });

  it('is failed when an ExternalSecret will not refresh: its consumers keep the old value', async () => {
    const outcome = await finishClusterStep(
      {
        state: {
          cluster: 'c',
          secret,
          versionId: VERSION,
          plan: {
            plannedAt: 'x',
            resync: [],
            notRefreshing: [
              {
                ref: { kind: 'ExternalSecret', namespace: 'shop', name: 'legacy' },
                reason: 'ESO will not refresh it (created-once); its consumers are not restarted',
              },
            ],
            alreadyRestarted: [],
            refused: [],
          },
          sync: progress({ done: true }),
          restarts: [],
        },
      },
      clusterDeps({}),
    );
    expect(outcome.outcome).toBe('failed');
    expect(outcome.failed).toEqual([
      'ExternalSecret/shop/legacy: ESO will not refresh it (created-once); its consumers are not restarted',
    ]);
  });

  it('is succeeded when every restart finished, without reading the cluster', async () => {
    const listWorkloads = vi.fn(async (): Promise<Workload[]> => []);
    const outcome = await finishClusterStep(
      {
        state: {
          cluster: 'c',
          secret,
          versionId: VERSION,
          sync: progress({
            done: true,
            synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }],
            restarts: [deployment('api')],
          }),
          restarts: [{}],
        },
      },
      clusterDeps({ listWorkloads }),
    );
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      restarted: ['Deployment/shop/api'],
      synced: ['ExternalSecret/shop/a'],
    });
    expect(listWorkloads).not.toHaveBeenCalled();
  });
});

describe('runWorkflowStep with Kubernetes errors', () => {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() };
  const item = {
    action: 'restart',
    cluster: 'c',
    workload: deployment('api'),
    secretName: 'prod/db',
    versionId: VERSION,
    restartedAt: '2026-11-23T10:00:00.000Z',
  };
  const failingWith = (error: unknown) =>
    ({
      ...clusterDeps({
        patchWorkload: async () => {
          throw error;
        },
      }),
      logger,
    }) as unknown as WorkflowStepDeps;

  it('passes a refusal through as it is, logging its status and reason', async () => {
    const refusal = new KubernetesCallError(422, 'Invalid');

    const thrown = await runWorkflowStep(item, failingWith(refusal)).catch((e: unknown) => e);

    expect(thrown).toBe(refusal);
    expect(logger.error).toHaveBeenCalledWith('workflow step failed', {
      action: 'restart',
      error: {
        name: 'KubernetesCallError',
        code: 'KUBERNETES_CALL_FAILED',
        message: 'Kubernetes API call failed: HTTP 422 Invalid',
      },
    });
  });

  it('makes a 503 from the API server retryable', async () => {
    const thrown = await runWorkflowStep(
      item,
      failingWith(new KubernetesCallError(503, 'ServiceUnavailable')),
    ).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(TransientError);
    expect((thrown as Error).message).toBe('Kubernetes API call failed: HTTP 503 ServiceUnavailable');
  });
});

describe('runWorkflowStep', () => {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() };
  const deps = (cluster: Partial<ClusterPort>) =>
    ({ ...clusterDeps(cluster), logger }) as unknown as WorkflowStepDeps;

  it('refuses an unknown action as InvalidEventError', async () => {
    await expect(runWorkflowStep({ action: 'launch' }, deps({}))).rejects.toBeInstanceOf(InvalidEventError);
  });

  it.each([
    [503, 'ServiceUnavailable', true],
    [429, 'ThrottlingException', true],
    [400, 'ValidationException', false],
    [404, 'ResourceNotFoundException', false],
  ])('an AWS error %i %s is retried: %s', async (status, name, retried) => {
    const error = new AwsCallError('DescribeCluster', name, status, `${name}`);
    const failing = deps({
      getRollout: async () => {
        throw error;
      },
    });
    const item = {
      action: 'check-rollout',
      cluster: 'c',
      workload: deployment('api'),
      secretName: 'prod/db',
      versionId: VERSION,
      restartedAt: 'x',
      restart: { deadline: 'y' },
    };
    const thrown = await runWorkflowStep(item, failing).catch((e: unknown) => e);
    expect(thrown instanceof TransientError).toBe(retried);
    if (!retried) expect(thrown).toBe(error);
  });
});

describe('alertSubject', () => {
  it('is ASCII and under 100 characters, as SNS requires', () => {
    const long = alertSubject(`Propagation failed: prod/${'ü'.repeat(150)}`);
    expect(long.length).toBeLessThan(100);
    expect(long).toMatch(/^[\x20-\x7e]+\.\.\.$/);
    expect(alertSubject('Propagation succeeded: prod/db')).toBe('Propagation succeeded: prod/db');
  });
});

describe('retirePreviousStep', () => {
  const claim = {
    claimed: true,
    executionId: 'x',
    secret: {
      name: 'prod/db',
      arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf',
      tags: {},
    },
    versionId: VERSION,
    previousVersionId: '11111111-2222-4333-8444-555555555555',
    clusters: ['c'],
    maxConcurrency: 5,
    startedAt: '2026-11-23T10:00:00.000Z',
    trigger: 'emergency' as const,
    actor: 'me',
    retirePrevious: true,
  };
  const deps = (stages: Record<string, string[]>) => {
    const removeStage = vi.fn(async () => {});
    return {
      removeStage,
      deps: {
        secrets: {
          describeSecret: async () => ({
            arn: claim.secret.arn,
            name: 'prod/db',
            rotationEnabled: true,
            versionIdsToStages: stages,
            tags: {},
          }),
          removeStage,
        },
        logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() },
      } as unknown as LedgerStepDeps,
    };
  };

  it('removes AWSPREVIOUS from the previous version', async () => {
    const { deps: d, removeStage } = deps({
      [claim.previousVersionId]: ['AWSPREVIOUS'],
      [VERSION]: ['AWSCURRENT'],
    });
    await expect(retirePreviousStep({ claim }, d)).resolves.toEqual({ retired: claim.previousVersionId });
    expect(removeStage).toHaveBeenCalledWith(claim.secret.arn, 'AWSPREVIOUS', claim.previousVersionId);
  });

  it('does nothing when the label is already gone (a retried step) or has moved on', async () => {
    const { deps: d, removeStage } = deps({
      [claim.previousVersionId]: [],
      [VERSION]: ['AWSCURRENT', 'AWSPREVIOUS'],
    });
    await expect(retirePreviousStep({ claim }, d)).resolves.toEqual({});
    expect(removeStage).not.toHaveBeenCalled();
  });
});
