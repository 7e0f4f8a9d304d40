import { describe, expect, it } from 'vitest';
import { overdueReason, planSweep } from '../../shared/sweep/plan-sweep';
import type { SecretSummary } from '../../shared/sweep/secret-summary';

const NOW = new Date('2026-11-23T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

function secret(extra: Partial<SecretSummary> = {}): SecretSummary {
  return {
    name: 'prod/app/db',
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
    createdDate: daysAgo(100),
    rotationEnabled: true,
    versionIdsToStages: { v1: ['AWSCURRENT'] },
    tags: {},
    ...extra,
  };
}

describe('planSweep', () => {
  it('measures age from the last rotation, or from creation when never rotated', () => {
    const [rotated, never] = planSweep([secret({ lastRotatedDate: daysAgo(3) }), secret()], { now: NOW });
    expect(rotated?.ageDays).toBeCloseTo(3);
    expect(never?.ageDays).toBeCloseTo(100);
  });

  it.each<[string, Partial<SecretSummary>, string]>([
    ['past NextRotationDate plus grace', { nextRotationDate: daysAgo(2) }, 'rotate'],
    ['within the grace period', { nextRotationDate: daysAgo(0.5) }, 'none'],
    ['not yet due', { nextRotationDate: daysAgo(-5) }, 'none'],
    [
      'past its interval with no NextRotationDate',
      { rotationIntervalDays: 30, lastRotatedDate: daysAgo(40) },
      'rotate',
    ],
    ['inside its interval', { rotationIntervalDays: 30, lastRotatedDate: daysAgo(10) }, 'none'],
    ['old but without rotation enabled', { rotationEnabled: false, nextRotationDate: daysAgo(50) }, 'none'],
    ['with no schedule at all', {}, 'none'],
  ])('a secret %s → %s', (_name, extra, kind) => {
    const [decision] = planSweep([secret(extra)], { now: NOW });
    expect(decision?.action.kind).toBe(kind);
    expect(decision?.overdue).toBe(kind === 'rotate');
  });

  it('looks closer at an unfinished rotation instead of starting another, even when overdue', () => {
    const pending = secret({
      nextRotationDate: daysAgo(9),
      versionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] },
    });
    const [decision] = planSweep([pending], { now: NOW });
    expect(decision?.overdue).toBe(true);
    expect(decision?.action).toEqual({ kind: 'check-pending', pendingVersionId: 'v2' });
  });

  it('honours a custom grace period', () => {
    const [decision] = planSweep([secret({ nextRotationDate: daysAgo(0.5) })], {
      now: NOW,
      graceMs: 3_600_000,
    });
    expect(decision?.action.kind).toBe('rotate');
  });
});

describe('overdueReason', () => {
  it.each<[string, Partial<SecretSummary>, string]>([
    [
      'rotated before, on an interval in days',
      { rotationIntervalDays: 30, lastRotatedDate: daysAgo(40.7) },
      'overdue: last rotated 40 days ago, schedule every 30 days',
    ],
    [
      'never rotated, on an interval in days',
      { rotationIntervalDays: 30 },
      'overdue: never rotated, created 100 days ago, schedule every 30 days',
    ],
    [
      'on a schedule expression (no interval in days)',
      { lastRotatedDate: daysAgo(9), nextRotationDate: new Date('2026-11-16T00:00:00Z') },
      'overdue: last rotated 9 days ago, due 2026-11-16T00:00:00.000Z',
    ],
  ])('a secret %s', (_name, extra, reason) => {
    const [decision] = planSweep([secret(extra)], { now: NOW });
    expect(decision?.action).toEqual({ kind: 'rotate', reason });
    expect(decision && overdueReason(decision)).toBe(reason);
  });
});
