import { describe, expect, it } from 'vitest';
import { RotationStateError } from '../../shared/errors';
import { decideStep } from '../../shared/rotation/step-guard';
import type { SecretDescription } from '../../shared/secrets/secrets-port';

function secret(stages: Record<string, string[]>, rotationEnabled = true): SecretDescription {
  return { arn: 'arn:x', name: 'prod/app/db', rotationEnabled, versionIdsToStages: stages, tags: {} };
}

describe('decideStep', () => {
  it('runs the step for an AWSPENDING version', () => {
    expect(decideStep(secret({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }), 'v2')).toEqual({ kind: 'run' });
  });

  it('does nothing for a version that is already AWSCURRENT', () => {
    expect(decideStep(secret({ v1: ['AWSCURRENT', 'AWSPENDING'] }), 'v1')).toEqual({
      kind: 'already-current',
    });
  });

  it.each([
    ['rotation is disabled', secret({ v2: ['AWSPENDING'] }, false), 'v2', /not enabled/],
    ['the token is not a version', secret({ v1: ['AWSCURRENT'] }), 'v9', /not a version/],
    ['the token is AWSPREVIOUS', secret({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] }), 'v1', /not AWSPENDING/],
    ['the token has no stage', secret({ v1: [], v2: ['AWSCURRENT'] }), 'v1', /not AWSPENDING/],
  ])('refuses when %s', (_name, description, token, message) => {
    expect(() => decideStep(description, token)).toThrow(RotationStateError);
    expect(() => decideStep(description, token)).toThrow(message);
  });
});
