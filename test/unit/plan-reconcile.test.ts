import { describe, expect, it } from 'vitest';
import type { PropagationStatus, SecretLedgerSummary } from '../../shared/ledger/ledger-port';
import { decideReconcile } from '../../shared/sweep/plan-reconcile';

const NOW = new Date('2026-11-23T12:00:00Z');
const LEASE = 60 * 60_000;
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const secret = { versionIdsToStages: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'] } };

function summary(versionId: string, status: PropagationStatus, startedMinutesAgo = 5): SecretLedgerSummary {
  return {
    secretName: 'prod/app/db',
    lastPropagation: {
      secretName: 'prod/app/db',
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
      versionId,
      trigger: 'event',
      actor: 'eventbridge:LabelUpdated',
      executionId: 'exec-1',
      startedAt: minutesAgo(startedMinutesAgo),
      status,
    },
  };
}

describe('decideReconcile', () => {
  it.each<[string, SecretLedgerSummary | undefined, string, string]>([
    ['no ledger entry at all', undefined, 'start', 'never-propagated'],
    [
      'a summary with no propagation (rotation only)',
      { secretName: 'prod/app/db' },
      'start',
      'never-propagated',
    ],
    ['the current version propagated', summary('v2', 'succeeded'), 'none', 'propagated'],
    ['an older version propagated', summary('v1', 'succeeded'), 'start', 'current-version-not-propagated'],
    ['the current version failed', summary('v2', 'failed'), 'start', 'last-propagation-failed'],
    ['an older version failed', summary('v1', 'failed'), 'start', 'current-version-not-propagated'],
    [
      'the current version in progress within its lease',
      summary('v2', 'in-progress', 59),
      'none',
      'in-progress',
    ],
    [
      'an older version in progress within its lease',
      summary('v1', 'in-progress', 10),
      'none',
      'in-progress',
    ],
    [
      'the current version in progress past its lease',
      summary('v2', 'in-progress', 61),
      'start',
      'propagation-lease-expired',
    ],
    [
      'an older version in progress past its lease',
      summary('v1', 'in-progress', 90),
      'start',
      'current-version-not-propagated',
    ],
  ])('%s → %s (%s)', (_name, ledgerSummary, action, reason) => {
    expect(decideReconcile(secret, ledgerSummary, { now: NOW, leaseMs: LEASE })).toMatchObject({
      action,
      reason,
    });
  });

  it('starts the AWSCURRENT version', () => {
    expect(decideReconcile(secret, undefined, { now: NOW, leaseMs: LEASE })).toEqual({
      action: 'start',
      versionId: 'v2',
      reason: 'never-propagated',
    });
  });

  it('does nothing for a secret with no AWSCURRENT version', () => {
    expect(
      decideReconcile({ versionIdsToStages: { v1: ['AWSPENDING'] } }, undefined, {
        now: NOW,
        leaseMs: LEASE,
      }),
    ).toEqual({ action: 'none', reason: 'no-current-version' });
  });
});
