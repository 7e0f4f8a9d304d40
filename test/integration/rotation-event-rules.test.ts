import { randomUUID } from 'node:crypto';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_AWS } from '../../harness/moto-server';
import { RotationEvents } from '../../infra/lib/rotation-events';
import { deliveries, installRules, type MotoBus, motoBus } from '../support/moto-event-bus';
import { resolveIntrinsics } from '../support/policy-documents';

const ACCOUNT = LOCAL_AWS.accountId;
const OTHER_ACCOUNT = '210987654321';
const VERSION = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const ARN = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-a1b2c3`;
const ours = motoBus(inject('motoEndpoint'), ACCOUNT);
const another = motoBus(inject('motoEndpoint'), OTHER_ACCOUNT);
const elsewhere = motoBus(inject('motoEndpoint'), ACCOUNT, 'eu-west-1');

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
  apiCall: (
    name: string,
    eventName: string,
    field: 'arn' | 'aRN',
    requestParameters: Record<string, unknown> = {},
    responseElements: Record<string, unknown> = {},
  ) => ({
    Source: 'aws.secretsmanager',
    DetailType: 'AWS API Call via CloudTrail',
    Detail: JSON.stringify({
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      requestParameters: { secretId: name, ...requestParameters },
      responseElements: { [field]: ARN(name), name, ...responseElements },
    }),
  }),
  /** PutSecretValue; CloudTrail logs the request's `versionStages` only when the caller sent them. */
  putSecretValue: (name: string, field: 'arn' | 'aRN', versionStages?: string[]) =>
    documented.apiCall(
      name,
      'PutSecretValue',
      field,
      { clientRequestToken: VERSION, ...(versionStages ? { versionStages } : {}) },
      { versionId: VERSION },
    ),
  /** UpdateSecret returns a `versionId` only when it set a value (and so created a version). */
  updateSecret: (name: string, field: 'arn' | 'aRN', change: Record<string, unknown>, versionId?: string) =>
    documented.apiCall(name, 'UpdateSecret', field, change, versionId ? { versionId } : {}),
};

beforeAll(async () => {
  const run = randomUUID().slice(0, 8);
  const rules = synthesizedRules().map((rule) => ({
    name: `${rule.id.slice(0, 40)}-${run}`,
    pattern: rule.pattern,
  }));
  await installRules(ours, `rules-${run}`, rules);
  await installRules(another, `rules-${run}`, rules);
  await installRules(elsewhere, `rules-${run}`, rules);
  // Synthesis with cdk-nag takes 10–16 s when the machine is busy.
}, 60_000);

/** Sends one event on the bus (this stack's account by default) and returns how many rules delivered it. */
const deliveriesOf = (entry: Record<string, unknown>, bus: MotoBus = ours) => deliveries(bus, entry);

describe('the rotation event rules, evaluated by EventBridge (moto) on documented events', () => {
  it.each([
    ['Secret Label Updated to AWSCURRENT', documented.labelUpdated('prod/app-team/db')],
    ['RotationSucceeded', documented.rotationSucceeded('prod/app-team/db')],
    ['PutSecretValue without versionStages, with arn', documented.putSecretValue('prod/app-team/db', 'arn')],
    [
      'PutSecretValue with versionStages AWSCURRENT, with aRN',
      documented.putSecretValue('prod/app-team/db', 'aRN', ['AWSCURRENT']),
    ],
    [
      'PutSecretValue with versionStages AWSPENDING and AWSCURRENT',
      documented.putSecretValue('prod/app-team/db', 'arn', ['AWSPENDING', 'AWSCURRENT']),
    ],
    [
      'UpdateSecret of the value, with arn',
      documented.updateSecret(
        'prod/app-team/db',
        'arn',
        { secretString: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
        VERSION,
      ),
    ],
    [
      'UpdateSecret of the value, with aRN',
      documented.updateSecret(
        'prod/app-team/db',
        'aRN',
        { secretString: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
        VERSION,
      ),
    ],
  ])('deliver %s for a managed secret exactly once', async (_name, entry) => {
    expect(await deliveriesOf(entry)).toBe(1);
  });

  it.each([
    ['Secret Label Updated to AWSCURRENT', documented.labelUpdated('prod/app-team/db')],
    ['RotationSucceeded', documented.rotationSucceeded('prod/app-team/db')],
    ['PutSecretValue', documented.putSecretValue('prod/app-team/db', 'arn')],
    [
      'UpdateSecret of the value',
      documented.updateSecret(
        'prod/app-team/db',
        'aRN',
        { secretString: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
        VERSION,
      ),
    ],
  ])('ignore %s put in another account', async (_name, entry) => {
    expect(await deliveriesOf(entry, another)).toBe(0);
  });

  it('ignore an AWSCURRENT move of a managed secret put in another region of this account', async () => {
    expect(await deliveriesOf(documented.rotationSucceeded('prod/app-team/db'), elsewhere)).toBe(0);
    expect(await deliveriesOf(documented.rotationSucceeded('prod/app-team/db'))).toBe(1);
  });

  it.each([
    [
      'PutSecretValue of AWSPENDING (a rotation’s createSecret step)',
      documented.putSecretValue('prod/app-team/db', 'arn', ['AWSPENDING']),
    ],
    [
      'PutSecretValue of AWSPENDING with aRN',
      documented.putSecretValue('prod/app-team/db', 'aRN', ['AWSPENDING']),
    ],
    [
      'PutSecretValue of AWSPENDING and a custom label',
      documented.putSecretValue('prod/app-team/db', 'arn', ['AWSPENDING', 'MYLABEL']),
    ],
    [
      'UpdateSecret of the description only',
      documented.updateSecret('prod/app-team/db', 'arn', { description: 'the app team’s database' }),
    ],
    [
      'UpdateSecret of the KMS key only',
      documented.updateSecret('prod/app-team/db', 'aRN', { kmsKeyId: 'alias/app-team' }),
    ],
  ])('start no propagation for %s', async (_name, entry) => {
    expect(await deliveriesOf(entry)).toBe(0);
  });

  it.each([
    ['a label other than AWSCURRENT', documented.labelUpdated('prod/app-team/db', 'MYLABEL')],
    ['Secret Label Updated for an unmanaged secret', documented.labelUpdated('prod/other-team/db')],
    ['RotationSucceeded for an unmanaged secret', documented.rotationSucceeded('prod/other-team/db')],
    ['a prefix look-alike', documented.putSecretValue('prod/app-teamX/db', 'arn')],
    ['an API call that changes no value', documented.apiCall('prod/app-team/db', 'TagResource', 'arn')],
  ])('ignore %s', async (_name, entry) => {
    expect(await deliveriesOf(entry)).toBe(0);
  });

  it('hand the propagation function the secret (and version) from each event, and when AWSCURRENT moved', () => {
    const inputs = Object.fromEntries(
      synthesizedRules().map((r) => [r.id.replace(/[A-F0-9]{8}$/, ''), r.input]),
    );
    // The event's time is the move's (movedAt: PropagationFreshness counts from it).
    expect(inputs.EventsLabelUpdated?.InputPathsMap).toEqual({
      'detail-name': '$.detail.name',
      'detail-versionId': '$.detail.versionId',
      time: '$.time',
    });
    expect(inputs.EventsRotationSucceeded?.InputPathsMap).toEqual({
      'detail-additionalEventData-SecretId': '$.detail.additionalEventData.SecretId',
      time: '$.time',
    });
    expect(inputs.EventsValueChangedOldField?.InputPathsMap).toEqual({
      'detail-responseElements-aRN': '$.detail.responseElements.aRN',
      time: '$.time',
    });
  });
});
