import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { fullJitterDelay } from '../concurrency';
import {
  AwsCallError,
  describeError,
  PropagationAlreadyFinishedError,
  PropagationHeldByOtherError,
  PropagationNotClaimedError,
  TransientError,
  toAwsCallError,
} from '../errors';
import {
  claimItem,
  type Item,
  LEDGER_TABLE,
  marshal,
  marshalMap,
  parseLedgerEntry,
  parseMove,
  parseOutcome,
  parsePropagation,
  parseRotation,
  parseSummary,
  parseWindowWait,
  propagationKey,
  rotationItem,
  rotationKey,
  SUMMARY_SK,
  secretKey,
  timeMs,
} from './ledger-items';
import type {
  ClaimResult,
  LedgerEntry,
  LedgerPort,
  MoveRecord,
  PropagationClaim,
  PropagationKey,
  PropagationRecord,
  RotationRecord,
  SecretLedgerSummary,
  WindowWait,
} from './ledger-port';

const DEFAULT_HISTORY_LIMIT = 50;
const BATCH_GET_MAX_KEYS = 100;
const BATCH_GET_ATTEMPTS = 8;
const MOVE_ATTEMPTS = 5;

/**
 * Who may take a propagation over: nobody yet, the same execution, a failed attempt, or an expired
 * lease (from the claim's start, or past the end of a restart window the holder waits for).
 */
const CLAIM_CONDITION =
  'attribute_not_exists(#pk) OR #executionId = :executionId OR #status = :failed' +
  ' OR (#status = :inProgress AND #startedAtMs < :leaseCutoff' +
  ' AND (attribute_not_exists(#leaseUntilMs) OR #leaseUntilMs < :nowMs))';

/**
 * {@link LedgerPort} over one DynamoDB table (layout in ledger-items.ts). The client is the caller's.
 *
 * Each decision is one conditional write on one item; the SUMMARY item is a copy written after it,
 * only ever replaced by something newer (`last…Order`, epoch ms, only grows). A crash between the
 * two leaves the summary one step behind until the next write for that secret: the holder's retry
 * (same executionId) or the next rotation rewrites it. Never read the summary to decide anything.
 *
 * @example
 * const ledger = new DynamoDbLedger(new DynamoDBClient({}), config.ledgerTableName);
 * const claim = await ledger.claimPropagation(claimOf(rotation), { leaseMs: 15 * 60_000, now: new Date() });
 * if (!claim.claimed) return { skipped: true, holder: claim.existing.executionId };
 */
export class DynamoDbLedger implements LedgerPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Writes the rotation record of a version if there is none (first writer wins: a retried call
   * never rewrites the audit trail), then points the summary at the stored record.
   */
  async recordRotation(record: RotationRecord): Promise<void> {
    const item = rotationItem(record);
    let stored = item;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': LEDGER_TABLE.partitionKey },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw toAwsCallError('PutItem', record.secretName, error);
      }
      // ALL_OLD returns the stored record; without it (an item deleted since) ours is the best copy.
      stored = error.Item ?? item;
    }
    const rotation = parseRotation(stored);
    await this.updateSummary(rotation.secretName, 'lastRotation', rotation, timeMs(rotation.requestedAt));
  }

  /** One strongly consistent GetItem: rotation items are keyed by version. */
  async findRotation(secretName: string, versionId: string): Promise<RotationRecord | undefined> {
    const item = await this.getItem(secretName, rotationKey(versionId));
    return item && parseRotation(item);
  }

  /**
   * A strongly consistent read of the summary's `currentMove`, then, for a new move, one UpdateItem
   * conditional on the sequence number read (`currentMoveSeq`, a top-level copy the condition can
   * name): two registrations of one move race, one writes, the other re-reads and finds it.
   */
  async registerMove(secretName: string, move: Omit<MoveRecord, 'seq'>): Promise<MoveRecord> {
    for (let attempt = 1; attempt <= MOVE_ATTEMPTS; attempt++) {
      const summary = await this.getItem(secretName, SUMMARY_SK);
      const stored = summary?.currentMove?.M
        ? parseMove(unmarshall(summary.currentMove.M), `current move of "${secretName}"`)
        : undefined;
      if (stored && stored.versionId === move.versionId) return stored;
      const next = parseMove({ ...move, seq: (stored?.seq ?? 0) + 1 }, `move of "${secretName}"`);
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: this.key(secretName, SUMMARY_SK),
            UpdateExpression: 'SET #move = :move, #seq = :seq, #secretName = :secretName',
            ConditionExpression: stored ? '#seq = :storedSeq' : 'attribute_not_exists(#seq)',
            ExpressionAttributeNames: {
              '#move': 'currentMove',
              '#seq': 'currentMoveSeq',
              '#secretName': 'secretName',
            },
            ExpressionAttributeValues: {
              ':move': { M: marshalMap(next) },
              ':seq': { N: String(next.seq) },
              ':secretName': { S: secretName },
              ...(stored ? { ':storedSeq': { N: String(stored.seq) } } : {}),
            },
          }),
        );
        return next;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException))
          throw toAwsCallError('UpdateItem', secretName, error);
      }
    }
    throw new TransientError(
      `The current move of "${secretName}" changed ${MOVE_ATTEMPTS} times while registering one`,
    );
  }

  /**
   * One conditional PutItem on `PROPAGATION#<versionId>#<move seq>`: the write itself is the lock, so of any
   * number of concurrent or replayed claims exactly one succeeds. A refused claim gets the holder
   * from the same call (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). A successful claim replaces
   * the whole item, so nothing of an earlier attempt's outcome survives.
   */
  async claimPropagation(
    claim: PropagationClaim,
    options: { readonly leaseMs: number; readonly now: Date },
  ): Promise<ClaimResult> {
    const item = claimItem(claim);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: CLAIM_CONDITION,
          ExpressionAttributeNames: {
            '#pk': LEDGER_TABLE.partitionKey,
            '#executionId': 'executionId',
            '#status': 'status',
            '#startedAtMs': 'startedAtMs',
            '#leaseUntilMs': 'leaseUntilMs',
          },
          ExpressionAttributeValues: {
            ':executionId': { S: claim.executionId },
            ':failed': { S: 'failed' },
            ':inProgress': { S: 'in-progress' },
            ':leaseCutoff': { N: String(options.now.getTime() - options.leaseMs) },
            ':nowMs': { N: String(options.now.getTime()) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw toAwsCallError('PutItem', claim.secretName, error);
      }
      // The condition fails only on an existing item, which ALL_OLD returns; if it has vanished
      // since, the caller's retry claims it.
      if (!error.Item) throw toAwsCallError('PutItem', claim.secretName, error);
      return { claimed: false, existing: parsePropagation(error.Item) };
    }
    const record = parsePropagation(item);
    await this.updateSummary(claim.secretName, 'lastPropagation', record, timeMs(record.startedAt));
    return { claimed: true };
  }

  /**
   * Records the outcome with one UpdateItem conditional on `executionId = :me`: an execution whose
   * lease was taken over gets {@link PropagationHeldByOtherError}, one that never claimed gets
   * {@link PropagationNotClaimedError}, and the item is left as it was. With `onlyInProgress`, the
   * holder whose outcome is recorded already gets {@link PropagationAlreadyFinishedError}, once the
   * summary is brought up to that outcome (the attempt that wrote it may have died before the summary).
   */
  async finishPropagation(
    secretName: string,
    key: PropagationKey,
    executionId: string,
    result: Pick<PropagationRecord, 'status' | 'finishedAt' | 'durationMs' | 'clusters' | 'error'>,
    options: { readonly onlyInProgress?: boolean } = {},
  ): Promise<void> {
    const outcome = parseOutcome(result, `outcome for "${secretName}"`);
    const fields = ['status', 'finishedAt', 'durationMs', 'clusters', 'error'] as const;
    const set = fields.filter((field) => outcome[field] !== undefined);
    const remove = fields.filter((field) => outcome[field] === undefined);
    await this.updateHeldPropagation(secretName, key, executionId, {
      UpdateExpression:
        `SET ${set.map((field) => `#${field} = :${field}`).join(', ')}` +
        (remove.length ? ` REMOVE ${remove.map((field) => `#${field}`).join(', ')}` : ''),
      ConditionExpression: options.onlyInProgress
        ? '#executionId = :executionId AND #status = :inProgress'
        : '#executionId = :executionId',
      ExpressionAttributeNames: Object.fromEntries(
        [...fields, 'executionId'].map((field) => [`#${field}`, field]),
      ),
      ExpressionAttributeValues: {
        ':executionId': { S: executionId },
        ...(options.onlyInProgress ? { ':inProgress': { S: 'in-progress' } } : {}),
        ...Object.fromEntries(set.map((field) => [`:${field}`, marshal(outcome[field])])),
      },
    });
  }

  /**
   * One UpdateItem conditional on the holder and `in-progress`: the wait (for `rotator status`)
   * and `leaseUntilMs`, which the claim's condition honours. Then the summary, like every write.
   * The lease only grows: clusters wait in parallel, and a second cluster's nearer window must not
   * shorten the lease the first one's later window needs (the execution still waits for it). A
   * nearer wait leaves the record as it is; the wait shown is the one that holds the lease.
   */
  async noteWindowWait(
    secretName: string,
    key: PropagationKey,
    executionId: string,
    wait: WindowWait,
  ): Promise<void> {
    const valid = parseWindowWait(wait, `window wait for "${secretName}"`);
    await this.updateHeldPropagation(secretName, key, executionId, {
      UpdateExpression: 'SET #windowWait = :wait, #leaseUntilMs = :leaseUntilMs',
      ConditionExpression:
        '#executionId = :executionId AND #status = :inProgress' +
        ' AND (attribute_not_exists(#leaseUntilMs) OR #leaseUntilMs < :leaseUntilMs)',
      ExpressionAttributeNames: {
        '#windowWait': 'windowWait',
        '#leaseUntilMs': 'leaseUntilMs',
        '#executionId': 'executionId',
        '#status': 'status',
      },
      ExpressionAttributeValues: {
        ':wait': marshal(valid),
        ':leaseUntilMs': { N: String(timeMs(valid.leaseUntil)) },
        ':executionId': { S: executionId },
        ':inProgress': { S: 'in-progress' },
      },
    });
  }

  /** A Query on the history index, newest first, paged (paginateQuery) until `limit` entries (default 50). */
  async history(secretName: string, options: { readonly limit?: number } = {}): Promise<LedgerEntry[]> {
    const limit = Math.floor(options.limit ?? DEFAULT_HISTORY_LIMIT);
    if (limit < 1) return [];
    const pages = paginateQuery(
      { client: this.client, pageSize: limit },
      {
        TableName: this.tableName,
        IndexName: LEDGER_TABLE.historyIndex,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': LEDGER_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: secretKey(secretName) } },
        ScanIndexForward: false,
      },
    );
    const items = await this.call('Query', secretName, async () => {
      const read: Item[] = [];
      for await (const page of pages) {
        read.push(...(page.Items ?? []));
        if (read.length >= limit) break;
      }
      return read;
    });
    return items.slice(0, limit).map(parseLedgerEntry);
  }

  /** BatchGetItem of the SUMMARY items, 100 keys a call, sequentially. */
  async summaries(secretNames: readonly string[]): Promise<Map<string, SecretLedgerSummary>> {
    const names = [...new Set(secretNames)];
    const result = new Map<string, SecretLedgerSummary>();
    for (let start = 0; start < names.length; start += BATCH_GET_MAX_KEYS) {
      const keys = names.slice(start, start + BATCH_GET_MAX_KEYS).map((name) => this.key(name, SUMMARY_SK));
      for (const item of await this.batchGet(keys)) {
        const summary = parseSummary(item);
        result.set(summary.secretName, summary);
      }
    }
    return result;
  }

  /** One BatchGetItem, retrying UnprocessedKeys with exponential backoff (50 ms doubling, 8 attempts). */
  private async batchGet(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > BATCH_GET_ATTEMPTS) {
        throw new AwsCallError(
          'BatchGetItem',
          'UnprocessedKeys',
          undefined,
          `BatchGetItem on "${this.tableName}" left ${pending.length} keys unprocessed after ${BATCH_GET_ATTEMPTS} attempts`,
        );
      }
      if (attempt > 1) await sleep(fullJitterDelay(attempt - 1, 50, 3_200));
      const request = { [this.tableName]: { Keys: pending } };
      const out = await this.call('BatchGetItem', this.tableName, () =>
        this.client.send(new BatchGetItemCommand({ RequestItems: request })),
      );
      items.push(...(out.Responses?.[this.tableName] ?? []));
      pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return items;
  }

  /**
   * One UpdateItem on a claimed propagation item whose condition requires `#executionId =
   * :executionId` (the caller's expression, names and values), then the summary. A refused
   * condition is judged from the item as it was (ALL_OLD): none is {@link PropagationNotClaimedError},
   * another holder's {@link PropagationHeldByOtherError}, a finished one
   * {@link PropagationAlreadyFinishedError}. Ours and in progress leaves only the caller's own extra
   * condition (a window wait's longer lease, already held by another cluster's wait): nothing to do.
   */
  private async updateHeldPropagation(
    secretName: string,
    key: PropagationKey,
    executionId: string,
    update: Pick<
      UpdateItemCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<void> {
    let updated: Item | undefined;
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(secretName, propagationKey(key)),
          ...update,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      updated = out.Attributes;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) {
        throw toAwsCallError('UpdateItem', secretName, error);
      }
      if (!error.Item) throw new PropagationNotClaimedError(secretName, key.versionId);
      const held = parsePropagation(error.Item);
      if (held.executionId !== executionId) {
        throw new PropagationHeldByOtherError(secretName, key.versionId, executionId, held.executionId);
      }
      if (held.status !== 'in-progress') {
        // Our own outcome, recorded by an attempt that died before its summary write (fault row
        // Q: Record killed after its UpdateItem, then RecordFailure): the summary, still saying
        // in progress, would hold off the reconcile for the whole lease. Bring it up to the outcome,
        // best effort: whether that write works must not change what the caller learns (the outcome
        // is recorded), or a throttled summary would turn a success into a failure alert.
        const summaryNotUpdated = await this.updateSummary(
          secretName,
          'lastPropagation',
          held,
          timeMs(held.startedAt),
        ).then(
          () => undefined,
          (e: unknown) => describeError(e),
        );
        throw new PropagationAlreadyFinishedError(secretName, key.versionId, held.status, summaryNotUpdated);
      }
      return;
    }
    if (!updated) return;
    const record = parsePropagation(updated);
    await this.updateSummary(secretName, 'lastPropagation', record, timeMs(record.startedAt));
  }

  /**
   * Points the summary's `field` at `record` unless it already holds something newer (by `orderMs`,
   * ties replace, so a finish overwrites its own claim). A refused condition is that newer copy: fine.
   */
  private async updateSummary(
    secretName: string,
    field: 'lastRotation' | 'lastPropagation',
    record: RotationRecord | PropagationRecord,
    orderMs: number,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(secretName, SUMMARY_SK),
          UpdateExpression: 'SET #field = :record, #order = :order, #secretName = :secretName',
          ConditionExpression: 'attribute_not_exists(#order) OR #order <= :order',
          ExpressionAttributeNames: {
            '#field': field,
            '#order': `${field}Order`,
            '#secretName': 'secretName',
          },
          ExpressionAttributeValues: {
            ':record': marshal(record),
            ':order': { N: String(orderMs) },
            ':secretName': { S: secretName },
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw toAwsCallError('UpdateItem', secretName, error);
    }
  }

  private async getItem(secretName: string, sk: string): Promise<Item | undefined> {
    const out = await this.call('GetItem', secretName, () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: this.key(secretName, sk),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item;
  }

  private key(secretName: string, sk: string): Item {
    return { [LEDGER_TABLE.partitionKey]: { S: secretKey(secretName) }, [LEDGER_TABLE.sortKey]: { S: sk } };
  }

  private async call<T>(operation: string, subject: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toAwsCallError(operation, subject, error);
    }
  }
}
