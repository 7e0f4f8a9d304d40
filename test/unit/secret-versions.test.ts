import { describe, expect, it } from 'vitest';
import { unfinishedPendingVersion, versionWith } from '../../shared/secrets/versions';

describe('versionWith', () => {
  const stages = { a: ['AWSPREVIOUS'], b: ['AWSCURRENT', 'custom'], c: ['AWSPENDING'] };

  it.each([
    ['AWSCURRENT', 'b'],
    ['AWSPREVIOUS', 'a'],
    ['AWSPENDING', 'c'],
    ['custom', 'b'],
  ])('finds the version holding %s', (stage, versionId) => {
    expect(versionWith(stages, stage)).toBe(versionId);
  });

  it('is undefined when no version holds the label', () => {
    expect(versionWith({ a: ['AWSPENDING'] }, 'AWSCURRENT')).toBeUndefined();
    expect(versionWith({}, 'AWSCURRENT')).toBeUndefined();
  });
});

describe('unfinishedPendingVersion', () => {
  it('ignores AWSPENDING left on the current version, as a finished rotation leaves it', () => {
    expect(
      unfinishedPendingVersion({ v2: ['AWSCURRENT', 'AWSPENDING'], v1: ['AWSPREVIOUS'] }),
    ).toBeUndefined();
  });

  it('finds AWSPENDING on a version that is not current', () => {
    expect(unfinishedPendingVersion({ v1: ['AWSCURRENT'], v3: ['AWSPENDING'] })).toBe('v3');
  });
});
