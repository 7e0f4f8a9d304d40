import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import {
  PropagationAlreadyFinishedError,
  PropagationHeldByOtherError,
  PropagationNotClaimedError,
} from '../../shared/errors';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { PropagationClaim, WindowWait } from '../../shared/ledger/ledger-port';

/** noteWindowWait against moto's DynamoDB: the wait is shown, and it extends the claim's lease. */
const TABLE = `ledger-${randomUUID()}`;
const NOW = new Date('2026-05-01T12:00:00.000Z');
const LEASE_MS = 60_000;
const KEY = { versionId: 'v-1', moveSeq: 1 };
let ledger: DynamoDbLedger;

beforeAll(async () => {
  const { dynamodb } = localClients(inject('motoEndpoint'));
  await createLedgerTable(dynamodb, TABLE);
  ledger = new DynamoDbLedger(dynamodb, TABLE);
});

const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const uniqueSecret = () => `prod/app-team/window-${randomUUID().slice(0, 8)}`;

function claim(secretName: string, executionId: string, startedAt: Date): PropagationClaim {
  return {
    secretName,
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
    versionId: KEY.versionId,
    moveSeq: KEY.moveSeq,
    trigger: 'event',
    actor: 'eventbridge:rotation-succeeded',
    executionId,
    startedAt: startedAt.toISOString(),
  };
}

function wait(leaseUntil: Date): WindowWait {
  return {
    cluster: 'prod-eu',
    until: at(3_600_000).toISOString(),
    held: 2,
    notedAt: NOW.toISOString(),
    leaseUntil: leaseUntil.toISOString(),
  };
}

describe('DynamoDbLedger.noteWindowWait', () => {
  it('shows the wait on the record and the summary, and no other execution takes the claim before its lease ends', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a', at(-10 * LEASE_MS)), {
      leaseMs: LEASE_MS,
      now: at(-10 * LEASE_MS),
    });

    await ledger.noteWindowWait(secret, KEY, 'exec-a', wait(at(2 * 3_600_000)));

    const [entry] = await ledger.history(secret);
    expect(entry).toMatchObject({ status: 'in-progress', windowWait: { cluster: 'prod-eu', held: 2 } });
    expect((await ledger.summaries([secret])).get(secret)?.lastPropagation?.windowWait?.held).toBe(2);
    // Far past the claim's own lease, but within the wait's: still held.
    const during = await ledger.claimPropagation(claim(secret, 'exec-b', NOW), {
      leaseMs: LEASE_MS,
      now: NOW,
    });
    expect(during).toMatchObject({ claimed: false, existing: { executionId: 'exec-a' } });
    // Past the wait's lease (the holder died waiting): taken over.
    const after = await ledger.claimPropagation(claim(secret, 'exec-c', at(3 * 3_600_000)), {
      leaseMs: LEASE_MS,
      now: at(3 * 3_600_000),
    });
    expect(after.claimed).toBe(true);
  });

  it('a second cluster noting a shorter wait never shortens the lease (clusters wait in parallel)', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a', NOW), { leaseMs: LEASE_MS, now: NOW });
    // Cluster A waits for Saturday (48 h), then cluster B for a window an hour away.
    await ledger.noteWindowWait(secret, KEY, 'exec-a', { ...wait(at(48 * 3_600_000)), cluster: 'a' });
    await ledger.noteWindowWait(secret, KEY, 'exec-a', { ...wait(at(2 * 3_600_000)), cluster: 'b' });

    // Past B's lease, within A's: the execution still waits for A, so nobody may take the move.
    const between = await ledger.claimPropagation(claim(secret, 'exec-b', at(3 * 3_600_000)), {
      leaseMs: LEASE_MS,
      now: at(3 * 3_600_000),
    });
    expect(between).toMatchObject({ claimed: false, existing: { executionId: 'exec-a' } });
    // The shown wait is the one that holds the lease.
    const [entry] = await ledger.history(secret);
    expect(entry).toMatchObject({ status: 'in-progress', windowWait: { cluster: 'a' } });
  });

  it('keeps the wait through the outcome, and the outcome write returns it (Record reads no history)', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a', NOW), { leaseMs: LEASE_MS, now: NOW });
    await ledger.noteWindowWait(secret, KEY, 'exec-a', wait(at(2 * 3_600_000)));

    const recorded = await ledger.finishPropagation(secret, KEY, 'exec-a', {
      status: 'succeeded',
      finishedAt: at(3_600_000).toISOString(),
    });

    expect(recorded).toMatchObject({
      status: 'succeeded',
      executionId: 'exec-a',
      windowWait: { cluster: 'prod-eu', until: at(3_600_000).toISOString() },
    });
    const [entry] = await ledger.history(secret);
    expect(entry).toMatchObject({ status: 'succeeded', windowWait: recorded?.windowWait });
  });

  it('only the holder of an in-progress claim notes a wait', async () => {
    const secret = uniqueSecret();
    await ledger.claimPropagation(claim(secret, 'exec-a', NOW), { leaseMs: LEASE_MS, now: NOW });

    await expect(ledger.noteWindowWait(secret, KEY, 'exec-b', wait(at(LEASE_MS)))).rejects.toThrow(
      PropagationHeldByOtherError,
    );
    await ledger.finishPropagation(secret, KEY, 'exec-a', { status: 'succeeded' });
    await expect(ledger.noteWindowWait(secret, KEY, 'exec-a', wait(at(LEASE_MS)))).rejects.toThrow(
      PropagationAlreadyFinishedError,
    );
  });

  it('refuses a wait for a version nobody claimed, and writes no item', async () => {
    const secret = uniqueSecret();

    await expect(ledger.noteWindowWait(secret, KEY, 'exec-a', wait(at(LEASE_MS)))).rejects.toThrow(
      PropagationNotClaimedError,
    );
    expect(await ledger.history(secret)).toEqual([]);
    expect(await ledger.summaries([secret])).toEqual(new Map());
  });
});
