/**
 * The workflow's Catch path (record-failure) against the real ledger table (moto): a crash after
 * the Claim's write releases that claim instead of blocking every start for the lease, a claim
 * held by another execution is never touched, and a success already recorded is never rewritten
 * as a failure (review M1).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { PropagationClaim } from '../../shared/ledger/ledger-port';
import type { LedgerStepDeps } from '../../shared/workflow/ledger-step-deps';
import { recordFailureStep } from '../../shared/workflow/record-failure-step';

const TABLE = `ledger-${randomUUID()}`;
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const NOW = new Date('2026-11-30T12:00:00.000Z');
const LEASE = { leaseMs: 6 * 3600_000, now: NOW };
const TIMED_OUT = { Error: 'Sandbox.Timedout', Cause: 'Task timed out after 120.00 seconds' };
let ledger: DynamoDbLedger;

beforeAll(async () => {
  const { dynamodb } = localClients(inject('motoEndpoint'));
  await createLedgerTable(dynamodb, TABLE);
  ledger = new DynamoDbLedger(dynamodb, TABLE);
});

const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const newSecret = () => `prod/app-team/rf-${randomUUID().slice(0, 8)}`;

function claimOf(secretName: string, executionId: string): PropagationClaim {
  return {
    secretName,
    secretArn: arnOf(secretName),
    versionId: VERSION,
    moveSeq: 1,
    trigger: 'event',
    actor: 'eventbridge',
    executionId,
    startedAt: NOW.toISOString(),
  };
}

function deps() {
  const metrics = { addMetric: vi.fn(), addDimension: vi.fn() };
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() };
  return { ledger, metrics, logger, now: () => NOW } as unknown as LedgerStepDeps & {
    metrics: typeof metrics;
  };
}

/** The workflow state's claim of `executionId` (what Claim returns), as RecordFailure finds it. */
function workflowClaim(secretName: string, executionId: string) {
  return {
    claimed: true,
    executionId,
    secret: { name: secretName, arn: arnOf(secretName), tags: {} },
    versionId: VERSION,
    moveSeq: 1,
    clusters: ['c1'],
    budget: { inFlight: 25, percent: 25, canary: 1 },
    startedAt: NOW.toISOString(),
    trigger: 'event',
    actor: 'eventbridge',
    retirePrevious: false,
  };
}

async function propagationOf(secretName: string) {
  const entry = (await ledger.history(secretName)).find((e) => e.kind === 'propagation');
  if (entry?.kind !== 'propagation') throw new Error('no propagation entry');
  return entry;
}

describe('record-failure on the real ledger', () => {
  it('releases a claim its own Claim step wrote before crashing, so the next execution can claim', async () => {
    const secret = newSecret();
    await ledger.claimPropagation(claimOf(secret, 'exec-crashed'), LEASE);
    expect(await ledger.claimPropagation(claimOf(secret, 'exec-next'), LEASE)).toMatchObject({
      claimed: false,
    });

    const result = await recordFailureStep(
      {
        state: { secretId: arnOf(secret), versionId: VERSION, moveSeq: 1, error: TIMED_OUT },
        executionId: 'exec-crashed',
      },
      deps(),
    );

    expect(await propagationOf(secret)).toMatchObject({ status: 'failed', executionId: 'exec-crashed' });
    expect((await propagationOf(secret)).error).toContain('Sandbox.Timedout');
    expect(result.alert.subject).toContain('Propagation failed');
    expect(await ledger.claimPropagation(claimOf(secret, 'exec-next'), LEASE)).toEqual({ claimed: true });
  });

  it('leaves a claim held by another execution alone, and still alerts', async () => {
    const secret = newSecret();
    await ledger.claimPropagation(claimOf(secret, 'exec-holder'), LEASE);

    const result = await recordFailureStep(
      {
        state: { secretId: arnOf(secret), versionId: VERSION, moveSeq: 1, error: TIMED_OUT },
        executionId: 'exec-other',
      },
      deps(),
    );

    expect(await propagationOf(secret)).toMatchObject({ status: 'in-progress', executionId: 'exec-holder' });
    expect(result.outcome).toBe('failed');
  });

  it('never rewrites a success that Record wrote before it crashed', async () => {
    const secret = newSecret();
    await ledger.claimPropagation(claimOf(secret, 'exec-a'), LEASE);
    await ledger.finishPropagation(secret, { versionId: VERSION, moveSeq: 1 }, 'exec-a', {
      status: 'succeeded',
      finishedAt: NOW.toISOString(),
      durationMs: 1000,
      clusters: [],
    });
    const d = deps();
    const claim = workflowClaim(secret, 'exec-a');

    const result = await recordFailureStep({ state: { claim, error: TIMED_OUT }, executionId: 'exec-a' }, d);

    expect(await propagationOf(secret)).toMatchObject({ status: 'succeeded' });
    expect(result.alert.subject).toContain('Propagated, then a step failed');
    expect(d.metrics.addMetric).not.toHaveBeenCalledWith('PropagationFailed', 'Count', 1);
  });

  it('still says "propagated" when the summary cannot be brought up to the recorded success (throttled)', async () => {
    // The ledger's summary writes are throttled throughout: Record's outcome lands, its summary
    // write fails (the step dies there), and RecordFailure's catch-up of the summary fails too.
    const { dynamodb } = localClients(inject('motoEndpoint'));
    const throttled = {
      send(command: { input: { Key?: { sk?: { S?: string } } } }) {
        if (command.constructor.name === 'UpdateItemCommand' && command.input.Key?.sk?.S === 'SUMMARY') {
          const error = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
          return Promise.reject(error);
        }
        return dynamodb.send(command as never);
      },
    };
    const summaryThrottled = new DynamoDbLedger(throttled as never, TABLE);
    const secret = newSecret();
    await ledger.claimPropagation(claimOf(secret, 'exec-a'), LEASE);
    await expect(
      summaryThrottled.finishPropagation(secret, { versionId: VERSION, moveSeq: 1 }, 'exec-a', {
        status: 'succeeded',
        finishedAt: NOW.toISOString(),
        durationMs: 1000,
        clusters: [],
      }),
    ).rejects.toThrow();
    const d = { ...deps(), ledger: summaryThrottled } as ReturnType<typeof deps>;
    const claim = workflowClaim(secret, 'exec-a');

    // Before the summary write was best effort, this threw a TransientError: retried 6 times, then
    // the execution ended with no alert at all (RecordFailure has no Catch).
    const result = await recordFailureStep({ state: { claim, error: TIMED_OUT }, executionId: 'exec-a' }, d);

    expect(await propagationOf(secret)).toMatchObject({ status: 'succeeded' });
    expect(result.alert.subject).toContain('Propagated, then a step failed');
    expect(d.metrics.addMetric).not.toHaveBeenCalledWith('PropagationFailed', 'Count', 1);
    expect(d.logger.warn).toHaveBeenCalledWith(
      'the summary still shows the propagation in progress',
      expect.objectContaining({ error: expect.objectContaining({ awsErrorName: 'ThrottlingException' }) }),
    );
  });
});
