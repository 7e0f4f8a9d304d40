/**
 * Record's freshness metric against the real ledger table (moto): a propagation that waited for a
 * restart window counts from that window's opening, which Record learns from its own outcome write
 * (the UpdateItem's ALL_NEW item), not from a Query on the secret's history.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { LedgerStepDeps } from '../../shared/workflow/ledger-step-deps';
import { FRESHNESS_METRIC } from '../../shared/workflow/propagation-freshness';
import { recordStep } from '../../shared/workflow/record-step';

const TABLE = `ledger-${randomUUID()}`;
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const MOVED_AT = '2026-12-01T10:00:00.000Z';
const VERIFIED_AT = new Date('2026-12-01T10:04:30.000Z');
const KEY = { versionId: VERSION, moveSeq: 1 };
let dynamodb: DynamoDBClient;
let ledger: DynamoDbLedger;
/** The DynamoDB commands the ledger sent, by name (QueryCommand, UpdateItemCommand, …). */
const sent: string[] = [];

beforeAll(async () => {
  dynamodb = localClients(inject('motoEndpoint')).dynamodb;
  dynamodb.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'countLedgerCommands' },
  );
  await createLedgerTable(dynamodb, TABLE);
  ledger = new DynamoDbLedger(dynamodb, TABLE);
});

const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

/** A claimed propagation of a new secret, started when AWSCURRENT moved; the workflow's claim. */
async function claimed() {
  const secretName = `prod/app-team/fresh-${randomUUID().slice(0, 8)}`;
  const executionId = `exec-${randomUUID().slice(0, 8)}`;
  await ledger.claimPropagation(
    {
      secretName,
      secretArn: arnOf(secretName),
      ...KEY,
      trigger: 'event',
      actor: 'eventbridge',
      executionId,
      startedAt: MOVED_AT,
    },
    { leaseMs: 6 * 3600_000, now: new Date(MOVED_AT) },
  );
  return {
    claimed: true,
    executionId,
    secret: { name: secretName, arn: arnOf(secretName), tags: {} },
    ...KEY,
    clusters: ['c1'],
    budget: { inFlight: 5, percent: 100, canary: 0 },
    startedAt: MOVED_AT,
    trigger: 'event' as const,
    actor: 'eventbridge',
    retirePrevious: false,
    movedAt: MOVED_AT,
  };
}

/** Record of a succeeded propagation; the freshness it reported and the commands it sent. */
async function record(claim: Awaited<ReturnType<typeof claimed>>) {
  const metrics = { addMetric: vi.fn(), addDimension: vi.fn() };
  const deps = {
    clusters: ['c1'],
    ledger,
    metrics,
    logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() },
    now: () => VERIFIED_AT,
  } as unknown as LedgerStepDeps;
  const cluster = { cluster: 'c1', outcome: 'succeeded', synced: ['shop/db'], restarted: [], failed: [] };
  sent.length = 0;
  await recordStep({ claim, clusters: [cluster] }, deps);
  const freshness = metrics.addMetric.mock.calls.find(([name]) => name === FRESHNESS_METRIC);
  return { freshnessSeconds: freshness?.[2], commands: [...sent] };
}

describe('Record on the real ledger', () => {
  it('counts freshness from the awaited window’s opening, read back from its own outcome write', async () => {
    const claim = await claimed();
    await ledger.noteWindowWait(claim.secret.name, KEY, claim.executionId, {
      cluster: 'c1',
      until: '2026-12-01T10:03:00.000Z',
      held: 1,
      notedAt: MOVED_AT,
      leaseUntil: '2026-12-01T16:13:00.000Z',
    });

    const { freshnessSeconds, commands } = await record(claim);

    expect(freshnessSeconds).toBe(90);
    // The outcome and the summary: two UpdateItems, and no Query on the history.
    expect(commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('counts from AWSCURRENT moving when nothing waited, with no Query either', async () => {
    const claim = await claimed();

    const { freshnessSeconds, commands } = await record(claim);

    expect(freshnessSeconds).toBe(270);
    expect(commands).not.toContain('QueryCommand');
  });
});
