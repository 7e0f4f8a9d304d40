/**
 * What every part of the DynamoDB ledger shares: the table and the caller's client, item keys, a
 * strongly consistent read, SDK errors as {@link AwsCallError}, and the SUMMARY copy each write
 * refreshes after it.
 */

import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { toAwsCallError } from '../errors';
import { type Item, LEDGER_TABLE, marshal, SUMMARY_SK, secretKey } from './ledger-items';
import type { PropagationRecord, RotationRecord } from './ledger-port';

/** One ledger table; the client is the caller's (never constructed here). */
export interface LedgerTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** The primary key of one item of a secret's partition. */
export function itemKey(secretName: string, sk: string): Item {
  return { [LEDGER_TABLE.partitionKey]: { S: secretKey(secretName) }, [LEDGER_TABLE.sortKey]: { S: sk } };
}

/** One strongly consistent GetItem: decisions never read a stale copy. */
export async function getLedgerItem(
  table: LedgerTable,
  secretName: string,
  sk: string,
): Promise<Item | undefined> {
  const out = await callAws('GetItem', secretName, () =>
    table.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: itemKey(secretName, sk), ConsistentRead: true }),
    ),
  );
  return out.Item;
}

/** Runs one SDK call; whatever it throws leaves as an {@link AwsCallError} naming the operation. */
export async function callAws<T>(operation: string, subject: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toAwsCallError(operation, subject, error);
  }
}

/**
 * Points the summary's `field` at `record` unless it already holds something newer (by `orderMs`,
 * ties replace, so a finish overwrites its own claim). A refused condition is that newer copy: fine.
 */
export async function updateSummary(
  table: LedgerTable,
  secretName: string,
  field: 'lastRotation' | 'lastPropagation',
  record: RotationRecord | PropagationRecord,
  orderMs: number,
): Promise<void> {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: itemKey(secretName, SUMMARY_SK),
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
