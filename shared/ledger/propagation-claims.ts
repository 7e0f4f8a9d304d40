/**
 * The exactly-once lock on a propagation: the claim (a conditional PutItem on the propagation
 * item), the holder's lease extension while it waits for a restart window, and its outcome. Every
 * write here is conditional on who holds the item, then refreshes the summary.
 */

import {
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  describeError,
  PropagationAlreadyFinishedError,
  PropagationHeldByOtherError,
  PropagationNotClaimedError,
  toAwsCallError,
} from '../errors';
import {
  claimItem,
  type Item,
  LEDGER_TABLE,
  marshal,
  parseOutcome,
  parsePropagation,
  parseWindowWait,
  propagationKey,
  timeMs,
} from './ledger-items';
import type {
  ClaimResult,
  PropagationClaim,
  PropagationKey,
  PropagationRecord,
  WindowWait,
} from './ledger-port';
import { itemKey, type LedgerTable, updateSummary } from './ledger-table';

/**
 * Who may take a propagation over: nobody yet, the same execution, a failed attempt, or an expired
 * lease (from the claim's start, or past the end of a restart window the holder waits for).
 */
const CLAIM_CONDITION =
  'attribute_not_exists(#pk) OR #executionId = :executionId OR #status = :failed' +
  ' OR (#status = :inProgress AND #startedAtMs < :leaseCutoff' +
  ' AND (attribute_not_exists(#leaseUntilMs) OR #leaseUntilMs < :nowMs))';

/**
 * One conditional PutItem on `PROPAGATION#<versionId>#<move seq>`: the write itself is the lock, so of any
 * number of concurrent or replayed claims exactly one succeeds. A refused claim gets the holder
 * from the same call (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). A successful claim replaces
 * the whole item, so nothing of an earlier attempt's outcome survives.
 */
export async function claimPropagation(
  table: LedgerTable,
  claim: PropagationClaim,
  options: { readonly leaseMs: number; readonly now: Date },
): Promise<ClaimResult> {
  const item = claimItem(claim);
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
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
  await updateSummary(table, claim.secretName, 'lastPropagation', record, timeMs(record.startedAt));
  return { claimed: true };
}

/**
 * Records the outcome with one UpdateItem conditional on `executionId = :me`: an execution whose
 * lease was taken over gets {@link PropagationHeldByOtherError}, one that never claimed gets
 * {@link PropagationNotClaimedError}, and the item is left as it was. With `onlyInProgress`, the
 * holder whose outcome is recorded already gets {@link PropagationAlreadyFinishedError}, once the
 * summary is brought up to that outcome (the attempt that wrote it may have died before the summary).
 * Returns the item as written (ALL_NEW, which the write returns anyway): Record reads the window
 * wait it kept there, with no Query of its own.
 */
export async function finishPropagation(
  table: LedgerTable,
  secretName: string,
  key: PropagationKey,
  executionId: string,
  result: Pick<PropagationRecord, 'status' | 'finishedAt' | 'durationMs' | 'clusters' | 'error'>,
  options: { readonly onlyInProgress?: boolean } = {},
): Promise<PropagationRecord | undefined> {
  const outcome = parseOutcome(result, `outcome for "${secretName}"`);
  const fields = ['status', 'finishedAt', 'durationMs', 'clusters', 'error'] as const;
  const set = fields.filter((field) => outcome[field] !== undefined);
  const remove = fields.filter((field) => outcome[field] === undefined);
  return updateHeldPropagation(table, secretName, key, executionId, {
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
export async function noteWindowWait(
  table: LedgerTable,
  secretName: string,
  key: PropagationKey,
  executionId: string,
  wait: WindowWait,
): Promise<void> {
  const valid = parseWindowWait(wait, `window wait for "${secretName}"`);
  await updateHeldPropagation(table, secretName, key, executionId, {
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

/**
 * One UpdateItem on a claimed propagation item whose condition requires `#executionId =
 * :executionId` (the caller's expression, names and values), then the summary. A refused
 * condition is judged from the item as it was (ALL_OLD): none is {@link PropagationNotClaimedError},
 * another holder's {@link PropagationHeldByOtherError}, a finished one
 * {@link PropagationAlreadyFinishedError}. Ours and in progress leaves only the caller's own extra
 * condition (a window wait's longer lease, already held by another cluster's wait): nothing to do,
 * and no record returned. Otherwise the record as written.
 */
async function updateHeldPropagation(
  table: LedgerTable,
  secretName: string,
  key: PropagationKey,
  executionId: string,
  update: Pick<
    UpdateItemCommandInput,
    'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >,
): Promise<PropagationRecord | undefined> {
  let updated: Item | undefined;
  try {
    const out = await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: itemKey(secretName, propagationKey(key)),
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
      const summaryNotUpdated = await updateSummary(
        table,
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
    return undefined;
  }
  if (!updated) return undefined;
  const record = parsePropagation(updated);
  await updateSummary(table, secretName, 'lastPropagation', record, timeMs(record.startedAt));
  return record;
}
