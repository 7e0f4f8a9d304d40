import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalClients, localClients } from '../../harness/local-aws';
import { createLedgerTable } from '../../harness/local-ledger';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  startRotation,
} from '../../harness/rotation-fixture';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { LedgerPort, PropagationStatus, SecretLedgerSummary } from '../../shared/ledger/ledger-port';
import { createLogger, createMetrics } from '../../shared/observability';
import type { ReconcileDeps } from '../../shared/sweep/reconcile-propagations';
import { runSweep } from '../../shared/sweep/run-sweep';
import { InMemoryLedger } from '../support/in-memory-ledger';
import { countOperations } from '../support/rotation-harness';
import { keepConfiguredRotationFunction, stagesOf } from '../support/rotation-request-fixture';

const clients = localClients(inject('motoEndpoint'));
const PREFIX = `sweep-run-${randomUUID().slice(0, 6)}/`;
const CONFIG = {
  graceMs: 86_400_000,
  stuckAfterMs: 3_600_000,
  maxRotationsPerRun: 10,
  repairStuck: false,
  maxPropagationsPerRun: 10,
  propagationLeaseMs: 3_600_000,
};
const in40Days = () => new Date(Date.now() + 40 * 86_400_000);
const LEDGER_TABLE = `sweep-ledger-${randomUUID().slice(0, 8)}`;
let placeholder: string;

/**
 * A secret with a 30-day rotation schedule whose first rotation has finished. AWS leaves AWSPENDING
 * on the new current version and accepts the next RotateSecret; moto 5.2.5 inverts that check and
 * refuses ("Previous rotation request is still in progress"), so the label is removed here.
 */
async function rotatingSecret(name: string) {
  const arn = await createSecret(clients, `${PREFIX}${name}`, 'value-000001');
  const before = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  const [current] = Object.keys(before.VersionIdsToStages ?? {});
  const token = await startRotation(clients, arn, placeholder);
  await clients.secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      RemoveFromVersionId: current,
    }),
  );
  await clients.secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: token,
    }),
  );
  return arn;
}

/** The sweep's Secrets Manager over one client, and the prefixes it sweeps. */
function scoped(client: LocalClients['secretsManager'], managedPrefixes: readonly string[]) {
  return { port: new SecretsManagerAdapter(client), managedPrefixes };
}

function sweep(
  { port, managedPrefixes }: ReturnType<typeof scoped>,
  now: Date,
  sweepConfig = CONFIG,
  reconcile?: ReconcileDeps,
  ledger?: Pick<LedgerPort, 'recordRotation'>,
) {
  const config = { ...sweepConfig, managedPrefixes };
  return runSweep({ port, config, logger: createLogger(), metrics: createMetrics(), now, ledger, reconcile });
}

/**
 * Clients of their own whose Secrets Manager and DynamoDB calls land in one ordered `calls` list,
 * and whose RotateSecret keeps the configured function as AWS does (see keepConfiguredRotationFunction).
 */
function recordingClients(): LocalClients & { readonly calls: string[] } {
  const own = localClients(inject('motoEndpoint'));
  keepConfiguredRotationFunction(own, placeholder);
  const { calls } = countOperations(own);
  own.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countLedgerOperations' },
  );
  return { ...own, calls };
}

/** A propagation starter that only records what it was asked to start. */
function fakeStarter() {
  const started: { secretId: string; versionId: string; trigger: string }[] = [];
  return { started, start: async (request: (typeof started)[number]) => void started.push(request) };
}

/** The ledger's summary of a secret whose last propagation was of `versionId`. */
function propagated(secretName: string, versionId: string, status: PropagationStatus): SecretLedgerSummary {
  const startedAt = new Date(Date.now() - 3 * 3_600_000).toISOString();
  return {
    secretName,
    lastPropagation: {
      secretName,
      secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretName}-AbCdEf`,
      versionId,
      trigger: 'event',
      actor: 'eventbridge:LabelUpdated',
      executionId: 'exec-1',
      startedAt,
      status,
    },
  };
}

async function currentVersion(arn: string): Promise<string> {
  const described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  return (
    Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0] ?? ''
  );
}

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  await createLedgerTable(clients.dynamodb, LEDGER_TABLE);
  await rotatingSecret('due-a');
  await rotatingSecret('due-b');
  await createSecret(clients, `${PREFIX}never-rotated`, 'value-000002');
  const unfinished = await createSecret(clients, `${PREFIX}unfinished`, 'value-000003');
  await startRotation(clients, unfinished, placeholder);
});

describe('runSweep against Secrets Manager (moto over HTTP)', () => {
  it('leaves everything alone when nothing is due, and sees the unfinished rotation as in progress', async () => {
    const report = await sweep(scoped(clients.secretsManager, [PREFIX]), new Date());
    expect(report.listed).toBe(4);
    expect(report.rotationsStarted).toEqual([]);
    expect(report.inProgress).toEqual([`${PREFIX}unfinished`]);
    expect(report.stuck).toEqual([]);
  });

  it('starts rotations for overdue secrets and reports a rotation pending far too long as stuck', async () => {
    const report = await sweep(scoped(clients.secretsManager, [PREFIX]), in40Days());

    expect(report.rotationFailures).toEqual([]);
    expect(report.overdue).toBe(3);
    expect(report.rotationsStarted.map((r) => r.secret).sort()).toEqual([`${PREFIX}due-a`, `${PREFIX}due-b`]);
    expect(report.rotationsStarted.every((r) => typeof r.versionId === 'string')).toBe(true);
    expect(report.stuck.map((s) => s.secret)).toEqual([`${PREFIX}unfinished`]);
    // The new version exists. (What moto then does with it differs from AWS: RotateSecret without
    // a Lambda ARN makes moto forget the configured function and move AWSCURRENT to the empty version.)
    const started = report.rotationsStarted.find((r) => r.secret === `${PREFIX}due-a`)?.versionId ?? '';
    const described = await clients.secretsManager.send(
      new DescribeSecretCommand({ SecretId: `${PREFIX}due-a` }),
    );
    expect(Object.keys(described.VersionIdsToStages ?? {})).toContain(started);
  });

  it('defers rotations past the per-run cap', async () => {
    const prefix = `${PREFIX}capped/`;
    for (const name of ['one', 'two', 'three']) await rotatingSecret(`capped/${name}`);
    const report = await sweep(scoped(clients.secretsManager, [prefix]), in40Days(), {
      ...CONFIG,
      maxRotationsPerRun: 1,
    });
    expect(report.rotationsStarted).toHaveLength(1);
    expect(report.rotationsDeferred).toHaveLength(2);
  });

  it.each([
    ['overdue, and rotates it in the same run', in40Days, true],
    [
      'not overdue, and leaves the rotation to its schedule',
      () => new Date(Date.now() + 2 * 3_600_000),
      false,
    ],
  ])('repairs a stuck rotation that is %s', async (_name, now, rotated) => {
    // Prepare
    const prefix = `${PREFIX}repair-${rotated}/`;
    const arn = await createSecret(clients, `${prefix}stuck`, 'value-000004');
    const pending = await startRotation(clients, arn, placeholder);

    // Act
    const report = await sweep(scoped(clients.secretsManager, [prefix]), now(), {
      ...CONFIG,
      repairStuck: true,
    });

    // Assess
    expect(report.repaired).toEqual([{ secret: `${prefix}stuck`, pendingVersionId: pending }]);
    expect(report.repairFailures).toEqual([]);
    expect(report.rotationsStarted.map((r) => r.secret)).toEqual(rotated ? [`${prefix}stuck`] : []);
    // The stale version lost AWSPENDING. (After the sweep's RotateSecret, moto may label it
    // AWSPREVIOUS: its default version moved onto it when the rotation started, a moto quirk.)
    const described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.VersionIdsToStages?.[pending]).not.toContain('AWSPENDING');
  });

  it('reports a stuck rotation without touching it when repair is off', async () => {
    const prefix = `${PREFIX}no-repair/`;
    const arn = await createSecret(clients, `${prefix}stuck`, 'value-000005');
    const pending = await startRotation(clients, arn, placeholder);

    const report = await sweep(scoped(clients.secretsManager, [prefix]), in40Days());

    expect(report.stuck.map((s) => s.pendingVersionId)).toEqual([pending]);
    expect(report.repaired).toEqual([]);
    const described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.VersionIdsToStages?.[pending]).toEqual(['AWSPENDING']);
  });

  it('starts a propagation for each current version the ledger has not seen reach the clusters', async () => {
    // Prepare: one secret propagated, one never, one whose last propagation failed.
    const prefix = `${PREFIX}reconcile/`;
    const done = await createSecret(clients, `${prefix}done`, 'value-000006');
    const never = await createSecret(clients, `${prefix}never`, 'value-000007');
    const failed = await createSecret(clients, `${prefix}failed`, 'value-000008');
    const summaries = new Map([
      [`${prefix}done`, propagated(`${prefix}done`, await currentVersion(done), 'succeeded')],
      [`${prefix}failed`, propagated(`${prefix}failed`, await currentVersion(failed), 'failed')],
    ]);
    const ledger = new InMemoryLedger([], summaries);
    const starter = fakeStarter();

    // Act
    const report = await sweep(scoped(clients.secretsManager, [prefix]), new Date(), CONFIG, {
      ledger,
      starter,
    });

    // Assess
    expect(report.reconciled).toBe(true);
    expect(ledger.summaryCalls).toHaveLength(1);
    expect(starter.started.sort((a, b) => a.secretId.localeCompare(b.secretId))).toEqual([
      { secretId: `${prefix}failed`, versionId: await currentVersion(failed), trigger: 'reconcile' },
      { secretId: `${prefix}never`, versionId: await currentVersion(never), trigger: 'reconcile' },
    ]);
    expect(report.propagationsStarted.map((p) => p.reason).sort()).toEqual([
      'last-propagation-failed',
      'never-propagated',
    ]);
  });

  it('does not reconcile when no ledger is configured', async () => {
    const report = await sweep(scoped(clients.secretsManager, [`${PREFIX}reconcile/`]), new Date());
    expect(report.reconciled).toBe(false);
    expect(report.propagationsStarted).toEqual([]);
  });

  it('records each rotation it starts in the DynamoDB ledger first, then starts it with the recorded version id', async () => {
    // Prepare
    const prefix = `${PREFIX}recorded/`;
    const arn = await rotatingSecret('recorded/db');
    const own = recordingClients();
    const ledger = new DynamoDbLedger(own.dynamodb, LEDGER_TABLE);

    // Act
    const report = await sweep(scoped(own.secretsManager, [prefix]), in40Days(), CONFIG, undefined, ledger);

    // Assess
    expect(report.rotationFailures).toEqual([]);
    expect(report.recorded).toBe(true);
    expect(own.calls).toEqual(['ListSecrets', 'PutItem', 'UpdateItem', 'RotateSecret']);
    const [started] = report.rotationsStarted;
    const history = await ledger.history(`${prefix}db`);
    expect(history).toEqual([
      {
        kind: 'rotation',
        secretName: `${prefix}db`,
        secretArn: arn,
        versionId: started?.versionId,
        trigger: 'scheduled',
        actor: 'scheduler',
        reason: 'overdue: last rotated 40 days ago, schedule every 30 days',
        requestedAt: expect.any(String),
      },
    ]);
    // The version RotateSecret created is the one recorded (ClientRequestToken), and it is pending.
    expect((await stagesOf(clients, arn)).pending).toEqual([started?.versionId]);
  });

  it('does not start a rotation whose ledger record cannot be written, and reports it', async () => {
    // Prepare: a ledger whose table does not exist, so PutItem fails.
    const prefix = `${PREFIX}unrecorded/`;
    const arn = await rotatingSecret('unrecorded/db');
    const before = await stagesOf(clients, arn);
    const own = recordingClients();
    const ledger = new DynamoDbLedger(own.dynamodb, `${LEDGER_TABLE}-missing`);

    // Act
    const report = await sweep(scoped(own.secretsManager, [prefix]), in40Days(), CONFIG, undefined, ledger);

    // Assess
    expect(own.calls).not.toContain('RotateSecret');
    expect(report.rotationsStarted).toEqual([]);
    expect(report.rotationFailures).toEqual([
      {
        secret: `${prefix}db`,
        error: expect.stringMatching(
          new RegExp(
            `^not started: the ledger record failed: PutItem on "${prefix}db" failed: ResourceNotFoundException`,
          ),
        ),
      },
    ]);
    expect((await stagesOf(clients, arn)).stages).toEqual(before.stages);
  });
});
