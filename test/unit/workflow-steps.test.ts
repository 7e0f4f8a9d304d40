import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { AwsCallError, InvalidEventError, KubernetesCallError, TransientError } from '../../shared/errors';
import { logFailureOnce } from '../../shared/log-failure-once';
import type { ClusterPort } from '../../shared/propagation/cluster-port';
import { claimStep } from '../../shared/workflow/claim-step';
import { finishClusterStep } from '../../shared/workflow/cluster-outcome';
import { type ClusterStepDeps, checkSyncStep, resyncStep } from '../../shared/workflow/cluster-steps';
import { executionName } from '../../shared/workflow/execution-name';
import type { LedgerStepDeps } from '../../shared/workflow/ledger-step-deps';
import { alertFor, alertSubject } from '../../shared/workflow/propagation-alert';
import { noteRollbackStep, recordStep } from '../../shared/workflow/record-step';
import { retirePreviousStep } from '../../shared/workflow/retire-previous-step';
import { runWorkflowStep, type WorkflowStepDeps } from '../../shared/workflow/run-workflow-step';
import type { EsTarget, RestartProgress, SyncProgress } from '../../shared/workflow/workflow-state';
import { fakeCluster } from '../support/fake-cluster';

const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const target = (name: string): EsTarget => ({
  namespace: 'shop',
  name,
  prior: {},
  targetSecret: `${name}-secret`,
  reasons: [],
});
const progress = (over: Partial<SyncProgress> = {}): SyncProgress => ({
  annotatedAt: '2026-11-23T10:00:00.000Z',
  deadline: '2026-11-23T10:05:00.000Z',
  done: false,
  pending: [],
  synced: [],
  failed: [],
  ...over,
});

/** An advance-restarts step input for one synced ExternalSecret in namespace shop. */
function advanceItem() {
  return {
    action: 'advance-restarts',
    cluster: 'c',
    secret: {
      name: 'prod/db',
      arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf',
      tags: {},
    },
    versionId: VERSION,
    moveSeq: 1,
    budget: { inFlight: 5, percent: 100, canary: 1 },
    plan: { plannedAt: 'x', resync: [target('a')], notRefreshing: [] },
    sync: progress({ done: true, synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }] }),
    restarts: { done: false },
  };
}

function clusterDeps(cluster: Partial<ClusterPort>, now = '2026-11-23T10:01:00.000Z'): ClusterStepDeps {
  return {
    clusterFor: async () => fakeCluster(cluster),
    requireOptIn: false,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    now: () => new Date(now),
  };
}

describe('executionName', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app-team/db-AbCdEf';

  it('is a valid Step Functions name that ends in the version and names the secret', () => {
    const name = executionName('prod/app-team/db', arn, VERSION, 1);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(name.startsWith('prod-app-team-db-')).toBe(true);
    expect(name.endsWith(`${VERSION}-m1`)).toBe(true);
  });

  it('differs for the same version made current again (a new move)', () => {
    expect(executionName('prod/app-team/db', arn, VERSION, 3)).not.toBe(
      executionName('prod/app-team/db', arn, VERSION, 1),
    );
  });

  it('hashes a client-token version id that holds characters execution names refuse', () => {
    const name = executionName('prod/app-team/db', arn, 'token with spaces/and:colons#0123456789', 1);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(name).not.toBe(
      executionName('prod/app-team/db', arn, 'token with spaces/and:colons#0123456780', 1),
    );
  });

  it('is the same for the same secret and version, different for another secret of the same slug', () => {
    expect(executionName('prod/app-team/db', arn, VERSION, 1)).toBe(
      executionName('prod/app-team/db', arn, VERSION, 1),
    );
    expect(executionName('prod/app-team/db', `${arn}x`, VERSION, 1)).not.toBe(
      executionName('prod/app-team/db', arn, VERSION, 1),
    );
  });

  it('stays within 80 characters for a long name, keeping the version and suffix whole', () => {
    const name = executionName(`prod/${'x'.repeat(300)}`, arn, VERSION, 12, 'r2026112310');
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.endsWith(`${VERSION}-m12-r2026112310`)).toBe(true);
  });
});

describe('checkSyncStep', () => {
  const plan = {
    plannedAt: '2026-11-23T10:00:00.000Z',
    resync: [target('a')],
    notRefreshing: [],
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
    expect(next.synced).toEqual([]);
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
    expect(next).toMatchObject({
      done: true,
      synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }],
    });
  });
});

describe('ExternalSecrets deleted since the plan (404)', () => {
  const gone = new KubernetesCallError(404, 'NotFound');
  const plan = { plannedAt: 'x', resync: [target('a'), target('b')], notRefreshing: [] };

  it('resync skips one deleted before its annotation: not pending, not failed, named', async () => {
    const next = await resyncStep(
      { cluster: 'c', versionId: VERSION, plan },
      clusterDeps({
        annotateExternalSecret: async (ref) => {
          if (ref.name === 'b') throw gone;
        },
      }),
    );
    expect(next).toMatchObject({
      pending: ['shop/a'],
      failed: [],
      gone: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'b' }],
    });
  });

  it('check-sync moves one deleted after its annotation out of pending, named, not failed', async () => {
    const synced = {
      syncedResourceVersion: '2-new',
      refreshTime: '2026-11-23T10:00:30Z',
      ready: { status: 'True', reason: 'SecretSynced' },
    };
    const next = await checkSyncStep(
      { cluster: 'c', plan, sync: progress({ pending: ['shop/a', 'shop/b'] }) },
      clusterDeps({
        getExternalSecretSync: async (ref) => {
          if (ref.name === 'b') throw gone;
          return synced;
        },
      }),
    );
    expect(next).toMatchObject({
      done: true,
      pending: [],
      failed: [],
      synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }],
      gone: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'b' }],
    });
  });

  it('a 404 that is no Status NotFound (a CRD or version not served: plain text) fails the step', async () => {
    const unserved = new KubernetesCallError(404, undefined);
    await expect(
      resyncStep(
        { cluster: 'c', versionId: VERSION, plan },
        clusterDeps({
          annotateExternalSecret: async () => {
            throw unserved;
          },
        }),
      ),
    ).rejects.toBe(unserved);
    await expect(
      checkSyncStep(
        { cluster: 'c', plan, sync: progress({ pending: ['shop/a'] }) },
        clusterDeps({
          getExternalSecretSync: async () => {
            throw unserved;
          },
        }),
      ),
    ).rejects.toBe(unserved);
  });

  it('annotates the children of a ClusterExternalSecret deleted since the plan; gone only on their own 404', async () => {
    const owned = (name: string) => ({ ...target(name), owner: 'shared-db' });
    const annotated: string[] = [];
    const next = await resyncStep(
      { cluster: 'c', versionId: VERSION, plan: { ...plan, resync: [owned('a'), owned('b')] } },
      clusterDeps({
        annotateClusterExternalSecret: async () => {
          throw gone;
        },
        annotateExternalSecret: async (ref) => {
          annotated.push(ref.name);
          if (ref.name === 'b') throw gone;
        },
      }),
    );
    expect(annotated.sort()).toEqual(['a', 'b']);
    expect(next).toMatchObject({
      pending: ['shop/a'],
      failed: [],
      gone: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'b' }],
    });
  });

  it('any other refusal still fails the step', async () => {
    await expect(
      resyncStep(
        { cluster: 'c', versionId: VERSION, plan },
        clusterDeps({
          annotateExternalSecret: async () => {
            throw new KubernetesCallError(403, 'Forbidden');
          },
        }),
      ),
    ).rejects.toBeInstanceOf(KubernetesCallError);
  });

  it('the cluster outcome names what went, counts it, and still succeeds', async () => {
    const outcome = await finishClusterStep({
      state: {
        cluster: 'c',
        sync: progress({
          done: true,
          synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }],
          gone: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'b' }],
        }),
        restarts: {
          done: true,
          invocations: 1,
          verified: 1,
          inFlight: 0,
          pending: 0,
          restarted: { count: 0, items: [] },
          failed: { count: 0, items: [] },
          refused: { count: 0, items: [] },
          nextPod: { count: 0, items: [] },
          notRestarted: { count: 0, items: [] },
          gone: {
            count: 1,
            items: [
              {
                ref: { kind: 'Deployment', namespace: 'shop', name: 'web' },
                reason: 'deleted since it was listed: not restarted',
              },
            ],
          },
        },
      },
    });
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      failed: [],
      gone: [
        'ExternalSecret/shop/b: deleted since the plan',
        'Deployment/shop/web: deleted since it was listed: not restarted',
      ],
      counts: { gone: 2, failed: 0 },
    });
  });
});

describe('finishClusterStep', () => {
  const none = { count: 0, items: [] };
  const restarts = (over: Partial<RestartProgress> = {}): RestartProgress => ({
    done: true,
    invocations: 1,
    verified: 0,
    inFlight: 0,
    pending: 0,
    restarted: none,
    failed: none,
    refused: none,
    nextPod: none,
    notRestarted: none,
    ...over,
  });
  const ref = (name: string) => ({ ref: { kind: 'Deployment', namespace: 'shop', name }, reason: 'x' });

  it('when the waves stopped, names the failed rollout and the consumers left unrestarted, with counts', async () => {
    const outcome = await finishClusterStep({
      state: {
        cluster: 'c',
        sync: progress({ done: true }),
        restarts: restarts({
          stopped: '1 rollout(s) failed: restarts stopped',
          verified: 1,
          restarted: { count: 1, items: [ref('api')] },
          failed: { count: 1, items: [{ ...ref('worker'), reason: 'ProgressDeadlineExceeded' }] },
          notRestarted: { count: 40, items: [ref('w1'), ref('w2')] },
        }),
      },
    });
    expect(outcome).toMatchObject({
      cluster: 'c',
      outcome: 'failed',
      restarted: ['Deployment/shop/api'],
      notRestarted: ['Deployment/shop/w1', 'Deployment/shop/w2'],
      counts: { restarted: 1, notRestarted: 40, failed: 2 },
    });
    expect(outcome.failed).toEqual([
      '1 rollout(s) failed: restarts stopped; 40 consumer(s) not restarted',
      'Deployment/shop/worker: ProgressDeadlineExceeded',
    ]);
  });

  it('is failed when an ExternalSecret will not refresh: its consumers keep the old value', async () => {
    const outcome = await finishClusterStep({
      state: {
        cluster: 'c',
        plan: {
          plannedAt: 'x',
          resync: [],
          notRefreshing: [
            {
              ref: { kind: 'ExternalSecret', namespace: 'shop', name: 'legacy' },
              reason: 'ESO will not refresh it (created-once); its consumers are not restarted',
            },
          ],
        },
        sync: progress({ done: true }),
        restarts: restarts(),
      },
    });
    expect(outcome.outcome).toBe('failed');
    expect(outcome.failed).toEqual([
      'ExternalSecret/shop/legacy: ESO will not refresh it (created-once); its consumers are not restarted',
    ]);
  });

  it('is succeeded when every consumer is verified; next-pod consumers are reported, not failures', async () => {
    const outcome = await finishClusterStep({
      state: {
        cluster: 'c',
        sync: progress({ done: true, synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'a' }] }),
        restarts: restarts({
          verified: 1,
          restarted: { count: 1, items: [ref('api')] },
          nextPod: { count: 1, items: [{ ...ref('cache'), reason: 'update strategy OnDelete' }] },
        }),
      },
    });
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      restarted: ['Deployment/shop/api'],
      synced: ['ExternalSecret/shop/a'],
      nextPod: ['Deployment/shop/cache: update strategy OnDelete'],
    });
  });

  it('keeps every list capped however many workloads failed', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      ref: { kind: 'ExternalSecret', namespace: 'shop', name: `es-${i}` },
      reason: 'ESO did not confirm a sync within 300 s',
    }));
    const outcome = await finishClusterStep({
      state: { cluster: 'c', sync: progress({ done: true, failed: many }) },
    });
    expect(outcome.failed.length).toBeLessThanOrEqual(50);
    expect(outcome.counts?.failed).toBe(5000);
    expect(Buffer.byteLength(JSON.stringify(outcome))).toBeLessThan(8 * 1024);
  });
});

describe('runWorkflowStep with Kubernetes errors', () => {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() };
  const item = advanceItem();
  const failingWith = (error: unknown) =>
    ({
      ...clusterDeps({
        listWorkloads: async () => {
          throw error;
        },
      }),
      logger,
    }) as unknown as WorkflowStepDeps;

  it('passes a refusal through as it is; the handler logs its status and reason once, with the action', async () => {
    const refusal = new KubernetesCallError(422, 'Invalid');
    // As functions/propagation-step/handler.ts wires it.
    const handler = middy()
      .use(logFailureOnce(logger, 'workflow step failed'))
      .handler((event: unknown) => runWorkflowStep(event, failingWith(refusal)));

    const thrown = await handler(item, {} as Context).catch((e: unknown) => e);

    expect(thrown).toBe(refusal);
    expect(logger.appendKeys).toHaveBeenCalledWith({ action: 'advance-restarts' });
    expect(logger.error).toHaveBeenCalledOnce();
    expect(logger.error).toHaveBeenCalledWith('workflow step failed', {
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
      listWorkloads: async () => {
        throw error;
      },
    });
    const thrown = await runWorkflowStep(advanceItem(), failing).catch((e: unknown) => e);
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

/** An emergency's claim that asks to retire AWSPREVIOUS (also the base of other claims here). */
const retireClaim = {
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
  moveSeq: 1,
  budget: { inFlight: 5, percent: 25, canary: 1 },
  startedAt: '2026-11-23T10:00:00.000Z',
  trigger: 'emergency' as const,
  actor: 'me',
  retirePrevious: true,
};

describe('alertFor', () => {
  it('names what was deleted while the propagation ran, with the full count, apart from the failures', () => {
    const claim = { ...retireClaim, trigger: 'event' as const, actor: 'eventbridge', retirePrevious: false };
    const cluster = {
      cluster: 'c',
      outcome: 'succeeded' as const,
      synced: ['ExternalSecret/shop/a'],
      restarted: [],
      failed: [],
      gone: ['ExternalSecret/shop/b: deleted since the plan'],
      counts: { gone: 3 },
    };

    const message = JSON.parse(alertFor(claim, 'succeeded', [cluster]).message);

    expect(message).toMatchObject({
      failures: [],
      gone: ['c: ExternalSecret/shop/b: deleted since the plan'],
      goneCount: 3,
    });
  });
});

describe('retirePreviousStep', () => {
  const claim = retireClaim;
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

describe('claimStep', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf';
  const DATABASE_FUNCTION = 'arn:aws:lambda:eu-west-1:111122223333:function:rotate-database-secret';
  const deps = (
    rotationLambdaArn: string | undefined,
    more: { tags?: Record<string, string>; previous?: boolean; autoRollback?: boolean } = {},
  ) =>
    ({
      autoRollback: more.autoRollback ?? false,
      managedPrefixes: ['prod/'],
      clusters: ['c'],
      restartConcurrency: 5,
      emergencyRestartConcurrency: 50,
      restartPercent: 25,
      canaryWorkloads: 1,
      leaseMs: 60_000,
      now: () => new Date('2026-12-01T10:00:00.000Z'),
      secrets: {
        describeSecret: async () => ({
          arn: ARN,
          name: 'prod/db',
          rotationEnabled: true,
          versionIdsToStages: {
            [VERSION]: ['AWSCURRENT'],
            ...(more.previous && { '11111111-2222-4333-8444-555555555555': ['AWSPREVIOUS'] }),
          },
          tags: more.tags ?? {},
          ...(rotationLambdaArn && { rotationLambdaArn }),
        }),
      },
      ledger: {
        registerMove: async () => ({ seq: 1, fromVersionId: undefined }),
        claimPropagation: async () => ({ claimed: true }),
      },
      logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() },
      metrics: { addMetric: vi.fn() },
    }) as unknown as LedgerStepDeps;
  const input = { secretId: ARN, versionId: VERSION, trigger: 'event', actor: 'eventbridge' };

  // The workflow's Choice compares it with the database rotation function: it must always be there.
  it('names the secret’s rotation function in the claim, or an empty string when none rotates it', async () => {
    const rotated = claimed(await claimStep({ input, executionId: 'e1' }, deps(DATABASE_FUNCTION)));
    const unrotated = claimed(await claimStep({ input, executionId: 'e2' }, deps(undefined)));
    expect(rotated.rotatedBy).toBe(DATABASE_FUNCTION);
    expect(unrotated.rotatedBy).toBe('');
  });

  it.each<[string, Parameters<typeof deps>[1], Record<string, unknown>, boolean]>([
    [
      'a secret tagged rotator:rollback=true with a previous version',
      { tags: { 'rotator:rollback': 'true' }, previous: true },
      {},
      true,
    ],
    [
      'any secret with a previous version when the deployment rolls back',
      { autoRollback: true, previous: true },
      {},
      true,
    ],
    ['an untagged secret', { previous: true }, {}, false],
    ['a tagged secret with no previous version', { tags: { 'rotator:rollback': 'true' } }, {}, false],
    [
      'an emergency (never back to a credential replaced in a hurry)',
      { autoRollback: true, previous: true },
      { emergency: true, trigger: 'emergency' },
      false,
    ],
  ])('allows a rollback for %s: %s', async (_name, more, extra, expected) => {
    const claim = claimed(
      await claimStep({ input: { ...input, ...extra }, executionId: 'e3' }, deps(DATABASE_FUNCTION, more)),
    );
    expect(claim.rollBack).toBe(expected);
  });

  it('registers the move with when AWSCURRENT moved (the event’s time) and whether a rotation made it', async () => {
    const d = deps(DATABASE_FUNCTION);
    const registerMove = vi.fn(d.ledger.registerMove);
    await claimStep(
      { input: { ...input, movedAt: '2026-12-01T09:58:00Z', byRotation: false }, executionId: 'e5' },
      { ...d, ledger: { ...d.ledger, registerMove } },
    );
    await claimStep({ input, executionId: 'e6' }, { ...d, ledger: { ...d.ledger, registerMove } });
    expect(registerMove.mock.calls.map(([, move]) => move)).toEqual([
      {
        versionId: VERSION,
        at: '2026-12-01T10:00:00.000Z',
        movedAt: '2026-12-01T09:58:00Z',
        trigger: 'event',
        actor: 'eventbridge',
        byRotation: false,
      },
      // A reconcile carries no event time.
      { versionId: VERSION, at: '2026-12-01T10:00:00.000Z', trigger: 'event', actor: 'eventbridge' },
    ]);
  });

  it('ends quietly for a version no longer AWSCURRENT (a late event): nothing registered or claimed, no error', async () => {
    const d = deps(DATABASE_FUNCTION);
    const registerMove = vi.fn(d.ledger.registerMove);
    const claimPropagation = vi.fn(d.ledger.claimPropagation);
    const late = '99999999-2222-4333-8444-555555555555';
    const result = await claimStep(
      { input: { ...input, versionId: late }, executionId: 'e4' },
      { ...d, ledger: { ...d.ledger, registerMove, claimPropagation } },
    );
    expect(result).toEqual({
      claimed: false,
      superseded: true,
      executionId: 'e4',
      secret: { name: 'prod/db', arn: ARN },
      versionId: late,
      currentVersionId: VERSION,
    });
    expect(registerMove).not.toHaveBeenCalled();
    expect(claimPropagation).not.toHaveBeenCalled();
    expect(d.metrics.addMetric).toHaveBeenCalledWith('SupersededPropagationsSkipped', 'Count', 1);
  });
});

/** A claim that was taken (the tests above expect one); a superseded version fails the test. */
function claimed(result: Awaited<ReturnType<typeof claimStep>>) {
  if ('superseded' in result) throw new Error(`unexpectedly superseded: ${result.versionId}`);
  return result;
}

describe('recordStep and noteRollbackStep (issue 10 item 3b)', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf';
  const PREVIOUS = '11111111-2222-4333-8444-555555555555';
  const claim = {
    claimed: true,
    executionId: 'exec-1',
    secret: { name: 'prod/db', arn: ARN, tags: {} },
    versionId: VERSION,
    previousVersionId: PREVIOUS,
    clusters: ['c'],
    moveSeq: 2,
    budget: { inFlight: 5, percent: 25, canary: 1 },
    startedAt: '2026-12-01T10:00:00.000Z',
    trigger: 'scheduled' as const,
    actor: 'sweep',
    retirePrevious: false,
    rotatedBy: 'arn:aws:lambda:eu-west-1:111122223333:function:rotate',
    rollBack: true,
  };
  const cluster = (rolloutsFailed: number, outcome: 'succeeded' | 'failed' = 'failed') => ({
    cluster: 'c',
    outcome,
    synced: [],
    restarted: ['Deployment ns/app'],
    failed:
      rolloutsFailed > 0
        ? ['Deployment ns/app: rollout failed']
        : outcome === 'failed'
          ? ['ExternalSecret ns/es: sync failed']
          : [],
    counts: {
      synced: 1,
      restarted: 1,
      failed: outcome === 'failed' ? 1 : 0,
      nextPod: 0,
      notRestarted: 0,
      rolloutsFailed,
    },
  });
  const deps = () => {
    const finished: unknown[] = [];
    return {
      finished,
      deps: {
        clusters: ['c'],
        now: () => new Date('2026-12-01T10:01:00.000Z'),
        ledger: {
          finishPropagation: async (...args: unknown[]) => {
            finished.push(args);
          },
        },
        logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() },
        metrics: { addMetric: vi.fn() },
      } as unknown as LedgerStepDeps,
    };
  };

  it('asks for a rollback only when the claim allows it and a consumer’s rollout failed', async () => {
    const { deps: d } = deps();
    expect((await recordStep({ claim, clusters: [cluster(1)] }, d)).rollBack).toBe(true);
    // A sync failure never put the new version in front of a consumer: nothing to roll back.
    expect((await recordStep({ claim, clusters: [cluster(0)] }, d)).rollBack).toBe(false);
    expect(
      (await recordStep({ claim: { ...claim, rollBack: false }, clusters: [cluster(1)] }, d)).rollBack,
    ).toBe(false);
    expect((await recordStep({ claim, clusters: [cluster(0, 'succeeded')] }, d)).rollBack).toBe(false);
  });

  // Review 56, finding 5: a start for one of two clusters recorded the whole move as propagated.
  it('records a start for some of the configured clusters as failed, naming those not carried', async () => {
    const { deps: d, finished } = deps();
    const result = await recordStep(
      { claim, clusters: [cluster(0, 'succeeded')] },
      { ...d, clusters: ['c', 'eu-2'] },
    );
    expect(result).toMatchObject({ outcome: 'failed', rollBack: false });
    expect(result.alert.message).toContain('eu-2');
    const [, , , written] = finished[0] as [string, unknown, string, { status: string; clusters: unknown[] }];
    expect(written.status).toBe('failed');
    expect(written.clusters[1]).toEqual({
      cluster: 'eu-2',
      outcome: 'failed',
      synced: [],
      restarted: [],
      failed: ['not carried: this execution was started for other clusters only'],
      counts: { failed: 1 },
    });
  });

  it('notes a rollback in the ledger record (still failed) and in the alert, naming versions only', async () => {
    const { deps: d, finished } = deps();

    const alert = await noteRollbackStep(
      { claim, clusters: [cluster(1)], rolledBack: { status: 'rolled-back', previousVersionId: PREVIOUS } },
      d,
    );

    expect(finished).toHaveLength(1);
    const [secretName, key, executionId, outcome] = finished[0] as [
      string,
      unknown,
      string,
      { status: string; error: string },
    ];
    expect([secretName, key, executionId, outcome.status]).toEqual([
      'prod/db',
      { versionId: VERSION, moveSeq: 2 },
      'exec-1',
      'failed',
    ]);
    expect(outcome.error).toBe(
      `rolled back: AWSCURRENT moved back to version ${PREVIOUS}, and version ${VERSION} has no staging label; that move is propagated like any other`,
    );
    expect(alert.subject).toBe('Propagation failed, rolled back: prod/db');
    expect(JSON.parse(alert.message)).toMatchObject({
      secret: 'prod/db',
      versionId: VERSION,
      rollback: outcome.error,
    });
  });
});
