import { describe, expect, it, vi } from 'vitest';
import { synthLocalStack } from '../../../harness/local-stack';
import { definitionFromTemplate, LocalWorkflow } from '../../../harness/local-workflow';

vi.stubEnv('CDK_VALIDATION', 'false');

/**
 * The synthesized definition's restart-window path, run by aws-local-stepfunctions with the step
 * function faked by action: when the restart step hands back a `waitUntil`, the wait is noted in the
 * ledger once and the execution waits in one Wait state until that instant (TimestampPath), then
 * calls the restart step again. The cluster test (test/cluster/restart-window.test.ts) runs the same
 * definition against the real parts.
 */
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const { template } = synthLocalStack(
  { managedPrefixes: ['prod/app-team/'], propagation: { clusterNames: ['c1'] } },
  { bundle: false },
);
const { definition } = definitionFromTemplate(template, ({ logicalId }) =>
  template.Resources[logicalId]?.Type === 'AWS::SNS::Topic'
    ? 'arn:aws:sns:us-east-1:123456789012:alerts'
    : `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`,
);
const secret = {
  name: 'prod/app-team/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app-team/db-AbCdEf',
  tags: {},
};
const claim = {
  claimed: true,
  executionId: 'x',
  secret,
  versionId: VERSION,
  moveSeq: 1,
  clusters: ['c1'],
  budget: { inFlight: 5, percent: 25, canary: 1 },
  startedAt: '2026-11-23T10:00:00.000Z',
  trigger: 'event',
  actor: 'me',
  retirePrevious: false,
};
const capped = (count: number) => ({ count, items: [] });
const progress = (extra: object) => ({
  done: false,
  invocations: 1,
  verified: 1,
  inFlight: 0,
  pending: 2,
  restarted: capped(1),
  failed: capped(0),
  refused: capped(0),
  nextPod: capped(0),
  notRestarted: capped(0),
  ...extra,
});

function steps(overrides: Record<string, (payload: Record<string, unknown>) => unknown>) {
  const calls: { at: number; payload: Record<string, unknown> }[] = [];
  let advances = 0;
  const invoke = async (_arn: string, payload: unknown) => {
    const p = payload as Record<string, unknown>;
    calls.push({ at: Date.now(), payload: p });
    const action = String(p.action);
    if (overrides[action]) return overrides[action](p);
    switch (action) {
      case 'claim':
        return claim;
      case 'plan':
        return { plannedAt: 'x', resync: [], notRefreshing: [] };
      case 'resync':
        return { done: true, pending: [], synced: [], failed: [], annotatedAt: 'x', deadline: 'y' };
      case 'advance-restarts':
        advances += 1;
        return advances === 1
          ? progress({ held: capped(2), waitUntil: new Date(Date.now() + 400).toISOString() })
          : { ...progress({}), done: true, pending: 0 };
      case 'finish-cluster':
        return { cluster: 'c1', outcome: 'succeeded', synced: [], restarted: [], failed: [] };
      case 'record':
        return { outcome: 'succeeded', rollBack: false, alert: { subject: 's', message: 'm' } };
      default:
        return {};
    }
  };
  return { invoke, calls };
}

function run(invoke: (arn: string, payload: unknown) => Promise<unknown>, name: string) {
  return new LocalWorkflow(definition, {
    awsEndpoint: 'http://unused',
    invokeLambda: invoke,
    retryPauseMs: 1,
    // As the cluster harness: polls shortened, the window's Wait left as defined.
    waitOverrides: { WaitForSync: 1, WaitForRollouts: 1 },
    publishAlert: async () => ({}),
  }).run(name, { secretId: secret.arn, versionId: VERSION, trigger: 'event', actor: 'me' });
}

describe('the workflow definition’s restart-window path', () => {
  it('notes the wait once, waits until waitUntil in one Wait state, then restarts the held consumers', async () => {
    const s = steps({});

    const execution = await run(s.invoke, 'window');

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states.filter((state) => state === 'NoteWindowWait')).toHaveLength(1);
    expect(execution.states.filter((state) => state === 'WaitForWindow')).toHaveLength(1);
    expect(execution.states).not.toContain('WaitForRollouts');
    const note = s.calls.find((c) => c.payload.action === 'note-window-wait');
    const first = s.calls.find((c) => c.payload.action === 'advance-restarts');
    const second = s.calls.filter((c) => c.payload.action === 'advance-restarts')[1];
    const waitUntil = (note?.payload.restarts as { waitUntil: string } | undefined)?.waitUntil ?? '';
    expect(note?.payload).toMatchObject({
      cluster: 'c1',
      secret,
      versionId: VERSION,
      moveSeq: 1,
      executionId: 'window',
      restarts: { held: capped(2) },
    });
    expect(Date.parse(waitUntil)).toBeGreaterThan(first?.at ?? Number.POSITIVE_INFINITY);
    // The restart step is called again only once the instant has come (TimestampPath honoured).
    expect(second?.at).toBeGreaterThanOrEqual(Date.parse(waitUntil) - 5);
  });

  it('a wait that cannot be noted (another execution holds the claim) ends the cluster, never waits', async () => {
    const s = steps({
      'note-window-wait': () => {
        throw Object.assign(new Error('held by another'), { name: 'PropagationHeldByOtherError' });
      },
    });

    const execution = await run(s.invoke, 'taken-over');

    expect(execution.states).toContain('FinishCluster');
    expect(execution.states).not.toContain('WaitForWindow');
    const finish = s.calls.find((c) => c.payload.action === 'finish-cluster');
    expect((finish?.payload.state as { error?: { Error: string } } | undefined)?.error?.Error).toBe(
      'PropagationHeldByOtherError',
    );
    expect(s.calls.filter((c) => c.payload.action === 'advance-restarts')).toHaveLength(1);
  });

  it('the execution may outlast the longest window wait (8 days) plus 6 hours of work', () => {
    expect(definition.TimeoutSeconds).toBe(6 * 3600 + 8 * 86_400);
    const clusters = (
      definition.States as Record<string, { ItemProcessor?: { States: Record<string, unknown> } }>
    ).Clusters;
    expect(clusters?.ItemProcessor?.States.WaitForWindow).toEqual({
      Type: 'Wait',
      QueryLanguage: 'JSONPath',
      TimestampPath: '$.restarts.waitUntil',
      Next: 'AdvanceRestarts',
    });
  });
});
