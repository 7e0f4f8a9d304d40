import { describe, expect, it } from 'vitest';
import { RotationPolicyError } from '../../shared/errors';
import {
  DEFAULT_PASSWORD_POLICY,
  policyFromTags,
  resolvePasswordPolicy,
} from '../../shared/rotation/password-policy';

describe('resolvePasswordPolicy', () => {
  it('uses safe defaults when nothing is configured', () => {
    expect(resolvePasswordPolicy({}, {})).toEqual(DEFAULT_PASSWORD_POLICY);
    expect(DEFAULT_PASSWORD_POLICY.length).toBeGreaterThanOrEqual(32);
    expect(DEFAULT_PASSWORD_POLICY.requireEachIncludedType).toBe(true);
  });

  it('lets the deployment override the defaults and tags override the deployment', () => {
    const policy = resolvePasswordPolicy(
      { length: 40, excludePunctuation: true, fields: ['password'] },
      { 'rotator:length': '64', 'rotator:fields': 'password apiKey' },
    );
    expect(policy).toMatchObject({ length: 64, excludePunctuation: true, fields: ['password', 'apiKey'] });
  });

  it('ignores undefined deployment fields instead of erasing defaults', () => {
    expect(resolvePasswordPolicy({ length: undefined }, {}).length).toBe(DEFAULT_PASSWORD_POLICY.length);
  });

  it('refuses a policy that excludes every character class', () => {
    expect(() =>
      resolvePasswordPolicy(
        { excludeUppercase: true, excludeLowercase: true, excludeNumbers: true, excludePunctuation: true },
        {},
      ),
    ).toThrow(RotationPolicyError);
  });
});

describe('policyFromTags', () => {
  it('reads every rotator:* policy tag', () => {
    expect(
      policyFromTags({
        'rotator:length': '20',
        'rotator:exclude-characters': '@/',
        'rotator:exclude-punctuation': 'true',
        'rotator:exclude-uppercase': 'false',
        'rotator:exclude-lowercase': 'false',
        'rotator:exclude-numbers': 'true',
        'rotator:include-space': 'false',
        'rotator:require-each-included-type': 'false',
        'rotator:fields': ' password  token ',
        'other:tag': 'ignored',
      }),
    ).toEqual({
      length: 20,
      excludeCharacters: '@/',
      excludePunctuation: true,
      excludeUppercase: false,
      excludeLowercase: false,
      excludeNumbers: true,
      includeSpace: false,
      requireEachIncludedType: false,
      fields: ['password', 'token'],
    });
  });

  it.each([
    ['rotator:length', 'long', /rotator:length must be a whole number/],
    ['rotator:length', '4', /rotator:length/],
    ['rotator:length', '5000', /rotator:length/],
    ['rotator:exclude-punctuation', 'yes', /rotator:exclude-punctuation/],
    ['rotator:fields', '   ', /rotator:fields/],
  ])('refuses %s=%s with a RotationPolicyError naming the tag', (key, value, message) => {
    expect(() => policyFromTags({ [key]: value })).toThrow(RotationPolicyError);
    expect(() => policyFromTags({ [key]: value })).toThrow(message);
  });
});
