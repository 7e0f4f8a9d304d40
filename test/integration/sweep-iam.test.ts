/**
 * Least privilege, proven from what is sent: every Secrets Manager, DynamoDB and Step Functions
 * command the sweep sends through its real handler against moto, configured as the stack deploys it
 * (ledger, propagation state machine, rotation function and a prefix rule), is evaluated by the IAM
 * policy simulator against the sweep's role in the synthesized stack. One run lists the secrets,
 * rotates an overdue one (recorded first), repairs a stuck rotation, sets a schedule the rule asks
 * for, and reconciles the ledger by starting propagations. moto enforces no IAM, so a call the
 * role lacks would otherwise first fail in AWS.
 */
import { randomUUID } from 'node:crypto';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { localAwsEnvironment, localClient, localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { LOCAL_AWS } from '../../harness/moto-server';
import { createSecret, ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
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
import { idleRotatingSecret, unfinishedRotationSecret } from '../support/rotation-request-fixture';

vi.stubEnv('CDK_VALIDATION', 'false');
const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-sweep-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-${randomUUID()}`;
const recorder = recordSentCommands();
const deployed = synthDeployedStack();
const rotationFunction = deployed.arnOf(deployed.stack.orchestrator.rotationFunction);
const stateMachine = deployed.stack.propagation?.workflow.stateMachine.stateMachineArn;
let placeholder: string;
let stateMachineArn: string;
let output: OutputCapture;

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  await createLedgerTable(clients.dynamodb, TABLE);
  const created = await localClient(SFNClient, endpoint).send(
    new CreateStateMachineCommand({
      name: `iam-sweep-${randomUUID().slice(0, 8)}`,
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
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** The sweep's environment as RotationSweep sets it, pointed at moto's table, state machine and function. */
async function importHandler() {
  vi.resetModules();
  const env = {
    ...localAwsEnvironment(endpoint),
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    ROTATOR_REPAIR_STUCK: 'true',
    ROTATOR_LEDGER_TABLE: TABLE,
    ROTATOR_PROPAGATION_STATE_MACHINE_ARN: stateMachineArn,
    ROTATOR_ROTATION_FUNCTION_ARN: placeholder,
    ROTATOR_ROTATION_RULES: JSON.stringify([{ prefix: PREFIX, automaticallyAfterDays: 30 }]),
  };
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return (await import('../../functions/sweep/handler')).handler;
}

describe('the sweep role allows every call its handler sends', () => {
  it('on one run that rotates, repairs, schedules and reconciles', async () => {
    // Rotation every 30 days, the last one just now: overdue once the clock is 40 days on.
    await idleRotatingSecret(clients, `${PREFIX}overdue`, 'iam-sweep-value-1', placeholder);
    await unfinishedRotationSecret(clients, `${PREFIX}stuck`, 'iam-sweep-value-2', placeholder);
    // No rotation configured: the prefix rule asks for a schedule with this project's function.
    await createSecret(clients, `${PREFIX}unscheduled`, 'iam-sweep-value-3');
    const handler = await importHandler();

    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 40 * 86_400_000 });
    const report = await recorder.during(() => handler({}, localLambdaContext('sweep')));
    vi.useRealTimers();

    const secretsIn = (entries: readonly { secret: string }[]) => entries.map((e) => e.secret).sort();
    expect(report.listed).toBe(3);
    // The stuck rotation is repaired and, being overdue too, rotated again.
    expect(secretsIn(report.rotationsStarted)).toEqual([`${PREFIX}overdue`, `${PREFIX}stuck`]);
    expect(secretsIn(report.repaired)).toEqual([`${PREFIX}stuck`]);
    expect(secretsIn(report.schedulesConfigured)).toEqual([`${PREFIX}unscheduled`]);
    expect(report.propagationsStarted).toHaveLength(3);
    const requests = await iamRequestsOf(recorder.sent.splice(0), {
      secretArn: motoSecretArns(clients.secretsManager),
      // The placeholder stands for this project's rotation function; the unscheduled secret had none.
      rotatedBy: (arn) => (arn.includes('/unscheduled-') ? undefined : rotationFunction),
      resourceArn: (name) =>
        name === TABLE
          ? deployed.arnOf(deployed.stack.ledger.table)
          : name === stateMachineArn
            ? (deployed.refs[deployed.stack.resolve(stateMachine).Ref] ?? '')
            : name === placeholder
              ? rotationFunction
              : `unknown resource ${name}`,
    });
    // The paths above must reach AWS at all, or this proves nothing.
    expect(actionsOf(requests)).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'secretsmanager:DescribeSecret',
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:ListSecrets',
      'secretsmanager:RotateSecret',
      'secretsmanager:UpdateSecretVersionStage',
      'states:StartExecution',
    ]);
    const decisions = await decisionsFor(deployed, /^SweepRole/, requests);
    expect(decisions).toEqual(allAllowed(requests));
  });
});
