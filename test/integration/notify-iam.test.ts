/**
 * Least privilege, proven from what is sent: every Secrets Manager and DynamoDB command the notify
 * function sends through its real handler against moto (an ended execution: DescribeSecret of the
 * managed secret, the ledger's history, the owner's route secret and a namespace route that does
 * not exist) is evaluated by the IAM policy simulator against the notify function's role in the
 * synthesized stack. moto enforces no IAM, so a call the role lacks would first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { createLedgerTable } from '../../harness/local-ledger';
import { LOCAL_AWS } from '../../harness/moto-server';
import { createSecret } from '../../harness/rotation-fixture';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { motoSecretArns } from '../support/aws-call-recorder';
import { roleSimulation } from '../support/role-simulation';

const iam = roleSimulation();
const { clients } = iam;
const RUN = randomUUID().slice(0, 6);
// Under the prefixes the synthesized stack manages and reads routes from (cdk.json's).
const MANAGED = `prod/app-team/iam-notify-${RUN}/`;
const ROUTES = `ops/rotator-notifications/iam-notify-${RUN}/`;
const TABLE = `ledger-${randomUUID()}`;
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:propagation';
let server: Server;
let posts = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume().on('end', () => {
      posts++;
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  await createSecret(clients, `${ROUTES}payments`, JSON.stringify({ url, format: 'slack' }));
  await createLedgerTable(clients.dynamodb, TABLE);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

async function importHandler() {
  iam.stubHandlerEnvironment({
    ROTATOR_MANAGED_PREFIXES: MANAGED,
    ROTATOR_LEDGER_TABLE: TABLE,
    ROTATOR_STATE_MACHINE_ARN: STATE_MACHINE,
    ROTATOR_NOTIFICATIONS_PREFIX: ROUTES,
  });
  return (await import('../../functions/notify/handler')).handler;
}

/** A succeeded propagation of the secret by execution `name`, as Claim and Record write it. */
async function recordPropagation(secretName: string, secretArn: string, name: string, versionId: string) {
  const ledger = new DynamoDbLedger(clients.dynamodb, TABLE);
  const key = { versionId, moveSeq: 1 };
  const startedAt = new Date(Date.now() - 90_000).toISOString();
  await ledger.claimPropagation(
    { secretName, secretArn, ...key, trigger: 'event', actor: 'eventbridge', executionId: name, startedAt },
    { leaseMs: 3_600_000, now: new Date() },
  );
  const counts = { synced: 1, restarted: 0, failed: 0, nextPod: 0, notRestarted: 0 };
  const cluster = {
    cluster: 'eu-1',
    outcome: 'succeeded',
    synced: ['apps/db'],
    restarted: [],
    failed: [],
    counts,
  };
  await ledger.finishPropagation(secretName, key, name, {
    status: 'succeeded',
    finishedAt: new Date().toISOString(),
    durationMs: 90_000,
    // A namespace asked for a route that does not exist: read, found missing, skipped.
    clusters: [{ ...cluster, outcome: 'succeeded', notifyRoutes: ['search'] }],
  });
}

/** The EventBridge event of the execution's end. */
function ended(secretArn: string, name: string, versionId: string) {
  const executionArn = `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    version: '0',
    id: randomUUID(),
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    account: '123456789012',
    region: 'us-east-1',
    time: new Date().toISOString(),
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: STATE_MACHINE,
      name,
      status: 'SUCCEEDED',
      startDate: Date.now() - 95_000,
      stopDate: Date.now(),
      input: JSON.stringify({ secretId: secretArn, versionId, trigger: 'event', actor: 'eventbridge' }),
      inputDetails: { included: true },
      output: null,
      error: null,
      cause: null,
    },
  };
}

describe('the notify function role allows every call its handler sends', () => {
  it('on an ended execution routed to the owner and to a namespace route that does not exist', async () => {
    const secretName = `${MANAGED}db`;
    const arn = await createSecret(clients, secretName, 'iam-notify-value', { 'rotator:owner': 'payments' });
    const versionId = randomUUID();
    const name = `db-${RUN}-${versionId.slice(0, 8)}`;
    await recordPropagation(secretName, arn, name, versionId);
    const handler = await importHandler();

    const result = await iam.recorder.during(() =>
      handler(ended(arn, name, versionId), localLambdaContext('notify')),
    );

    expect(result).toMatchObject({ sent: [{ route: `${ROUTES}payments` }], missing: [`${ROUTES}search`] });
    expect(posts).toBe(1);
    const known = motoSecretArns(clients.secretsManager);
    const actions = ['dynamodb:Query', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
    const requests = await iam.expectRoleAllows(/^NotificationsRole/, actions, {
      // A secret that does not exist is authorized against its name's ARN, without the suffix.
      secretArn: (id) =>
        known(id).catch(
          () => `arn:aws:secretsmanager:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:secret:${id}`,
        ),
      resources: { [TABLE]: iam.ledgerTable },
    });
    expect(requests.filter((r) => r.action === 'secretsmanager:GetSecretValue')).toHaveLength(2);
  });
});
