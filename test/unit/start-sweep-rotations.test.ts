import { describe, expect, it } from 'vitest';
import type { RotationRecord } from '../../shared/ledger/ledger-port';
import { planSweep } from '../../shared/sweep/plan-sweep';
import type { SecretSummary } from '../../shared/sweep/secret-summary';
import { startSweepRotations } from '../../shared/sweep/start-sweep-rotations';
import { InMemoryLedger } from '../support/in-memory-ledger';

const NOW = new Date('2026-11-23T12:00:00Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

/** Overdue decisions, as planSweep makes them: last rotated 40 days ago on a 30-day schedule. */
function overdue(...names: string[]) {
  const secrets: SecretSummary[] = names.map((name) => ({
    name,
    arn: arnOf(name),
    createdDate: new Date(NOW.getTime() - 100 * 86_400_000),
    lastRotatedDate: new Date(NOW.getTime() - 40 * 86_400_000),
    rotationEnabled: true,
    rotationIntervalDays: 30,
    versionIdsToStages: { v1: ['AWSCURRENT'] },
    tags: {},
  }));
  return planSweep(secrets, { now: NOW });
}

/** RotateSecret that logs to the shared `calls` list, and fails for the secrets in `failFor`. */
function fakePort(calls: string[], failFor: string[] = []) {
  const rotated: { secretId: string; versionId: string }[] = [];
  return {
    rotated,
    rotateSecret: async (request: { secretId: string; versionId: string }) => {
      calls.push(`RotateSecret ${request.secretId}`);
      if (failFor.some((name) => request.secretId === arnOf(name))) {
        throw new Error('LimitExceededException');
      }
      rotated.push(request);
    },
  };
}

/** The in-memory ledger whose write fails for the secrets in `failFor`, as a throttled PutItem would. */
class FailingLedger extends InMemoryLedger {
  constructor(
    calls: string[],
    private readonly failFor: string[],
  ) {
    super(calls);
  }

  override async recordRotation(record: RotationRecord): Promise<void> {
    if (this.failFor.includes(record.secretName)) {
      this.calls.push(`ledger.recordRotation ${record.secretName} (failed)`);
      throw new Error('ProvisionedThroughputExceededException');
    }
    this.calls.push(`ledger.recordRotation ${record.secretName}`);
    this.rotations.push(record);
  }
}

const deps = { now: NOW, cap: 10, repaired: new Map<string, string>() };

describe('startSweepRotations', () => {
  it('records each rotation in the ledger, then starts it with the recorded version id', async () => {
    // Prepare
    const calls: string[] = [];
    const ledger = new FailingLedger(calls, []);
    const port = fakePort(calls);

    // Act
    const report = await startSweepRotations(overdue('prod/app/db'), { ...deps, port, ledger });

    // Assess
    expect(calls).toEqual(['ledger.recordRotation prod/app/db', `RotateSecret ${arnOf('prod/app/db')}`]);
    const [record] = ledger.rotations;
    expect(record).toEqual({
      secretName: 'prod/app/db',
      secretArn: arnOf('prod/app/db'),
      versionId: expect.stringMatching(UUID),
      trigger: 'scheduled',
      actor: 'scheduler',
      reason: 'overdue: last rotated 40 days ago, schedule every 30 days',
      requestedAt: NOW.toISOString(),
    });
    expect(port.rotated).toEqual([{ secretId: arnOf('prod/app/db'), versionId: record?.versionId }]);
    expect(report).toEqual({
      rotationsStarted: [{ secret: 'prod/app/db', versionId: record?.versionId }],
      rotationsDeferred: [],
      rotationFailures: [],
    });
  });

  it('does not call RotateSecret for a secret whose record failed, reports it, and goes on with the others', async () => {
    // Prepare
    const calls: string[] = [];
    const ledger = new FailingLedger(calls, ['prod/app/b']);
    const port = fakePort(calls);

    // Act
    const report = await startSweepRotations(overdue('prod/app/a', 'prod/app/b', 'prod/app/c'), {
      ...deps,
      port,
      ledger,
    });

    // Assess
    expect(calls).not.toContain(`RotateSecret ${arnOf('prod/app/b')}`);
    expect(port.rotated.map((r) => r.secretId).sort()).toEqual([arnOf('prod/app/a'), arnOf('prod/app/c')]);
    expect(report.rotationFailures).toEqual([
      {
        secret: 'prod/app/b',
        error: 'not started: the ledger record failed: ProvisionedThroughputExceededException',
      },
    ]);
    expect(report.rotationsStarted.map((r) => r.secret).sort()).toEqual(['prod/app/a', 'prod/app/c']);
    // Every rotation started was recorded first, under the same version id.
    for (const { secretId, versionId } of port.rotated) {
      expect(ledger.rotations).toContainEqual(expect.objectContaining({ secretArn: secretId, versionId }));
    }
  });

  it('reports a RotateSecret failure after the record, and goes on with the others', async () => {
    const calls: string[] = [];
    const ledger = new FailingLedger(calls, []);
    const port = fakePort(calls, ['prod/app/a']);

    const report = await startSweepRotations(overdue('prod/app/a', 'prod/app/b'), { ...deps, port, ledger });

    expect(report.rotationFailures).toEqual([{ secret: 'prod/app/a', error: 'LimitExceededException' }]);
    expect(report.rotationsStarted.map((r) => r.secret)).toEqual(['prod/app/b']);
    expect(ledger.rotations.map((r) => r.secretName).sort()).toEqual(['prod/app/a', 'prod/app/b']);
  });

  it('rotates with a version id of its own and records nothing when no ledger is given', async () => {
    const calls: string[] = [];
    const port = fakePort(calls);

    const report = await startSweepRotations(overdue('prod/app/db'), { ...deps, port });

    expect(calls).toEqual([`RotateSecret ${arnOf('prod/app/db')}`]);
    expect(port.rotated[0]?.versionId).toMatch(UUID);
    expect(report.rotationsStarted).toEqual([
      { secret: 'prod/app/db', versionId: port.rotated[0]?.versionId },
    ]);
  });

  it('records and starts at most `cap` rotations, deferring the rest unrecorded', async () => {
    const calls: string[] = [];
    const ledger = new FailingLedger(calls, []);

    const report = await startSweepRotations(overdue('prod/app/a', 'prod/app/b', 'prod/app/c'), {
      ...deps,
      cap: 1,
      port: fakePort(calls),
      ledger,
    });

    expect(ledger.rotations.map((r) => r.secretName)).toEqual(['prod/app/a']);
    expect(report.rotationsDeferred).toEqual(['prod/app/b', 'prod/app/c']);
  });

  it('names the stuck rotation this run repaired in the record', async () => {
    const ledger = new FailingLedger([], []);

    await startSweepRotations(overdue('prod/app/db'), {
      ...deps,
      repaired: new Map([['prod/app/db', 'stale-version']]),
      port: fakePort([]),
      ledger,
    });

    expect(ledger.rotations[0]?.repairedPendingVersionId).toBe('stale-version');
  });
});
