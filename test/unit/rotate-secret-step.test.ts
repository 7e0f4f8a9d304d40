import { inspect } from 'node:util';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { RotationTestFailedError } from '../../shared/errors';
import { logFailureOnce } from '../../shared/log-failure-once';
import { createLogger } from '../../shared/observability';
import { type RotationDeps, rotateSecretStep } from '../../shared/rotation/rotate-secret-step';
import type { RotationStrategy } from '../../shared/rotation/strategy';
import type { SecretDescription } from '../../shared/secrets/secrets-port';
import { captureOutput, findLeakedValues } from '../support/output-capture';

const TOKEN = '7f0c1b52-4a1e-4c6b-9d5e-2b8f3a9c1d00';
const PASSWORD = 'pending-db-password-0001';
const SECRET: SecretDescription = {
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
  name: 'prod/app/db',
  rotationEnabled: true,
  versionIdsToStages: { 'current-version': ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] },
  tags: { 'rotator:strategy': 'database' },
};

class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/** A strategy whose test fails as a database driver does: its message carries the DSN it used. */
const leakyDatabase: RotationStrategy = {
  name: 'database',
  createValue: async () => PASSWORD,
  applyToTarget: async () => {},
  test: async ({ pending }) => {
    throw new DatabaseError(
      `password authentication failed for user "app" (postgres://app:${pending}@db.internal:5432/app)`,
    );
  },
};

function deps() {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn() };
  const secrets = {
    describeSecret: vi.fn(async () => SECRET),
    getSecretString: vi.fn(async () => PASSWORD),
    findSecretString: vi.fn(async () => PASSWORD),
    putPendingValue: vi.fn(async () => {}),
    moveCurrentStage: vi.fn(async () => {}),
  };
  const rotation: RotationDeps = {
    config: { managedPrefixes: ['prod/app/'], defaultPasswordPolicy: {} },
    secrets,
    strategies: { database: leakyDatabase },
    logger,
    metrics: { addDimension: vi.fn(), addMetric: vi.fn() },
  };
  return { rotation, logger, secrets };
}

describe('rotateSecretStep testSecret, when the strategy’s error carries a DSN with the password', () => {
  it('fails with RotationTestFailedError naming the error class, without the password, and never moves AWSCURRENT', async () => {
    // Prepare
    const { rotation, secrets } = deps();

    // Act
    const thrown = await rotateSecretStep(
      { Step: 'testSecret', SecretId: SECRET.name, ClientRequestToken: TOKEN },
      rotation,
    ).catch((e: unknown) => e);

    // Assess
    expect(thrown).toBeInstanceOf(RotationTestFailedError);
    const error = thrown as RotationTestFailedError;
    expect(error.strategyErrorName).toBe('DatabaseError');
    expect(error.message).toBe(
      'Pending version of "prod/app/db" failed its test: DatabaseError (password authentication failed for user "app" (postgres://***@db.internal:5432/app))',
    );
    expect(inspect(error, { depth: 10 })).not.toContain(PASSWORD);
    expect(JSON.stringify(error)).not.toContain(PASSWORD);
    expect(secrets.moveCurrentStage).not.toHaveBeenCalled();
  });

  it('is logged once by the handler’s logFailureOnce, without the password', async () => {
    // Prepare: the rotation function's stack, with a real Powertools logger writing JSON lines.
    const { rotation } = deps();
    const logger = createLogger();
    const handler = middy()
      .use(logFailureOnce(logger, 'rotation step failed'))
      .handler((event: unknown) => rotateSecretStep(event, { ...rotation, logger }));
    const output = captureOutput();

    // Act
    try {
      await handler(
        { Step: 'testSecret', SecretId: SECRET.name, ClientRequestToken: TOKEN },
        {} as Context,
      ).catch(() => undefined);
    } finally {
      output.stop();
    }

    // Assess
    const failures = output
      .text()
      .split('\n')
      .filter((line) => line.includes('"rotation step failed"'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('DatabaseError');
    expect(findLeakedValues(output.text(), [PASSWORD])).toEqual([]);
  });
});
