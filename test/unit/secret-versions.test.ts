import { describe, expect, it } from 'vitest';
import { versionWith } from '../../shared/secrets/versions';

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
