/**
 * The starter against Step Functions' documented idempotency, as moto implements it: StartExecution
 * with the name and input of a RUNNING execution succeeds and returns that execution; a different
 * input, or a finished execution, gives ExecutionAlreadyExists.
 */
import { randomUUID } from 'node:crypto';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClient } from '../../harness/local-aws';
import { LOCAL_AWS } from '../../harness/moto-server';
import { StepFunctionsStarter } from '../../shared/aws/step-functions-starter';
import type { WorkflowInput } from '../../shared/workflow/workflow-state';

const sfn = localClient(SFNClient, inject('motoEndpoint'));
const input: WorkflowInput = {
  secretId: `arn:aws:secretsmanager:${LOCAL_AWS.region}:${LOCAL_AWS.accountId}:secret:prod/app/db-AbCdEf`,
  versionId: '11111111-2222-4333-8444-555555555555',
  trigger: 'event',
  actor: 'eventbridge',
  emergency: false,
  retirePrevious: false,
  moveSeq: 1,
};
let starter: StepFunctionsStarter;

beforeAll(async () => {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `starter-${randomUUID().slice(0, 8)}`,
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
      }),
      roleArn: `arn:aws:iam::${LOCAL_AWS.accountId}:role/states`,
    }),
  );
  starter = new StepFunctionsStarter(sfn, created.stateMachineArn ?? '');
});

describe('StepFunctionsStarter', () => {
  it('reports a second delivery of the same move as already started while the first still runs', async () => {
    const name = `prod-app-db-${randomUUID()}-m1`;

    const first = await starter.start(name, input);
    const second = await starter.start(name, input);

    expect(first).toMatchObject({ alreadyStarted: false });
    expect(first.executionArn).toContain(name);
    // Without a per-attempt id in the input, StartExecution accepts the duplicate as the running
    // execution and the starter counted it as a new start (review L5).
    expect(second).toEqual({ alreadyStarted: true });
  });

  it('starts an execution of another name', async () => {
    const a = await starter.start(`a-${randomUUID()}`, input);
    const b = await starter.start(`b-${randomUUID()}`, input);
    expect([a.alreadyStarted, b.alreadyStarted]).toEqual([false, false]);
  });
});
