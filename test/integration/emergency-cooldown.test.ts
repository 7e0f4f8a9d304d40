import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import { ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { EmergencyCooldownError } from '../../shared/errors';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import { createLogger, createMetrics } from '../../shared/observability';
import { requestRotation } from '../../shared/requests/request-rotation';
import { countOperations } from '../support/rotation-harness';
import {
  idleRotatingSecret,
  keepConfiguredRotationFunction,
  stagesOf,
} from '../support/rotation-request-fixture';

const endpoint = inject('motoEndpoint');
const clients = localClients(endpoint);
const PREFIX = `cooldown-${randomUUID().slice(0, 6)}/`;
const TABLE = `ledger-cooldown-${randomUUID()}`;
const MINUTE = 60_000;
const COOLDOWN = 15 * MINUTE;
const T0 = new Date(Date.now() + 60 * MINUTE);
const at = (minutes: number) => new Date(T0.getTime() + minutes * MINUTE);
let placeholder: string;

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  await createLedgerTable(clients.dynamodb, TABLE);
});

/**
 * requestRotation over the real Secrets Manager adapter and the real DynamoDB ledger, both against
 * moto; every Secrets Manager and DynamoDB call lands in one ordered `calls` list.
 */
function setUp(now: Date, cooldownMs = COOLDOWN) {
  const own = localClients(endpoint);
  keepConfiguredRotationFunction(own, placeholder);
  const { calls } = countOperations(own);
  own.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(`ledger:${String(context.commandName).replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'countLedgerOperations' },
  );
  const ledger = new DynamoDbLedger(own.dynamodb, TABLE);
  const deps = {
    port: new SecretsManagerAdapter(own.secretsManager),
    ledger,
    config: { managedPrefixes: [PREFIX], stuckAfterMs: 60 * MINUTE, emergencyCooldownMs: cooldownMs },
    logger: createLogger(),
    metrics: createMetrics(),
    now: () => now,
  };
  return { calls, ledger, deps };
}

const emergency = (secretId: string, extra: Record<string, unknown> = {}) => ({
  secretId,
  reason: 'key found in a public repo',
  actor: 'arn:aws:iam::123456789012:role/incident-responder',
  trigger: 'emergency',
  emergency: true,
  retirePrevious: false,
  ...extra,
});

/** A managed secret with one emergency rotation requested at T0 (left AWSPENDING, as moto runs no rotation code). */
async function afterOneEmergency(name: string) {
  const { arn } = await idleRotatingSecret(
    clients,
    `${PREFIX}${name}`,
    `cooldown-value-${name}`,
    placeholder,
  );
  const first = await requestRotation(emergency(arn), setUp(T0).deps);
  return { arn, first };
}

describe('the emergency cooldown, against Secrets Manager and the DynamoDB ledger (moto)', () => {
  it('refuses a second emergency inside the cooldown, saying when the next is allowed, and changes nothing', async () => {
    // Prepare
    const { arn, first } = await afterOneEmergency('refused');
    const before = await stagesOf(clients, arn);
    const { calls, ledger, deps } = setUp(at(5));

    // Act
    const refused = requestRotation(emergency(arn), deps);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(EmergencyCooldownError);
    await expect(refused).rejects.toMatchObject({
      lastVersionId: first.versionId,
      nextAllowedAt: at(15),
      message: expect.stringContaining(`allowed from ${at(15).toISOString()}`),
    });
    expect(calls).toEqual(['DescribeSecret', 'ledger:Query']); // no RotateSecret, no ledger write
    expect((await stagesOf(clients, arn)).stages).toEqual(before.stages);
    expect((await ledger.history(`${PREFIX}refused`)).map((e) => e.versionId)).toEqual([first.versionId]);
  });

  it('allows the next emergency once the cooldown has passed (repairing the first, still pending)', async () => {
    const { arn, first } = await afterOneEmergency('allowed');
    const { calls, ledger, deps } = setUp(at(15));

    const second = await requestRotation(emergency(arn), deps);

    expect(second.repairedPendingVersionId).toBe(first.versionId);
    expect(calls).toEqual([
      'DescribeSecret',
      'ledger:Query',
      'UpdateSecretVersionStage',
      'ledger:PutItem',
      'ledger:UpdateItem',
      'RotateSecret',
    ]);
    expect((await stagesOf(clients, arn)).pending).toEqual([second.versionId]);
    expect((await ledger.history(`${PREFIX}allowed`)).map((e) => e.versionId)).toEqual([
      second.versionId,
      first.versionId,
    ]);
  });

  it('lets a retried emergency (same version id) through inside the cooldown, once', async () => {
    const { arn, first } = await afterOneEmergency('retried');
    const before = await stagesOf(clients, arn);
    const { deps } = setUp(at(1));

    const retried = await requestRotation(emergency(arn, { versionId: first.versionId }), deps);

    expect(retried.versionId).toBe(first.versionId);
    expect((await stagesOf(clients, arn)).stages).toEqual(before.stages);
  });

  it('allows a second emergency at once when the cooldown is disabled (0)', async () => {
    const { arn } = await afterOneEmergency('disabled');

    const allowed = await requestRotation(emergency(arn), setUp(at(1), 0).deps);

    expect((await stagesOf(clients, arn)).pending).toEqual([allowed.versionId]);
  });
});
