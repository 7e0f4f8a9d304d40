import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_TABLE } from '../shared/ledger/ledger-items';

/**
 * Creates the ledger table with the key schema and history index of infra/lib/rotation-ledger.ts,
 * on demand, and waits until it is active. An existing table of that name is left as it is.
 *
 * @example
 * const { dynamodb } = localClients(endpoint);
 * await createLedgerTable(dynamodb, 'rotation-ledger');
 * const ledger = new DynamoDbLedger(dynamodb, 'rotation-ledger');
 */
export async function createLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, historyIndex, historySortKey } = LEDGER_TABLE;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: partitionKey, AttributeType: 'S' },
          { AttributeName: sortKey, AttributeType: 'S' },
          { AttributeName: historySortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: historyIndex,
            KeySchema: [
              { AttributeName: partitionKey, KeyType: 'HASH' },
              { AttributeName: historySortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
}
