/**
 * Least privilege, proven from what is sent: every Secrets Manager, DynamoDB and Step Functions
 * command the propagation starter sends through its real handler against moto (an event for a
 * rotation the ledger recorded, its second delivery, and a late event for a version no longer
 * AWSCURRENT) is evaluated by the IAM policy simulator against the starter's role in the
 * synthesized stack. moto enforces no IAM, so a call the role lacks would first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { createLedgerTable } from '../../harness/local-ledger';
import { createSecret } from '../../harness/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { roleSimulation } from '../support/role-simulation';
import { stagesOf } from '../support/rotation-request-fixture';

const iam = roleSimulation();
const { clients } = iam;
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-starter-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-${randomUUID()}`;
const STALE_VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
let stateMachineArn: string;

beforeAll(async () => {
  await createLedgerTable(clients.dynamodb, TABLE);
  stateMachineArn = await iam.createWaitingStateMachine('iam-starter');
});

async function importHandler() {
  iam.stubHandlerEnvironment({
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    ROTATOR_STATE_MACHINE_ARN: stateMachineArn,
    ROTATOR_LEDGER_TABLE: TABLE,
  });
  return (await import('../../functions/propagate-secret/handler')).handler;
}

describe('the propagation starter role allows every call its handler sends', () => {
  it('on a recorded rotation, its second delivery and a late event', async () => {
    const name = `${PREFIX}db`;
    const arn = await createSecret(clients, name, 'iam-starter-value-1');
    const versionId = (await stagesOf(clients, arn)).current;
    await new DynamoDbLedger(clients.dynamodb, TABLE).recordRotation({
      secretName: name,
      secretArn: arn,
      versionId,
      trigger: 'request',
      actor: 'arn:aws:iam::123456789012:role/ops',
      requestedAt: new Date().toISOString(),
    });
    const handler = await importHandler();
    const event = { secretId: name, versionId, movedAt: new Date().toISOString() };

    const results = await iam.recorder.during(async () => [
      await handler(event, localLambdaContext('starter')),
      await handler(event, localLambdaContext('starter')),
      await handler({ ...event, versionId: STALE_VERSION }, localLambdaContext('starter')),
    ]);

    expect(results).toEqual([
      expect.objectContaining({ alreadyStarted: false, executionArn: expect.any(String) }),
      expect.objectContaining({ alreadyStarted: true }),
      expect.objectContaining({ ignored: expect.stringContaining('no longer AWSCURRENT') }),
    ]);
    await iam.expectRoleAllows(
      /^PropagationStarterRole/,
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'secretsmanager:DescribeSecret', 'states:StartExecution'],
      { resources: { [TABLE]: iam.ledgerTable, [stateMachineArn]: iam.propagationStateMachine() } },
    );
  });
});
