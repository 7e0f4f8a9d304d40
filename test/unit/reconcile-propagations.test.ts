import { describe, expect, it } from 'vitest';
import { reconcilePropagations } from '../../shared/sweep/reconcile-propagations';
import type { SecretSummary } from '../../shared/sweep/secret-summary';
import { InMemoryLedger } from '../support/in-memory-ledger';

const NOW = new Date('2026-11-23T12:00:00Z');
const secrets = (count: number): SecretSummary[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `prod/app/s${i}`,
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/s${i}-AbCdEf`,
    rotationEnabled: true,
    versionIdsToStages: { [`v${i}`]: ['AWSCURRENT'] },
    tags: {},
  }));

function starter(failFor: string[] = []) {
  const started: string[] = [];
  return {
    started,
    start: async (request: { secretId: string }) => {
      if (failFor.includes(request.secretId)) throw new Error('ExecutionLimitExceeded');
      started.push(request.secretId);
    },
  };
}

describe('reconcilePropagations', () => {
  it('reads ledger summaries 100 secrets a call', async () => {
    const ledger = new InMemoryLedger();
    await reconcilePropagations(
      secrets(250),
      { ledger, starter: starter() },
      { now: NOW, leaseMs: 1, maxPerRun: 0 },
    );
    expect(ledger.summaryCalls.map((names) => names.length)).toEqual([100, 100, 50]);
  });

  it('starts at most maxPerRun propagations and defers the rest', async () => {
    const fake = starter();
    const report = await reconcilePropagations(
      secrets(5),
      { ledger: new InMemoryLedger(), starter: fake },
      { now: NOW, leaseMs: 1, maxPerRun: 2 },
    );
    expect(fake.started).toHaveLength(2);
    expect(report.propagationsStarted).toHaveLength(2);
    expect(report.propagationsDeferred).toEqual(['prod/app/s2', 'prod/app/s3', 'prod/app/s4']);
  });

  it('reports a failed start and goes on with the others', async () => {
    const fake = starter(['prod/app/s0']);
    const report = await reconcilePropagations(
      secrets(3),
      { ledger: new InMemoryLedger(), starter: fake },
      { now: NOW, leaseMs: 1, maxPerRun: 10 },
    );
    expect(report.propagationFailures).toEqual([{ secret: 'prod/app/s0', error: 'ExecutionLimitExceeded' }]);
    expect(fake.started.sort()).toEqual(['prod/app/s1', 'prod/app/s2']);
  });
});
