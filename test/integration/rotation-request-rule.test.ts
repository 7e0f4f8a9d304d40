import { randomUUID } from 'node:crypto';
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
import { deliveries, installRules, type MotoBus, motoBus } from '../support/moto-event-bus';
import { resolveIntrinsics } from '../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = LOCAL_AWS.accountId;
const ours = motoBus(inject('motoEndpoint'), ACCOUNT);
const another = motoBus(inject('motoEndpoint'), '210987654321');

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
    ledger: { tableName: 'rotation-ledger', grantRecordRotation: () => {}, grantRead: () => {} },
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

beforeAll(async () => {
  const run = randomUUID().slice(0, 8);
  const rules = [{ name: `rotation-requested-${run}`, pattern: synthesizedPattern() }];
  await installRules(ours, `requests-${run}`, rules);
  await installRules(another, `requests-${run}`, rules);
});

/** Sends one event on the bus (this stack's account by default); how many deliveries reached the target. */
const deliveriesOf = (entry: Record<string, unknown>, bus: MotoBus = ours) => deliveries(bus, entry);

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
    expect(await deliveriesOf(entry)).toBe(1);
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
    expect(await deliveriesOf(entry)).toBe(0);
  });

  it('ignores a request for a managed secret put in another account', async () => {
    expect(await deliveriesOf(requested('prod/app-team/db'), another)).toBe(0);
  });
});
