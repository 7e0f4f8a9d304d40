import { describe, expect, it } from 'vitest';
import type { SecretLedgerSummary } from '../../shared/ledger/ledger-port';
import { decideReconcile } from '../../shared/sweep/plan-reconcile';

const NOW = new Date('2026-11-23T12:00:00Z');
const LEASE = 60 * 60_000;
const secret = { versionIdsToStages: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'] } };
const iso = (offsetMinutes: number) => new Date(NOW.getTime() + offsetMinutes * 60_000).toISOString();

/** The current version in progress for two days (far past its lease), waiting for a restart window. */
function waiting(leaseUntil: string): SecretLedgerSummary {
  return {
    secretName: 'prod/app/db',
    lastPropagation: {
      secretName: 'prod/app/db',
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
      versionId: 'v2',
      trigger: 'event',
      actor: 'eventbridge:LabelUpdated',
      executionId: 'exec-1',
      startedAt: iso(-2 * 24 * 60),
      status: 'in-progress',
      windowWait: { cluster: 'prod', until: iso(-60), held: 3, notedAt: iso(-2 * 24 * 60), leaseUntil },
    },
  };
}

describe('decideReconcile and a propagation waiting for a restart window', () => {
  it('leaves it alone while its extended lease runs, whatever its age', () => {
    expect(decideReconcile(secret, waiting(iso(1)), { now: NOW, leaseMs: LEASE })).toEqual({
      action: 'none',
      reason: 'in-progress',
    });
  });

  it('starts one again once the extended lease has run out too (its holder died)', () => {
    expect(decideReconcile(secret, waiting(iso(-1)), { now: NOW, leaseMs: LEASE })).toMatchObject({
      action: 'start',
      reason: 'propagation-lease-expired',
    });
  });
});
