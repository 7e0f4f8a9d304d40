/**
 * registerMove's two writes (the summary's move, then the note on the version's rotation record)
 * keep DynamoDB's throttling and server errors retryable, so the state machine retries Claim
 * (review 58: the note's error was wrapped twice and lost its name and status). Pure: the client
 * is a fake that fails one write.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { asRetryable, TransientError } from '../../shared/errors';
import { registerMove } from '../../shared/ledger/rotation-records';

const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
const internal = () => new InternalServerError({ message: 'Internal', $metadata: { httpStatusCode: 500 } });

/** A table with no move yet whose summary write or rotation-record write fails with `error`. */
function table(failing: 'summary' | 'note', error: () => Error) {
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetItemCommand) return {};
      if (command instanceof UpdateItemCommand) {
        const isSummary = command.input.UpdateExpression?.includes('#move') === true;
        if ((failing === 'summary') === isSummary) throw error();
        return {};
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as DynamoDBClient;
  return { client, tableName: 'ledger' };
}

const move = {
  versionId: 'v'.repeat(32),
  at: '2026-12-01T10:00:00.000Z',
  trigger: 'event',
  actor: 'eventbridge',
} as const;

describe('registerMove’s DynamoDB errors', () => {
  it.each([
    ['summary', 'throttled', throttled],
    ['note', 'throttled', throttled],
    ['summary', 'a server error', internal],
    ['note', 'a server error', internal],
  ] as const)('the %s write %s: retryable, named by DynamoDB', async (failing, _what, error) => {
    const thrown = await registerMove(table(failing, error), 'prod/app/db', move).catch((e: unknown) => e);

    expect(asRetryable(thrown)).toBeInstanceOf(TransientError);
    expect(String((thrown as Error).message)).toMatch(
      /ProvisionedThroughputExceededException|InternalServerError/,
    );
  });
});
