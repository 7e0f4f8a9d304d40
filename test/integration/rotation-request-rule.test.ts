import { randomUUID } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { RotationRequests } from '../../infra/lib/rotation-requests';
import { LOCAL_AWS } from '../../scripts/local/moto-server';
import {
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
} from '../../shared/requests/rotation-request-event';
import { resolveIntrinsics } from '../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = LOCAL_AWS.accountId;
const config = {
  endpoint: inject('motoEndpoint'),
  region: LOCAL_AWS.region,
  credentials: LOCAL_AWS.credentials,
};

/** A default bus holding the synthesized rule, and the queue it delivers to. */
interface Bus {
  readonly eventbridge: EventBridgeClient;
  readonly sqs: SQSClient;
  queueUrl: string;
}

/**
 * Clients acting as `account` in moto (its `x-moto-account-id` header). moto stamps a put event with
 * the account of the bus it is put on, so an event from another account is one put on that account's bus.
 */
function busOf(account: string): Bus {
  const eventbridge = new EventBridgeClient(config);
  const sqs = new SQSClient(config);
  const actAs = (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
    (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = account;
    return next(args);
  };
  eventbridge.middlewareStack.add(actAs as never, { step: 'build' });
  sqs.middlewareStack.add(actAs as never, { step: 'build' });
  return { eventbridge, sqs, queueUrl: '' };
}

const ours = busOf(ACCOUNT);
const another = busOf('210987654321');

/** The synthesized rule's event pattern, intrinsics resolved. */
function synthesizedPattern() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Requests', { env: { account: ACCOUNT, region: 'us-east-1' } });
  new RotationRequests(stack, 'Requests', {
    managedPrefixes: ['prod/app-team/'],
    rotationFunction: lambda.Function.fromFunctionArn(
      stack,
      'Rotate',
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:r`,
    ),
    ledger: { grantRecordRotation: () => {} },
    ledgerTableName: 'rotation-ledger',
  });
  const [rule] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'));
  return resolveIntrinsics(rule?.Properties.EventPattern, { 'AWS::Partition': 'aws' });
}

/** The custom event as automation puts it (PutEvents entry). */
const requested = (secretId: string, extra: Record<string, unknown> = {}) => ({
  Source: ROTATION_REQUEST_SOURCE,
  DetailType: ROTATION_REQUEST_DETAIL_TYPE,
  Detail: JSON.stringify({ secretId, reason: 'leaked credential finding', requestedBy: 'scanner' }),
  ...extra,
});

/** Puts the synthesized rule on the bus, delivering to one new queue. */
async function installRule(bus: Bus, run: string): Promise<void> {
  bus.queueUrl =
    (await bus.sqs.send(new CreateQueueCommand({ QueueName: `requests-${run}` }))).QueueUrl ?? '';
  const queueArn = (
    await bus.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: bus.queueUrl, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes?.QueueArn;
  const Name = `rotation-requested-${run}`;
  await bus.eventbridge.send(
    new PutRuleCommand({ Name, EventPattern: JSON.stringify(synthesizedPattern()) }),
  );
  await bus.eventbridge.send(
    new PutTargetsCommand({ Rule: Name, Targets: [{ Id: 'queue', Arn: queueArn }] }),
  );
}

beforeAll(async () => {
  const run = randomUUID().slice(0, 8);
  await installRule(ours, run);
  await installRule(another, run);
});

/** Sends one event on the bus (this stack's account by default); how many deliveries reached the target. */
async function deliveries(entry: Record<string, unknown>, bus: Bus = ours): Promise<number> {
  await bus.eventbridge.send(new PutEventsCommand({ Entries: [entry] }));
  let count = 0;
  for (;;) {
    const out = await bus.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: bus.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return count;
    count += out.Messages.length;
  }
}

describe('the rotation-request rule, evaluated by EventBridge (moto)', () => {
  it.each([
    ['a managed secret by name', requested('prod/app-team/db')],
    [
      'a managed secret by ARN',
      requested(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/app-team/db-a1b2c3`),
    ],
    [
      'an emergency for a nested managed secret',
      requested('prod/app-team/a/b', {
        Detail: JSON.stringify({ secretId: 'prod/app-team/a/b', reason: 'r', emergency: true }),
      }),
    ],
  ])('delivers the request for %s exactly once', async (_name, entry) => {
    expect(await deliveries(entry)).toBe(1);
  });

  it.each([
    ['another team’s secret', requested('prod/other-team/db')],
    ['a prefix look-alike', requested('prod/app-teamX/db')],
    [
      'another account’s ARN',
      requested('arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/app-team/db-a1b2c3'),
    ],
    ['another source', requested('prod/app-team/db', { Source: 'my.scanner' })],
    ['another detail-type', requested('prod/app-team/db', { DetailType: 'Secret Rotation Done' })],
  ])('ignores %s', async (_name, entry) => {
    expect(await deliveries(entry)).toBe(0);
  });

  it('ignores a request for a managed secret put in another account', async () => {
    expect(await deliveries(requested('prod/app-team/db'), another)).toBe(0);
  });
});
