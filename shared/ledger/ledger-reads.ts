/**
 * The ledger's reads for people and the reconcile: a secret's history (a Query on the history
 * index) and many secrets' summaries (BatchGetItem). Nothing here decides who does what: the
 * summaries are copies that may lag one write behind.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetItemCommand, paginateQuery } from '@aws-sdk/client-dynamodb';
import { fullJitterDelay } from '../concurrency';
import { AwsCallError } from '../errors';
import {
  type Item,
  LEDGER_TABLE,
  parseLedgerEntry,
  parseSummary,
  SUMMARY_SK,
  secretKey,
} from './ledger-items';
import type { LedgerEntry, SecretLedgerSummary } from './ledger-port';
import { callAws, itemKey, type LedgerTable } from './ledger-table';

const DEFAULT_HISTORY_LIMIT = 50;
const BATCH_GET_MAX_KEYS = 100;
const BATCH_GET_ATTEMPTS = 8;

/** A Query on the history index, newest first, paged (paginateQuery) until `limit` entries (default 50). */
export async function queryHistory(
  table: LedgerTable,
  secretName: string,
  options: { readonly limit?: number } = {},
): Promise<LedgerEntry[]> {
  const limit = Math.floor(options.limit ?? DEFAULT_HISTORY_LIMIT);
  if (limit < 1) return [];
  const pages = paginateQuery(
    { client: table.client, pageSize: limit },
    {
      TableName: table.tableName,
      IndexName: LEDGER_TABLE.historyIndex,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': LEDGER_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: secretKey(secretName) } },
      ScanIndexForward: false,
    },
  );
  const items = await callAws('Query', secretName, async () => {
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
export async function readSummaries(
  table: LedgerTable,
  secretNames: readonly string[],
): Promise<Map<string, SecretLedgerSummary>> {
  const names = [...new Set(secretNames)];
  const result = new Map<string, SecretLedgerSummary>();
  for (let start = 0; start < names.length; start += BATCH_GET_MAX_KEYS) {
    const keys = names.slice(start, start + BATCH_GET_MAX_KEYS).map((name) => itemKey(name, SUMMARY_SK));
    for (const item of await batchGet(table, keys)) {
      const summary = parseSummary(item);
      result.set(summary.secretName, summary);
    }
  }
  return result;
}

/** One BatchGetItem, retrying UnprocessedKeys with exponential backoff (50 ms doubling, 8 attempts). */
async function batchGet(table: LedgerTable, keys: Item[]): Promise<Item[]> {
  const { client, tableName } = table;
  const items: Item[] = [];
  let pending = keys;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > BATCH_GET_ATTEMPTS) {
      throw new AwsCallError(
        'BatchGetItem',
        'UnprocessedKeys',
        undefined,
        `BatchGetItem on "${tableName}" left ${pending.length} keys unprocessed after ${BATCH_GET_ATTEMPTS} attempts`,
      );
    }
    if (attempt > 1) await sleep(fullJitterDelay(attempt - 1, 50, 3_200));
    const request = { [tableName]: { Keys: pending } };
    const out = await callAws('BatchGetItem', tableName, () =>
      client.send(new BatchGetItemCommand({ RequestItems: request })),
    );
    items.push(...(out.Responses?.[tableName] ?? []));
    pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  return items;
}
