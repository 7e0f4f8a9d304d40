import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../scripts/local/local-aws';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  startRotation,
} from '../../scripts/local/rotation-fixture';
import { SweepAdapter } from '../../shared/aws/sweep-adapter';
import { createLogger, createMetrics } from '../../shared/observability';
import { runSweep } from '../../shared/sweep/run-sweep';

const clients = localClients(inject('motoEndpoint'));
const PREFIX = `sweep-run-${randomUUID().slice(0, 6)}/`;
const CONFIG = { graceMs: 86_400_000, stuckAfterMs: 3_600_000, maxRotationsPerRun: 10 };
const in40Days = () => new Date(Date.now() + 40 * 86_400_000);
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

function sweep(port: SweepAdapter, now: Date, config = CONFIG) {
  return runSweep({ port, config, logger: createLogger(), metrics: createMetrics(), now });
}

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
  await rotatingSecret('due-a');
  await rotatingSecret('due-b');
  await createSecret(clients, `${PREFIX}never-rotated`, 'value-000002');
  const unfinished = await createSecret(clients, `${PREFIX}unfinished`, 'value-000003');
  await startRotation(clients, unfinished, placeholder);
});

describe('runSweep against Secrets Manager (moto over HTTP)', () => {
  it('leaves everything alone when nothing is due, and sees the unfinished rotation as in progress', async () => {
    const report = await sweep(new SweepAdapter(clients.secretsManager, [PREFIX]), new Date());
    expect(report.listed).toBe(4);
    expect(report.rotationsStarted).toEqual([]);
    expect(report.inProgress).toEqual([`${PREFIX}unfinished`]);
    expect(report.stuck).toEqual([]);
  });

  it('starts rotations for overdue secrets and reports a rotation pending far too long as stuck', async () => {
    const report = await sweep(new SweepAdapter(clients.secretsManager, [PREFIX]), in40Days());

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
    const report = await sweep(new SweepAdapter(clients.secretsManager, [prefix]), in40Days(), {
      ...CONFIG,
      maxRotationsPerRun: 1,
    });
    expect(report.rotationsStarted).toHaveLength(1);
    expect(report.rotationsDeferred).toHaveLength(2);
  });
});
