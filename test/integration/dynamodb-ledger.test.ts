import { randomUUID } from 'node:crypto';
import {
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import {
  AwsCallError,
  LedgerItemInvalidError,
  PropagationAlreadyFinishedError,
  PropagationHeldByOtherError,
  PropagationNotClaimedError,
} from '../../shared/errors';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { PropagationClaim, RotationRecord } from '../../shared/ledger/ledger-port';

const TABLE = `ledger-${randomUUID()}`;
const LEASE = { leaseMs: 60_000, now: new Date('2026-05-01T12:00:00.000Z') };
let dynamodb: DynamoDBClient;
let ledger: DynamoDbLedger;

beforeAll(async () => {
  dynamodb = localClients(inject('motoEndpoint')).dynamodb;
  await createLedgerTable(dynamodb, TABLE);
  ledger = new DynamoDbLedger(dynamodb, TABLE);
});

type BatchKeys = NonNullable<BatchGetItemCommandInput['RequestItems']>[string]['Keys'];
const uniqueSecret = () => `prod/app-team/ledger-${randomUUID().slice(0, 8)}`;

function rotation(secretName: string, versionId: string, requestedAt: string): RotationRecord {
  return {
    secretName,
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
    versionId,
    trigger: 'scheduled',
    actor: 'scheduler',
    requestedAt,
    retirePrevious: true,
  };
}

function claim(
  secretName: string,
  executionId: string,
  startedAt = LEASE.now.toISOString(),
): PropagationClaim {
  return {
    secretName,
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
    versionId: 'v-1',
    trigger: 'event',
    actor: 'eventbridge:rotation-succeeded',
    executionId,
    startedAt,
  };
}

/** The stored item as plain data, read with a consistent GetItem behind the adapter's back. */
async function storedItem(secretName: string, sk: string) {
  const out = await dynamodb.send(
    new GetItemCommand({
      TableName: TABLE,
      Key: { pk: { S: `SECRET#${secretName}` }, sk: { S: sk } },
      ConsistentRead: true,
    }),
  );
  return out.Item && unmarshall(out.Item);
}

describe('DynamoDbLedger rotations and history', () => {
  it('finds a recorded rotation by its version, and nothing for another version', async () => {
    const secret = uniqueSecret();
    const record = { ...rotation(secret, 'v-1', '2026-05-01T10:00:00.000Z'), reason: 'quarterly' };

    await ledger.recordRotation(record);

    expect(await ledger.findRotation(secret, 'v-1')).toEqual(record);
    expect(await ledger.findRotation(secret, 'v-2')).toBeUndefined();
    expect(await storedItem(secret, 'ROTATION#v-1')).toMatchObject({
      kind: 'rotation',
      historyAt: '2026-05-01T10:00:00.000Z#ROTATION#v-1',
      reason: 'quarterly',
    });
  });

  it('keeps the first record of a version when the same version is recorded again', async () => {
    const secret = uniqueSecret();
    await ledger.recordRotation(rotation(secret, 'v-1', '2026-05-01T10:00:00.000Z'));

    await ledger.recordRotation({
      ...rotation(secret, 'v-1', '2026-05-01T11:00:00.000Z'),
      actor: 'someone-else',
    });

    expect(await ledger.findRotation(secret, 'v-1')).toMatchObject({ actor: 'scheduler' });
    const summary = (await ledger.summaries([secret])).get(secret);
    expect(summary?.lastRotation).toMatchObject({
      actor: 'scheduler',
      requestedAt: '2026-05-01T10:00:00.000Z',
    });
  });

  it('lists rotations and propagations newest first, up to the limit', async () => {
    const secret = uniqueSecret();
    await ledger.recordRotation(rotation(secret, 'v-2', '2026-05-01T10:00:00.000Z'));
    // Offsets and precision differ from the others: order is by the instant, not the text.
    await ledger.recordRotation(rotation(secret, 'v-1', '2026-05-01T10:59:00+01:00'));
    await ledger.recordRotation(rotation(secret, 'v-3', '2026-05-01T11:00:00Z'));
    await ledger.claimPropagation({ ...claim(secret, 'exec-a'), versionId: 'v-3' }, LEASE);

    const all = await ledger.history(secret);
    const newestTwo = await ledger.history(secret, { limit: 2 });

    expect(all.map((entry) => `${entry.kind}:${entry.versionId}`)).toEqual([
      'propagation:v-3',
      'rotation:v-3',
      'rotation:v-2',
      'rotation:v-1',
    ]);
    expect(newestTwo.map((entry) => `${entry.kind}:${entry.versionId}`)).toEqual([
      'propagation:v-3',
      'rotation:v-3',
    ]);
    expect(await ledger.history(uniqueSecret())).toEqual([]);
  });

  it('summarises more than 100 secrets, leaving out secrets with no ledger items', async () => {
    const secrets = Array.from({ length: 130 }, uniqueSecret);
    for (const secret of secrets) {
      await ledger.recordRotation(rotation(secret, 'v-new', '2026-05-01T10:00:00.000Z'));
    }
    // Recorded late but older: the summary keeps the newest rotation.
    await ledger.recordRotation(rotation(secrets[0] ?? '', 'v-old', '2026-04-01T10:00:00.000Z'));
    const unknown = uniqueSecret();

    const summaries = await ledger.summaries([...secrets, unknown, ...secrets.slice(0, 5)]);

    expect(summaries.size).toBe(130);
    expect(summaries.has(unknown)).toBe(false);
    expect(summaries.get(secrets[0] ?? '')?.lastRotation?.versionId).toBe('v-new');
    expect(summaries.get(secrets[129] ?? '')).toEqual({
      secretName: secrets[129],
      lastRotation: rotation(secrets[129] ?? '', 'v-new', '2026-05-01T10:00:00.000Z'),
    });
  });

  it('asks again for the keys DynamoDB leaves unprocessed', async () => {
    const secrets = Array.from({ length: 3 }, uniqueSecret);
    for (const secret of secrets) {
      await ledger.recordRotation(rotation(secret, 'v-1', '2026-05-01T10:00:00.000Z'));
    }
    // moto never throttles: this client turns all but the first response of its first two batches
    // into UnprocessedKeys, as DynamoDB does under load.
    const throttled = localClients(inject('motoEndpoint')).dynamodb;
    const requests: number[] = [];
    throttled.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName !== 'BatchGetItemCommand') return result;
        const output = result.output as BatchGetItemCommandOutput;
        const keys = (args.input as BatchGetItemCommandInput).RequestItems?.[TABLE]?.Keys ?? [];
        requests.push(keys.length);
        const [kept, ...left] = output.Responses?.[TABLE] ?? [];
        if (requests.length <= 2 && kept) {
          output.Responses = { [TABLE]: [kept] };
          output.UnprocessedKeys = { [TABLE]: { Keys: left.map(({ pk, sk }) => ({ pk, sk })) as BatchKeys } };
        }
        return result;
      },
      { step: 'initialize', name: 'leaveKeysUnprocessed' },
    );

    const summaries = await new DynamoDbLedger(throttled, TABLE).summaries(secrets);

    expect(requests).toEqual([3, 2, 1]);
    expect([...summaries.keys()].sort()).toEqual([...secrets].sort());
  });

  it('raises a typed error for a corrupted item instead of returning it', async () => {
    const secret = uniqueSecret();
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: `SECRET#${secret}` },
          sk: { S: 'ROTATION#v-1' },
          kind: { S: 'rotation' },
          historyAt: { S: '2026-05-01T10:00:00.000Z#ROTATION#v-1' },
          secretName: { S: secret },
          trigger: { S: 'sometimes' },
        },
      }),
    );

    await expect(ledger.findRotation(secret, 'v-1')).rejects.toThrow(LedgerItemInvalidError);
    await expect(ledger.history(secret)).rejects.toThrow(/trigger/);
  });

  it('turns an SDK failure into an AwsCallError naming the operation', async () => {
    const missing = new DynamoDbLedger(dynamodb, `missing-${randomUUID()}`);

    const failure = missing.findRotation(uniqueSecret(), 'v-1');

    await expect(failure).rejects.toThrow(AwsCallError);
    await expect(failure).rejects.toMatchObject({
      operation: 'GetItem',
      awsErrorName: 'ResourceNotFoundException',
    });
  });
});

describe('DynamoDbLedger propagation claims', () => {
  it('refuses a second execution while the first holds the claim, and returns the holder', async () => {
    const secret = uniqueSecret();
    expect(await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE)).toEqual({ claimed: true });

    const second = await ledger.claimPropagation(claim(secret, 'exec-b'), LEASE);

    expect(second).toEqual({
      claimed: false,
      existing: { ...claim(secret, 'exec-a'), status: 'in-progress' },
    });
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toMatchObject({ executionId: 'exec-a' });
    expect((await ledger.summaries([secret])).get(secret)?.lastPropagation?.executionId).toBe('exec-a');
  });

  it('lets the same execution claim again (a retried task)', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);

    const again = await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);

    expect(again).toEqual({ claimed: true });
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toMatchObject({
      executionId: 'exec-a',
      status: 'in-progress',
    });
  });

  it('lets another execution take over a failed propagation, clearing the old outcome', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);
    await ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-a', {
      status: 'failed',
      finishedAt: '2026-05-01T12:00:05.000Z',
      error: 'RolloutTimeoutError: deployment/api did not become ready',
    });

    const retry = await ledger.claimPropagation(claim(secret, 'exec-b', '2026-05-01T12:01:00.000Z'), LEASE);

    expect(retry).toEqual({ claimed: true });
    const stored = await storedItem(secret, 'PROPAGATION#v-1#1');
    expect(stored).toMatchObject({ executionId: 'exec-b', status: 'in-progress' });
    expect(stored).not.toHaveProperty('error');
    expect(stored).not.toHaveProperty('finishedAt');
  });

  it('refuses a succeeded propagation to every other execution', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);
    await ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-a', {
      status: 'succeeded',
    });

    const later = await ledger.claimPropagation(claim(secret, 'exec-b'), { ...LEASE, leaseMs: 0 });

    expect(later).toMatchObject({ claimed: false, existing: { executionId: 'exec-a', status: 'succeeded' } });
  });

  it.each([
    ['older than the lease: taken over', 60_001, true],
    ['exactly the lease: still held', 60_000, false],
    ['younger than the lease: still held', 59_999, false],
  ])('an in-progress claim %s', async (_name, ageMs, takenOver) => {
    const secret = uniqueSecret();
    const startedAt = new Date(LEASE.now.getTime() - ageMs).toISOString();
    await ledger.claimPropagation(claim(secret, 'exec-dead', startedAt), LEASE);

    const result = await ledger.claimPropagation(claim(secret, 'exec-b'), LEASE);

    expect(result.claimed).toBe(takenOver);
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toMatchObject({
      executionId: takenOver ? 'exec-b' : 'exec-dead',
    });
  });

  it('records the holder’s outcome on the claim and in the summary', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);
    const clusters = [
      {
        cluster: 'prod-eu',
        outcome: 'succeeded' as const,
        synced: ['app/db'],
        restarted: ['app/api'],
        failed: [],
      },
    ];

    await ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-a', {
      status: 'succeeded',
      finishedAt: '2026-05-01T12:00:09.000Z',
      durationMs: 9000,
      clusters,
    });

    const expected = {
      ...claim(secret, 'exec-a'),
      status: 'succeeded',
      finishedAt: '2026-05-01T12:00:09.000Z',
      durationMs: 9000,
      clusters,
    };
    expect(await ledger.history(secret)).toEqual([{ kind: 'propagation', ...expected }]);
    expect((await ledger.summaries([secret])).get(secret)?.lastPropagation).toEqual(expected);
  });

  it('refuses an outcome from an execution that does not hold the claim, and changes nothing', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);
    const before = await storedItem(secret, 'PROPAGATION#v-1#1');

    const stale = ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-stale', {
      status: 'failed',
      error: 'late',
    });

    await expect(stale).rejects.toThrow(PropagationHeldByOtherError);
    await expect(stale).rejects.toMatchObject({
      code: 'PROPAGATION_HELD_BY_OTHER',
      holderExecutionId: 'exec-a',
    });
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toEqual(before);
    expect((await ledger.summaries([secret])).get(secret)?.lastPropagation?.status).toBe('in-progress');
  });

  it('refuses an outcome for a version nobody claimed, and writes no item', async () => {
    const secret = uniqueSecret();

    const orphan = ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-a', {
      status: 'succeeded',
    });

    await expect(orphan).rejects.toThrow(PropagationNotClaimedError);
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toBeUndefined();
  });

  it('leaves a recorded outcome alone when only an in-progress propagation may be finished', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);
    await ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-a', {
      status: 'succeeded',
    });
    const before = await storedItem(secret, 'PROPAGATION#v-1#1');

    const late = ledger.finishPropagation(
      secret,
      { versionId: 'v-1', moveSeq: 1 },
      'exec-a',
      { status: 'failed', error: 'late' },
      { onlyInProgress: true },
    );

    await expect(late).rejects.toThrow(PropagationAlreadyFinishedError);
    await expect(late).rejects.toMatchObject({ code: 'PROPAGATION_ALREADY_FINISHED', status: 'succeeded' });
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toEqual(before);
  });

  it('brings a summary left behind up to the recorded outcome when the holder finishes again (fault row Q)', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a'), LEASE);
    // Record killed between its two writes: the outcome is stored, the summary still says in progress.
    const killedBeforeSummary = {
      send: (command: unknown) =>
        command instanceof UpdateItemCommand && command.input.Key?.sk?.S === 'SUMMARY'
          ? Promise.reject(new Error('the step host died'))
          : dynamodb.send(command as never),
    } as unknown as DynamoDBClient;
    await expect(
      new DynamoDbLedger(killedBeforeSummary, TABLE).finishPropagation(
        secret,
        { versionId: 'v-1', moveSeq: 1 },
        'exec-a',
        { status: 'succeeded' },
      ),
    ).rejects.toThrow(AwsCallError);
    expect((await ledger.summaries([secret])).get(secret)?.lastPropagation?.status).toBe('in-progress');
    const before = await storedItem(secret, 'PROPAGATION#v-1#1');

    // RecordFailure, after Record's retries ran out: the outcome stays, the summary catches up.
    const late = ledger.finishPropagation(
      secret,
      { versionId: 'v-1', moveSeq: 1 },
      'exec-a',
      { status: 'failed', error: 'Lambda.Unknown' },
      { onlyInProgress: true },
    );

    await expect(late).rejects.toThrow(PropagationAlreadyFinishedError);
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toEqual(before);
    expect((await ledger.summaries([secret])).get(secret)?.lastPropagation?.status).toBe('succeeded');
  });

  it('gives exactly one claim to the same trigger replayed by three executions', async () => {
    const secret = uniqueSecret();
    const results = [];
    for (const executionId of ['exec-1', 'exec-2', 'exec-3']) {
      results.push(await ledger.claimPropagation(claim(secret, executionId), LEASE));
    }

    expect(results.map((result) => result.claimed)).toEqual([true, false, false]);
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toMatchObject({ executionId: 'exec-1' });
  });

  it.each([2, 10])('gives exactly one claim to %i executions claiming at once', async (count) => {
    const secret = uniqueSecret();
    const executions = Array.from({ length: count }, (_, index) => `exec-${index}`);

    const results = await Promise.all(
      executions.map((executionId) => ledger.claimPropagation(claim(secret, executionId), LEASE)),
    );

    const winners = executions.filter((_, index) => results[index]?.claimed);
    expect(winners).toHaveLength(1);
    const stored = await storedItem(secret, 'PROPAGATION#v-1#1');
    expect(stored).toMatchObject({ executionId: winners[0], status: 'in-progress' });
    for (const result of results) {
      if (!result.claimed) expect(result.existing.executionId).toBe(winners[0]);
    }
  });
});

describe('DynamoDbLedger AWSCURRENT moves', () => {
  const move = (versionId: string, fromVersionId?: string) => ({
    versionId,
    fromVersionId,
    at: LEASE.now.toISOString(),
    trigger: 'event' as const,
    actor: 'eventbridge',
  });

  it('numbers each move; a version made current again (a rollback) is a new move, a replay is not', async () => {
    const secret = uniqueSecret();
    expect((await ledger.registerMove(secret, move('v-1'))).seq).toBe(1);
    expect((await ledger.registerMove(secret, move('v-1'))).seq).toBe(1);
    expect((await ledger.registerMove(secret, move('v-2', 'v-1'))).seq).toBe(2);
    const rollback = await ledger.registerMove(secret, move('v-1', 'v-2'));
    expect(rollback).toEqual({ ...move('v-1', 'v-2'), seq: 3 });
    expect((await ledger.summaries([secret])).get(secret)?.currentMove).toEqual(rollback);
  });

  // Review 56, finding 2: roll-back.ts removes AWSPREVIOUS, so the claim finds none to name.
  it('records a move with no AWSPREVIOUS as from the previous move’s version', async () => {
    const secret = uniqueSecret();
    await ledger.registerMove(secret, move('v-1'));
    await ledger.registerMove(secret, move('v-2', 'v-1'));

    const rollback = await ledger.registerMove(secret, { ...move('v-1'), byRotation: false });

    expect(rollback).toEqual({ ...move('v-1', 'v-2'), byRotation: false, seq: 3 });
    expect((await ledger.summaries([secret])).get(secret)?.currentMove).toEqual(rollback);
  });

  it('notes on a rotated version’s record the move that first made it current, once', async () => {
    const secret = uniqueSecret();
    await ledger.recordRotation(rotation(secret, 'v-1', '2026-05-01T10:00:00.000Z'));
    await ledger.registerMove(secret, move('v-0'));
    await ledger.registerMove(secret, move('v-1', 'v-0'));
    await ledger.registerMove(secret, move('v-1', 'v-0'));
    expect((await ledger.findRotation(secret, 'v-1'))?.firstMoveSeq).toBe(2);

    await ledger.registerMove(secret, move('v-2', 'v-1'));
    const back = await ledger.registerMove(secret, move('v-1'));

    expect(back.seq).toBe(4);
    expect((await ledger.findRotation(secret, 'v-1'))?.firstMoveSeq).toBe(2);
    // A version the orchestrator did not rotate has no record, and none is made.
    expect(await ledger.findRotation(secret, 'v-0')).toBeUndefined();
  });

  it('gives every one of 5 concurrent registrations of one move the same number', async () => {
    const secret = uniqueSecret();
    await ledger.registerMove(secret, move('v-1'));
    const results = await Promise.all(
      Array.from({ length: 5 }, () => ledger.registerMove(secret, move('v-2', 'v-1'))),
    );
    expect(new Set(results.map((r) => r.seq))).toEqual(new Set([2]));
  });

  it('claims each move of a version separately: the rollback’s claim is a new item beside the first', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation({ ...claim(secret, 'exec-1'), moveSeq: 1 }, LEASE);
    await ledger.finishPropagation(secret, { versionId: 'v-1', moveSeq: 1 }, 'exec-1', {
      status: 'succeeded',
    });

    const again = await ledger.claimPropagation({ ...claim(secret, 'exec-3'), moveSeq: 3 }, LEASE);

    expect(again).toEqual({ claimed: true });
    expect(await storedItem(secret, 'PROPAGATION#v-1#1')).toMatchObject({ status: 'succeeded' });
    expect(await storedItem(secret, 'PROPAGATION#v-1#3')).toMatchObject({
      executionId: 'exec-3',
      moveSeq: 3,
    });
  });
});
