import { describe, expect, it, vi } from 'vitest';
import { synthLocalStack } from '../../../harness/local-stack';
import { definitionFromTemplate, LocalWorkflow } from '../../../harness/local-workflow';

vi.stubEnv('CDK_VALIDATION', 'false');

/**
 * The synthesized definition's failure paths, run by aws-local-stepfunctions with the step function
 * faked by action: fast checks that every Catch leads where it should (the cluster test runs the
 * same definition against the real parts).
 */
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const { template } = synthLocalStack(
  { managedPrefixes: ['prod/app-team/'], propagation: { clusterNames: ['c1', 'c2'] } },
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
  previousVersionId: 'a'.repeat(36),
  moveSeq: 1,
  clusters: ['c1', 'c2'],
  budget: { inFlight: 5, percent: 25, canary: 1 },
  startedAt: '2026-11-23T10:00:00.000Z',
  trigger: 'emergency',
  actor: 'me',
  retirePrevious: true,
};
const empty = {
  done: true,
  pending: [],
  synced: [],
  failed: [],
  annotatedAt: 'x',
  deadline: 'y',
};

function fakeSteps(overrides: Record<string, (payload: Record<string, unknown>) => unknown>) {
  const calls: Record<string, unknown>[] = [];
  const invoke = async (_arn: string, payload: unknown) => {
    const p = payload as Record<string, unknown>;
    calls.push(p);
    const action = String(p.action);
    if (overrides[action]) return overrides[action](p);
    switch (action) {
      case 'claim':
        return claim;
      case 'plan':
        return { plannedAt: 'x', resync: [], notRefreshing: [] };
      case 'resync':
        return empty;
      case 'advance-restarts':
        return { done: true, invocations: 1 };
      case 'finish-cluster':
        return {
          cluster: (p.state as { cluster: string }).cluster,
          outcome: 'succeeded',
          synced: [],
          restarted: [],
          failed: [],
        };
      case 'record':
        return { outcome: 'succeeded', rollBack: false, alert: { subject: 's', message: 'm' } };
      case 'record-failure':
        return { outcome: 'failed', rollBack: false, alert: { subject: 'failed', message: 'm' } };
      default:
        return {};
    }
  };
  return { invoke, calls };
}

function workflow(invoke: (arn: string, payload: unknown) => Promise<unknown>) {
  const alerts: { Subject?: string; Message: string }[] = [];
  const run = new LocalWorkflow(definition, {
    awsEndpoint: 'http://unused',
    invokeLambda: invoke,
    retryPauseMs: 1,
    publishAlert: async (input) => {
      alerts.push(input);
      return {};
    },
  });
  return { run, alerts };
}

const input = { secretId: secret.arn, versionId: VERSION, trigger: 'emergency', actor: 'me' };

describe('the workflow definition’s paths', () => {
  it('when one cluster’s outcome step fails, records that cluster as failed and still finishes the others', async () => {
    const steps = fakeSteps({
      'finish-cluster': (p) => {
        if ((p.state as { cluster: string }).cluster === 'c1')
          throw Object.assign(new Error('boom'), { name: 'Sandbox.Timedout' });
        return { cluster: 'c2', outcome: 'succeeded', synced: [], restarted: [], failed: [] };
      },
    });
    const { run } = workflow(steps.invoke);

    const execution = await run.run('finish-fails', input);

    const record = steps.calls.find((c) => c.action === 'record') as {
      clusters: { cluster: string; outcome: string; failed: string[] }[];
    };
    expect(record.clusters).toEqual([
      {
        cluster: 'c1',
        outcome: 'failed',
        synced: [],
        restarted: [],
        failed: ['the outcome step failed: Sandbox.Timedout'],
      },
      { cluster: 'c2', outcome: 'succeeded', synced: [], restarted: [], failed: [] },
    ]);
    expect(execution.states).not.toContain('RecordFailure');
    // The Map tells each cluster's outcome step how many share the state (States.ArrayLength).
    const finishes = steps.calls.filter((c) => c.action === 'finish-cluster') as {
      state: { clusterCount?: unknown };
    }[];
    expect(finishes.length).toBeGreaterThanOrEqual(2); // c1's is retried
    expect(new Set(finishes.map((f) => f.state.clusterCount))).toEqual(new Set([2]));
  });

  it('a Claim that keeps failing (a crash after its write) reaches RecordFailure with the execution name and the input', async () => {
    const steps = fakeSteps({
      claim: () => {
        throw Object.assign(new Error('Task timed out'), { name: 'Sandbox.Timedout' });
      },
    });
    const { run, alerts } = workflow(steps.invoke);

    const execution = await run.run('claim-crashes', { ...input, moveSeq: 3 });

    expect(execution.status).toBe('FAILED');
    const recordFailure = steps.calls.find((c) => c.action === 'record-failure') as {
      executionId: string;
      state: { secretId: string; versionId: string; moveSeq: number; claim?: unknown };
    };
    // The name the Claim step was given as its executionId, so record-failure can release that claim.
    const claimCall = steps.calls.find((c) => c.action === 'claim') as { executionId: string };
    expect(recordFailure.executionId).toBe(claimCall.executionId);
    expect(recordFailure.state).toMatchObject({ secretId: secret.arn, versionId: VERSION, moveSeq: 3 });
    expect(recordFailure.state.claim).toBeUndefined();
    expect(alerts).toHaveLength(1);
  });

  it('retries a step whose Lambda crashed (Lambda.Unknown: out of memory, a runtime exit) instead of failing the cluster', async () => {
    let crashes = 1;
    const steps = fakeSteps({
      plan: () => {
        if (crashes-- > 0) throw Object.assign(new Error('Runtime exited'), { name: 'Lambda.Unknown' });
        return { plannedAt: 'x', resync: [], notRefreshing: [] };
      },
    });
    const { run } = workflow(steps.invoke);

    const execution = await run.run('plan-crashes', input);

    expect(execution.status).toBe('SUCCEEDED');
    expect(steps.calls.filter((c) => c.action === 'plan').length).toBe(3);
    expect(execution.states).not.toContain('RecordFailure');
  });

  it('a failed retirement alerts without rewriting the succeeded record', async () => {
    const steps = fakeSteps({
      'retire-previous': () => {
        throw Object.assign(new Error('denied'), { name: 'AwsCallError' });
      },
    });
    const { run, alerts } = workflow(steps.invoke);

    const execution = await run.run('retire-fails', input);

    expect(execution.status).toBe('FAILED');
    expect(steps.calls.map((c) => c.action)).not.toContain('record-failure');
    expect(alerts).toEqual([
      {
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
        Subject: 'Retiring the previous secret version failed',
        Message: `prod/app-team/db (new version ${VERSION}): AwsCallError`,
      },
    ]);
  });

  it('a failed claim records the failure and alerts', async () => {
    const steps = fakeSteps({
      claim: () => {
        throw Object.assign(new Error('not managed'), { name: 'SecretNotManagedError' });
      },
    });
    const { run, alerts } = workflow(steps.invoke);

    const execution = await run.run('claim-fails', input);

    expect(execution.states).toEqual(['Claim', 'RecordFailure', 'Alert', 'PropagationFailed']);
    expect(alerts).toHaveLength(1);
  });
});
