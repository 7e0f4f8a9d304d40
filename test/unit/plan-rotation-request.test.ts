import { describe, expect, it } from 'vitest';
import {
  isStuck,
  planRotationRequest,
  type RotationRequestFacts,
} from '../../shared/requests/plan-rotation-request';

const HOUR = 3_600_000;
const IDLE = { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] };
const FINISHED = { v2: ['AWSCURRENT', 'AWSPENDING'], v1: ['AWSPREVIOUS'] };
const UNFINISHED = { v1: ['AWSCURRENT'], p1: ['AWSPENDING'] };

function facts(extra: Partial<RotationRequestFacts>): RotationRequestFacts {
  return {
    versionIdsToStages: IDLE,
    versionId: 'new',
    emergency: false,
    pendingAgeMs: undefined,
    stuckAfterMs: HOUR,
    ...extra,
  };
}

describe('planRotationRequest', () => {
  it.each<[string, Partial<RotationRequestFacts>, object]>([
    ['no rotation under way', {}, { kind: 'rotate' }],
    [
      'AWSPENDING left on the current version by a finished rotation',
      { versionIdsToStages: FINISHED },
      { kind: 'rotate' },
    ],
    [
      'a fresh unfinished rotation',
      { versionIdsToStages: UNFINISHED, pendingAgeMs: HOUR / 2 },
      { kind: 'refuse', pendingVersionId: 'p1' },
    ],
    [
      'a fresh unfinished rotation, in an emergency',
      { versionIdsToStages: UNFINISHED, pendingAgeMs: 1, emergency: true },
      { kind: 'repair-then-rotate', pendingVersionId: 'p1' },
    ],
    [
      'an unfinished rotation older than the threshold',
      { versionIdsToStages: UNFINISHED, pendingAgeMs: HOUR + 1 },
      { kind: 'repair-then-rotate', pendingVersionId: 'p1' },
    ],
    [
      'an unfinished rotation of unknown age',
      { versionIdsToStages: UNFINISHED, pendingAgeMs: undefined },
      { kind: 'repair-then-rotate', pendingVersionId: 'p1' },
    ],
    [
      'a retry whose version is pending',
      { versionIdsToStages: { v1: ['AWSCURRENT'], new: ['AWSPENDING'] } },
      { kind: 'already-requested' },
    ],
    [
      'a retry whose version already finished',
      { versionIdsToStages: { new: ['AWSCURRENT'], v1: ['AWSPREVIOUS'] } },
      { kind: 'already-requested' },
    ],
  ])('%s → %j', (_name, extra, plan) => {
    expect(planRotationRequest(facts(extra))).toEqual(plan);
  });
});

describe('isStuck', () => {
  it.each([
    [HOUR - 1, false],
    [HOUR, false],
    [HOUR + 1, true],
    [undefined, true],
  ])('a pending version %s ms old with a one-hour threshold → %s', (age, stuck) => {
    expect(isStuck(age, HOUR)).toBe(stuck);
  });
});
