/**
 * The notify rule's synthesized event pattern, evaluated by moto's EventBridge on Step Functions
 * status change events as AWS documents them: the workflow's ended executions of this account and
 * region reach the function; a running execution, another state machine's, and another account's
 * or region's do not.
 */
import { randomUUID } from 'node:crypto';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_AWS } from '../../harness/moto-server';
import { RotationNotifications } from '../../infra/lib/rotation-notifications';
import { deliveries, installRules, type MotoBus, motoBus } from '../support/moto-event-bus';
import { resolveIntrinsics } from '../support/policy-documents';

const ACCOUNT = LOCAL_AWS.accountId;
const OTHER_ACCOUNT = '999999999999';
const STATE_MACHINE = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:propagation`;
const ours = motoBus(inject('motoEndpoint'), ACCOUNT);
const another = motoBus(inject('motoEndpoint'), OTHER_ACCOUNT);
const elsewhere = motoBus(inject('motoEndpoint'), ACCOUNT, 'eu-west-1');

function synthesizedPattern(): unknown {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Notify', { env: { account: ACCOUNT, region: 'us-east-1' } });
  new RotationNotifications(stack, 'Notifications', {
    managedPrefixes: ['prod/app-team/'],
    secretPrefix: 'ops/rotator-notifications/',
    stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Workflow', STATE_MACHINE),
    ledger: {
      tableName: 'ledger',
      historyIndexArn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/ledger/index/history`,
    },
  });
  const [rule] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'));
  return resolveIntrinsics(rule?.Properties.EventPattern, { 'AWS::Partition': 'aws' });
}

/** A "Step Functions Execution Status Change" event as AWS documents it. */
function statusChange(status: string, stateMachineArn = STATE_MACHINE) {
  const name = `exec-${randomUUID().slice(0, 8)}`;
  return {
    Source: 'aws.states',
    DetailType: 'Step Functions Execution Status Change',
    Resources: [`${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`],
    Detail: JSON.stringify({
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      stateMachineArn,
      name,
      status,
      startDate: 1_700_000_000_000,
      stopDate: status === 'RUNNING' ? null : 1_700_000_060_000,
      input: '{"secretId":"x","versionId":"y"}',
      inputDetails: { included: true },
      output: null,
      error: null,
      cause: null,
    }),
  };
}

beforeAll(async () => {
  const run = randomUUID().slice(0, 8);
  const rules = [{ name: `notify-${run}`, pattern: synthesizedPattern() }];
  await installRules(ours, `notify-${run}`, rules);
  await installRules(another, `notify-${run}`, rules);
  await installRules(elsewhere, `notify-${run}`, rules);
}, 60_000);

const deliveriesOf = (entry: Record<string, unknown>, bus: MotoBus = ours) => deliveries(bus, entry);

describe('the notify rule, evaluated by EventBridge (moto)', () => {
  it.each(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])(
    'delivers an execution of the workflow that ended %s',
    async (status) => {
      expect(await deliveriesOf(statusChange(status))).toBe(1);
    },
  );

  it.each([
    ['a running execution', statusChange('RUNNING'), ours],
    ['another state machine’s execution', statusChange('FAILED', `${STATE_MACHINE}-other`), ours],
    ['an execution in another account', statusChange('FAILED'), another],
    ['an execution in another region', statusChange('FAILED'), elsewhere],
  ])('ignores %s', async (_case, entry, bus) => {
    expect(await deliveriesOf(entry, bus)).toBe(0);
  });
});
