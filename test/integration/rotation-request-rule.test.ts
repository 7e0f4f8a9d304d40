import { randomUUID } from 'node:crypto';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { LOCAL_AWS } from '../../harness/moto-server';
import { RotationRequests } from '../../infra/lib/rotation-requests';
import {
  ROTATION_REQUEST_DETAIL_TYPE,
  ROTATION_REQUEST_SOURCE,
} from '../../shared/requests/rotation-request-event';
import { deliveries, installRules, type MotoBus, motoBus } from '../support/moto-event-bus';
import { resolveIntrinsics } from '../support/policy-documents';

vi.stubEnv('CDK_VALIDATION', 'false');
const ACCOUNT = LOCAL_AWS.accountId;
const RUN = randomUUID().slice(0, 8);
const BUS_NAME = `rotation-requests-${RUN}`;
const ours = motoBus(inject('motoEndpoint'), ACCOUNT);
const another = motoBus(inject('motoEndpoint'), '210987654321');
const elsewhere = motoBus(inject('motoEndpoint'), ACCOUNT, 'eu-west-1');

/** The synthesized rule: its event pattern and the bus it names (the bus's Ref resolved to its name). */
function synthesizedRule() {
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
    eventBusName: BUS_NAME,
  });
  const template = Template.fromStack(stack);
  const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
  const buses = Object.entries(template.findResources('AWS::Events::EventBus'));
  const refs = Object.fromEntries([
    ['AWS::Partition', 'aws'],
    ...buses.map(([id, bus]) => [id, bus.Properties.Name]),
  ]);
  return {
    pattern: resolveIntrinsics(rule?.Properties.EventPattern, refs),
    eventBusName: resolveIntrinsics(rule?.Properties.EventBusName, refs) as string | undefined,
  };
}

/** The custom event as automation puts it (PutEvents entry), on the request bus unless told otherwise. */
const requested = (secretId: string, extra: Record<string, unknown> = {}) => ({
  Source: ROTATION_REQUEST_SOURCE,
  DetailType: ROTATION_REQUEST_DETAIL_TYPE,
  Detail: JSON.stringify({ secretId, reason: 'leaked credential finding', requestedBy: 'scanner' }),
  EventBusName: BUS_NAME,
  ...extra,
});

beforeAll(async () => {
  const rule = synthesizedRule();
  expect(rule.eventBusName).toBe(BUS_NAME);
  const rules = [{ name: `rotation-requested-${RUN}`, ...rule }];
  for (const bus of [ours, another, elsewhere]) await installRules(bus, `requests-${RUN}`, rules);
});

/** Sends one event (on the request bus of this stack's account by default); how many deliveries reached the target. */
const deliveriesOf = (entry: Record<string, unknown>, bus: MotoBus = ours) => deliveries(bus, entry);

describe('the rotation-request rule, evaluated by EventBridge (moto)', () => {
  it.each([
    ['a managed secret by name', requested('prod/app-team/db')],
    [
      'a managed secret by ARN',
      requested(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/app-team/db-a1b2c3`),
    ],
    [
      'a nested managed secret',
      requested('prod/app-team/a/b', {
        Detail: JSON.stringify({ secretId: 'prod/app-team/a/b', reason: 'r' }),
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

  it('ignores a request put on a bus of the same name in another region', async () => {
    expect(await deliveriesOf(requested('prod/app-team/db'), elsewhere)).toBe(0);
  });

  it('listens on the request bus only: the same request put on the default bus reaches nothing', async () => {
    const onDefault = { ...requested('prod/app-team/db') };
    delete (onDefault as { EventBusName?: string }).EventBusName;

    expect(await deliveriesOf(onDefault)).toBe(0);
    expect(await deliveriesOf(requested('prod/app-team/db'))).toBe(1);
  });
});
