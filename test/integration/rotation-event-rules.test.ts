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
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { RotationEvents } from '../../infra/lib/rotation-events';
import { LOCAL_AWS } from '../../scripts/local/moto-server';
import { resolveIntrinsics } from '../support/policy-documents';

const ACCOUNT = LOCAL_AWS.accountId;
const ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-a1b2c3`;
const config = {
  endpoint: inject('motoEndpoint'),
  region: LOCAL_AWS.region,
  credentials: LOCAL_AWS.credentials,
};
const eventbridge = new EventBridgeClient(config);
const sqs = new SQSClient(config);

/** The synthesized rules' event patterns and input templates, with intrinsics resolved. */
function synthesizedRules() {
  const app = new App();
  const stack = new Stack(app, 'Events', { env: { account: ACCOUNT, region: 'us-east-1' } });
  // With its role, as the stack's own starter: its on-failure destination grants the role SendMessage.
  const fn = lambda.Function.fromFunctionAttributes(stack, 'Propagate', {
    functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:propagate`,
    role: iam.Role.fromRoleArn(stack, 'PropagateRole', `arn:aws:iam::${ACCOUNT}:role/propagate`),
    sameEnvironment: true,
  });
  new RotationEvents(stack, 'Events', { managedPrefixes: ['prod/app-team/'], propagationFunction: fn });
  const rules = Template.fromStack(stack).findResources('AWS::Events::Rule');
  return Object.entries(rules).map(([id, rule]) => ({
    id,
    pattern: resolveIntrinsics(rule.Properties.EventPattern, { 'AWS::Partition': 'aws' }),
    input: rule.Properties.Targets[0].InputTransformer,
  }));
}

/** Events shaped as AWS documents them, for a managed and an unmanaged secret. */
const documented = {
  labelUpdated: (name: string, label = 'AWSCURRENT') => ({
    Source: 'aws.secretsmanager',
    DetailType: 'Secret Label Updated',
    Resources: [ARN(name)],
    Detail: JSON.stringify({ name, labelUpdated: label, versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' }),
  }),
  rotationSucceeded: (name: string) => ({
    Source: 'aws.secretsmanager',
    DetailType: 'AWS Service Event via CloudTrail',
    Detail: JSON.stringify({
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'RotationSucceeded',
      additionalEventData: { SecretId: ARN(name) },
    }),
  }),
  apiCall: (name: string, eventName: string, field: 'arn' | 'aRN') => ({
    Source: 'aws.secretsmanager',
    DetailType: 'AWS API Call via CloudTrail',
    Detail: JSON.stringify({
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      responseElements: { [field]: ARN(name) },
    }),
  }),
};

let queueUrl: string;

beforeAll(async () => {
  const run = randomUUID().slice(0, 8);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `rules-${run}` }))).QueueUrl ?? '';
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  for (const rule of synthesizedRules()) {
    const Name = `${rule.id.slice(0, 40)}-${run}`;
    await eventbridge.send(new PutRuleCommand({ Name, EventPattern: JSON.stringify(rule.pattern) }));
    await eventbridge.send(new PutTargetsCommand({ Rule: Name, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  }
});

/** Sends one event and returns how many rules delivered it. */
async function deliveries(entry: Record<string, unknown>): Promise<number> {
  await eventbridge.send(new PutEventsCommand({ Entries: [entry] }));
  let count = 0;
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!out.Messages?.length) return count;
    count += out.Messages.length;
  }
}

describe('the rotation event rules, evaluated by EventBridge (moto) on documented events', () => {
  it.each([
    ['Secret Label Updated to AWSCURRENT', documented.labelUpdated('prod/app-team/db')],
    ['RotationSucceeded', documented.rotationSucceeded('prod/app-team/db')],
    ['PutSecretValue with arn', documented.apiCall('prod/app-team/db', 'PutSecretValue', 'arn')],
    ['UpdateSecret with aRN', documented.apiCall('prod/app-team/db', 'UpdateSecret', 'aRN')],
  ])('deliver %s for a managed secret exactly once', async (_name, entry) => {
    expect(await deliveries(entry)).toBe(1);
  });

  it.each([
    ['a label other than AWSCURRENT', documented.labelUpdated('prod/app-team/db', 'MYLABEL')],
    ['Secret Label Updated for an unmanaged secret', documented.labelUpdated('prod/other-team/db')],
    ['RotationSucceeded for an unmanaged secret', documented.rotationSucceeded('prod/other-team/db')],
    ['a prefix look-alike', documented.apiCall('prod/app-teamX/db', 'PutSecretValue', 'arn')],
    ['an API call that changes no value', documented.apiCall('prod/app-team/db', 'TagResource', 'arn')],
  ])('ignore %s', async (_name, entry) => {
    expect(await deliveries(entry)).toBe(0);
  });

  it('hand the propagation function the secret (and version) from each event', () => {
    const inputs = Object.fromEntries(
      synthesizedRules().map((r) => [r.id.replace(/[A-F0-9]{8}$/, ''), r.input]),
    );
    expect(inputs.EventsLabelUpdated?.InputPathsMap).toEqual({
      'detail-name': '$.detail.name',
      'detail-versionId': '$.detail.versionId',
    });
    expect(inputs.EventsRotationSucceeded?.InputPathsMap).toEqual({
      'detail-additionalEventData-SecretId': '$.detail.additionalEventData.SecretId',
    });
    expect(inputs.EventsValueChangedOldField?.InputPathsMap).toEqual({
      'detail-responseElements-aRN': '$.detail.responseElements.aRN',
    });
  });
});
