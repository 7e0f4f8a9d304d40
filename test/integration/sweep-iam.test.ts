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
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { localLambdaContext } from '../../harness/lambda-context';
import { createLedgerTable } from '../../harness/local-ledger';
import { createSecret, ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import { roleSimulation } from '../support/role-simulation';
import { idleRotatingSecret, unfinishedRotationSecret } from '../support/rotation-request-fixture';

const iam = roleSimulation();
const { clients, rotationFunction } = iam;
// Under a prefix the synthesized stack manages (cdk.json's), so the ARNs match its grants.
const PREFIX = `prod/app-team/iam-sweep-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-${randomUUID()}`;
let placeholder: string;
let stateMachineArn: string;

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  await createLedgerTable(clients.dynamodb, TABLE);
  stateMachineArn = await iam.createWaitingStateMachine('iam-sweep');
});

/** The sweep's environment as RotationSweep sets it, pointed at moto's table, state machine and function. */
async function importHandler() {
  iam.stubHandlerEnvironment({
    ROTATOR_MANAGED_PREFIXES: PREFIX,
    ROTATOR_REPAIR_STUCK: 'true',
    ROTATOR_LEDGER_TABLE: TABLE,
    ROTATOR_PROPAGATION_STATE_MACHINE_ARN: stateMachineArn,
    ROTATOR_ROTATION_FUNCTION_ARN: placeholder,
    ROTATOR_ROTATION_RULES: JSON.stringify([{ prefix: PREFIX, automaticallyAfterDays: 30 }]),
  });
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
    const report = await iam.recorder.during(() => handler({}, localLambdaContext('sweep')));
    vi.useRealTimers();

    const secretsIn = (entries: readonly { secret: string }[]) => entries.map((e) => e.secret).sort();
    expect(report.listed).toBe(3);
    // The stuck rotation is repaired and, being overdue too, rotated again.
    expect(secretsIn(report.rotationsStarted)).toEqual([`${PREFIX}overdue`, `${PREFIX}stuck`]);
    expect(secretsIn(report.repaired)).toEqual([`${PREFIX}stuck`]);
    expect(secretsIn(report.schedulesConfigured)).toEqual([`${PREFIX}unscheduled`]);
    expect(report.propagationsStarted).toHaveLength(3);
    const actions = [
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
    ];
    await iam.expectRoleAllows(/^SweepRole/, actions, {
      // The placeholder stands for this project's rotation function; the unscheduled secret had none.
      rotatedBy: (arn) => (arn.includes('/unscheduled-') ? undefined : rotationFunction),
      resources: {
        [TABLE]: iam.ledgerTable,
        [stateMachineArn]: iam.propagationStateMachine(),
        [placeholder]: rotationFunction,
      },
    });
  });
});
