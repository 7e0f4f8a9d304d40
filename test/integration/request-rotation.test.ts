import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { localClients } from '../../harness/local-aws';
import { createSecret, ensurePlaceholderRotationFunction } from '../../harness/rotation-fixture';
import { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { InvalidEventError, RotationInProgressError, SecretNotManagedError } from '../../shared/errors';
import type { LedgerEntry, LedgerPort } from '../../shared/ledger/ledger-port';
import { createLogger, createMetrics } from '../../shared/observability';
import { requestRotation } from '../../shared/requests/request-rotation';
import { InMemoryLedger } from '../support/in-memory-ledger';
import { countOperations } from '../support/rotation-harness';
import {
  idleRotatingSecret,
  keepConfiguredRotationFunction,
  stagesOf,
  unfinishedRotationSecret,
} from '../support/rotation-request-fixture';

const clients = localClients(inject('motoEndpoint'));
const PREFIX = `request-${randomUUID().slice(0, 6)}/`;
const HOUR = 3_600_000;
let placeholder: string;

/**
 * The in-memory ledger plus the one read an emergency makes (its cooldown; the real ledger's
 * history against moto is in emergency-cooldown.test.ts): the rotations recorded, newest first.
 */
class RequestLedger extends InMemoryLedger implements Pick<LedgerPort, 'history'> {
  async history(secretName: string): Promise<LedgerEntry[]> {
    this.calls.push('ledger.history');
    return this.rotations
      .filter((r) => r.secretName === secretName)
      .reverse()
      .map((r) => ({ kind: 'rotation', ...r }));
  }
}

/** The domain over the real adapter; SDK calls and ledger writes land in one ordered `calls` list. */
function setUp(options: { now?: Date } = {}) {
  const own = localClients(inject('motoEndpoint'));
  keepConfiguredRotationFunction(own, placeholder);
  const recorder = countOperations(own);
  const ledger = new RequestLedger(recorder.calls);
  const deps = {
    port: new SecretsManagerAdapter(own.secretsManager),
    ledger,
    config: { managedPrefixes: [PREFIX], stuckAfterMs: HOUR, emergencyCooldownMs: HOUR / 4 },
    logger: createLogger(),
    metrics: createMetrics(),
    now: () => options.now ?? new Date(),
  };
  return { calls: recorder.calls, ledger, deps };
}

const request = (secretId: string, extra: Record<string, unknown> = {}) => ({
  secretId,
  reason: '  leaked in a build log  ',
  actor: 'arn:aws:iam::123456789012:role/responder',
  trigger: 'request',
  emergency: false,
  retirePrevious: true,
  ...extra,
});

beforeAll(async () => {
  placeholder = await ensurePlaceholderRotationFunction(clients);
});

describe('requestRotation against Secrets Manager (moto over HTTP)', () => {
  it('records the rotation in the ledger first, then starts it with our version id as AWSPENDING', async () => {
    // Prepare
    const { arn, currentVersionId } = await idleRotatingSecret(
      clients,
      `${PREFIX}db`,
      'value-request-01',
      placeholder,
    );
    const { calls, ledger, deps } = setUp();
    const versionId = randomUUID();

    // Act
    const result = await requestRotation(request(arn, { versionId }), deps);

    // Assess
    expect(result).toEqual({ secretName: `${PREFIX}db`, secretArn: arn, versionId });
    expect(calls).toEqual(['DescribeSecret', 'ledger.recordRotation', 'RotateSecret']);
    expect(ledger.rotations).toEqual([
      expect.objectContaining({
        secretName: `${PREFIX}db`,
        versionId,
        trigger: 'request',
        actor: 'arn:aws:iam::123456789012:role/responder',
        reason: 'leaked in a build log',
        emergency: false,
        retirePrevious: true,
      }),
    ]);
    const after = await stagesOf(clients, arn);
    expect(after.pending).toEqual([versionId]);
    expect(after.current).toBe(currentVersionId);
  });

  it('is idempotent for a retried request with the same version id', async () => {
    const { arn } = await idleRotatingSecret(clients, `${PREFIX}retried`, 'value-request-02', placeholder);
    const first = setUp();
    const versionId = randomUUID();
    await requestRotation(request(arn, { versionId }), first.deps);
    const before = await stagesOf(clients, arn);
    const retry = setUp();

    const result = await requestRotation(request(arn, { versionId }), retry.deps);

    expect(result.versionId).toBe(versionId);
    expect(retry.calls).toEqual(['DescribeSecret']);
    expect(retry.ledger.rotations).toEqual([]);
    expect((await stagesOf(clients, arn)).stages).toEqual(before.stages);
  });

  it('repairs a stuck rotation (AWSPENDING removed from it), records the repair, then rotates', async () => {
    const { arn, pendingVersionId } = await unfinishedRotationSecret(
      clients,
      `${PREFIX}stuck`,
      'value-request-03',
      placeholder,
    );
    const { calls, ledger, deps } = setUp({ now: new Date(Date.now() + 2 * HOUR) });

    const result = await requestRotation(request(arn), deps);

    expect(result.repairedPendingVersionId).toBe(pendingVersionId);
    expect(calls).toEqual([
      'DescribeSecret',
      'ListSecretVersionIds',
      'UpdateSecretVersionStage',
      'ledger.recordRotation',
      'RotateSecret',
    ]);
    expect(ledger.rotations[0]?.repairedPendingVersionId).toBe(pendingVersionId);
    const after = await stagesOf(clients, arn);
    expect(after.pending).toEqual([result.versionId]);
    expect(after.stages[pendingVersionId]).toEqual([]);
  });

  it('repairs a fresh unfinished rotation too when the request is an emergency', async () => {
    const { arn, pendingVersionId } = await unfinishedRotationSecret(
      clients,
      `${PREFIX}emergency`,
      'value-request-04',
      placeholder,
    );
    const { calls, deps } = setUp();

    const result = await requestRotation(request(arn, { emergency: true, trigger: 'emergency' }), deps);

    expect(result.repairedPendingVersionId).toBe(pendingVersionId);
    expect(calls).toEqual([
      'DescribeSecret',
      'ledger.history',
      'UpdateSecretVersionStage',
      'ledger.recordRotation',
      'RotateSecret',
    ]);
    expect((await stagesOf(clients, arn)).pending).toEqual([result.versionId]);
  });

  it('refuses a fresh rotation in progress with RotationInProgressError and changes nothing', async () => {
    const { arn, pendingVersionId } = await unfinishedRotationSecret(
      clients,
      `${PREFIX}in-progress`,
      'value-request-05',
      placeholder,
    );
    const before = await stagesOf(clients, arn);
    const { calls, ledger, deps } = setUp();

    const refused = requestRotation(request(arn), deps);

    await expect(refused).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(refused).rejects.toMatchObject({ pendingVersionId });
    expect(calls).toEqual(['DescribeSecret', 'ListSecretVersionIds']);
    expect(ledger.rotations).toEqual([]);
    expect((await stagesOf(clients, arn)).stages).toEqual(before.stages);
  });

  it('refuses a secret outside the managed prefixes before any call', async () => {
    const arn = await createSecret(clients, `other-${PREFIX}db`, 'value-request-06');
    const { calls, deps } = setUp();

    await expect(requestRotation(request(arn), deps)).rejects.toBeInstanceOf(SecretNotManagedError);
    expect(calls).toEqual([]);
  });

  it.each([
    ['no reason', { reason: undefined }],
    ['a blank reason', { reason: '   ' }],
    ['a reason over 512 characters', { reason: 'x'.repeat(513) }],
    ['an unknown trigger', { trigger: 'whenever' }],
    ['emergency as a string', { emergency: 'yes' }],
    ['a version id too short for a ClientRequestToken', { versionId: 'abc' }],
  ])('refuses malformed input (%s) before any call', async (_name, extra) => {
    const { calls, deps } = setUp();

    await expect(requestRotation(request(`${PREFIX}db`, extra), deps)).rejects.toBeInstanceOf(
      InvalidEventError,
    );
    expect(calls).toEqual([]);
  });
});
