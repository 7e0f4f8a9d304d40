/**
 * The ledger's record of what happened to a secret's versions: the rotation the orchestrator
 * started for a version, and the AWSCURRENT moves that propagations are numbered by.
 */

import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TransientError, toAwsCallError } from '../errors';
import {
  LEDGER_TABLE,
  marshalMap,
  parseMove,
  parseRotation,
  rotationItem,
  rotationKey,
  SUMMARY_SK,
  timeMs,
} from './ledger-items';
import type { MoveRecord, RotationRecord } from './ledger-port';
import { getLedgerItem, itemKey, type LedgerTable, updateSummary } from './ledger-table';

const MOVE_ATTEMPTS = 5;

/**
 * Writes the rotation record of a version if there is none (first writer wins: a retried call
 * never rewrites the audit trail), then points the summary at the stored record.
 */
export async function recordRotation(table: LedgerTable, record: RotationRecord): Promise<void> {
  const item = rotationItem(record);
  let stored = item;
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
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
  await updateSummary(table, rotation.secretName, 'lastRotation', rotation, timeMs(rotation.requestedAt));
}

/**
 * Notes on the version's rotation record (when the orchestrator rotated it) the move that first
 * made it current, once: a later move to that version is then known as a return to it.
 */
async function noteFirstMove(table: LedgerTable, secretName: string, move: MoveRecord): Promise<void> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: itemKey(secretName, rotationKey(move.versionId)),
        UpdateExpression: 'SET #first = :seq',
        ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#first)',
        ExpressionAttributeNames: { '#pk': LEDGER_TABLE.partitionKey, '#first': 'firstMoveSeq' },
        ExpressionAttributeValues: { ':seq': { N: String(move.seq) } },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException))
      throw toAwsCallError('UpdateItem', secretName, error);
  }
}

/** One strongly consistent GetItem: rotation items are keyed by version. */
export async function findRotation(
  table: LedgerTable,
  secretName: string,
  versionId: string,
): Promise<RotationRecord | undefined> {
  const item = await getLedgerItem(table, secretName, rotationKey(versionId));
  return item && parseRotation(item);
}

/**
 * A strongly consistent read of the summary's `currentMove`, then, for a new move, one UpdateItem
 * conditional on the sequence number read (`currentMoveSeq`, a top-level copy the condition can
 * name): two registrations of one move race, one writes, the other re-reads and finds it.
 */
export async function registerMove(
  table: LedgerTable,
  secretName: string,
  move: Omit<MoveRecord, 'seq'>,
): Promise<MoveRecord> {
  for (let attempt = 1; attempt <= MOVE_ATTEMPTS; attempt++) {
    const summary = await getLedgerItem(table, secretName, SUMMARY_SK);
    const stored = summary?.currentMove?.M
      ? parseMove(unmarshall(summary.currentMove.M), `current move of "${secretName}"`)
      : undefined;
    if (stored && stored.versionId === move.versionId) {
      // Again on a replay: a registration that died between its two writes left no note.
      await noteFirstMove(table, secretName, stored);
      return stored;
    }
    const fromVersionId = move.fromVersionId ?? stored?.versionId;
    const next = parseMove(
      { ...move, ...(fromVersionId && { fromVersionId }), seq: (stored?.seq ?? 0) + 1 },
      `move of "${secretName}"`,
    );
    try {
      await table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: itemKey(secretName, SUMMARY_SK),
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
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException))
        throw toAwsCallError('UpdateItem', secretName, error);
      continue;
    }
    // Outside the try: its own errors are already typed (a throttle stays retryable).
    await noteFirstMove(table, secretName, next);
    return next;
  }
  throw new TransientError(
    `The current move of "${secretName}" changed ${MOVE_ATTEMPTS} times while registering one`,
  );
}
