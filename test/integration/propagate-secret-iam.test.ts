/**
 * Least privilege, proven from what is sent: every Secrets Manager, DynamoDB and Step Functions
 * command the propagation starter sends through its real handler against moto (an event for a
 * rotation the ledger recorded, its second delivery, and a late event for a version no longer
 * AWSCURRENT) is evaluated by the IAM policy simulator against the starter's role in the
 * synthesized stack. moto enforces no IAM, so a call the role lacks would first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClient, localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { LOCAL_AWS } from '../../harness/moto-server';
import { createSecret } from '../../harness/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import {
  actionsOf,
  allAllowed,
  decisionsFor,
  iamRequestsOf,
  motoSecretArns,
  recordSentCommands,
  synthDeployedStack,
} from '../support/aws-call-recorder';
import { captureOutput, type OutputCapture } from '../support/output-capture';
import { stagesOf } from '../support/rotation-request-fixture';

vi.stubEnv('CDK_VALIDATION', 'false');
const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-starter-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-${randomUUID()}`;
const STALE_VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const recorder = recordSentCommands();
const deployed = synthDeployedStack();
const workflow = deployed.stack.propagation?.workflow.stateMachine;
let stateMachineArn: string;
let output: OutputCapture;

beforeAll(async () => {
  await createLedgerTable(clients.dynamodb, TABLE);
  const created = await localClient(SFNClient, endpoint).send(
    new CreateStateMachineCommand({
      name: `iam-starter-${randomUUID().slice(0, 8)}`,
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
      }),
      roleArn: `arn:aws:iam::${LOCAL_AWS.accountId}:role/states`,
    }),
  );
  stateMachineArn = created.stateMachineArn ?? '';
  output = captureOutput();
});
afterAll(() => {
  output.stop();
  recorder.restore();
  vi.unstubAllEnvs();
});

async function importHandler() {
  vi.resetModules();
  const env = {
    ...localAwsEnvironment(endpoint),
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    ROTATOR_STATE_MACHINE_ARN: stateMachineArn,
    ROTATOR_LEDGER_TABLE: TABLE,
  };
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
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

    const results = await recorder.during(async () => [
      await handler(event, localLambdaContext('starter')),
      await handler(event, localLambdaContext('starter')),
      await handler({ ...event, versionId: STALE_VERSION }, localLambdaContext('starter')),
    ]);

    expect(results).toEqual([
      expect.objectContaining({ alreadyStarted: false, executionArn: expect.any(String) }),
      expect.objectContaining({ alreadyStarted: true }),
      expect.objectContaining({ ignored: expect.stringContaining('no longer AWSCURRENT') }),
    ]);
    const requests = await iamRequestsOf(recorder.sent.splice(0), {
      secretArn: motoSecretArns(clients.secretsManager),
      rotatedBy: () => undefined,
      resourceArn: (resource) =>
        resource === TABLE
          ? deployed.arnOf(deployed.stack.ledger.table)
          : resource === stateMachineArn
            ? (deployed.refs[deployed.stack.resolve(workflow?.stateMachineArn).Ref] ?? '')
            : `unknown resource ${resource}`,
    });
    // The paths above must reach AWS at all, or this proves nothing.
    expect(actionsOf(requests)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'secretsmanager:DescribeSecret',
      'states:StartExecution',
    ]);
    const decisions = await decisionsFor(deployed, /^PropagationStarterRole/, requests);
    expect(decisions).toEqual(allAllowed(requests));
  });
});
