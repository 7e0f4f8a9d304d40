import { describe, expect, it } from 'vitest';
import { loadMaxAgeRules } from '../../../shared/compliance/compliance-config';
import { MAX_AGE_TAG, maxAgePolicyFor } from '../../../shared/compliance/max-age-policy';
import { ConfigError } from '../../../shared/errors';

const rules = [
  { prefix: 'prod/', days: 90 },
  { prefix: 'prod/app-team/', days: 30 },
  { prefix: 'prod/app-team/legacy/', days: 365 },
];

describe('maxAgePolicyFor', () => {
  it.each([
    ['prod/app-team/legacy/ftp', {}, { days: 365, source: 'prefix', prefix: 'prod/app-team/legacy/' }],
    ['prod/app-team/db', {}, { days: 30, source: 'prefix', prefix: 'prod/app-team/' }],
    ['prod/other/db', {}, { days: 90, source: 'prefix', prefix: 'prod/' }],
    ['prod/app-team/db', { [MAX_AGE_TAG]: '7' }, { days: 7, source: 'tag' }],
    ['prod/app-team/db', { [MAX_AGE_TAG]: ' 400 ' }, { days: 400, source: 'tag' }],
    ['staging/db', {}, { days: 180, source: 'default' }],
  ])('%s with tags %j: %j', (name, tags, expected) => {
    expect(maxAgePolicyFor(name, tags, { rules, defaultDays: 180 })).toEqual(expected);
  });

  it('has no policy without a rule, tag or default', () => {
    expect(maxAgePolicyFor('staging/db', {}, { rules })).toEqual({ source: 'none' });
  });

  it.each(['ninety', '0', '3651', '-5', '1.5', ''])(
    'refuses the tag value %j, naming the tag but not the value',
    (value) => {
      const policy = maxAgePolicyFor('prod/app-team/db', { [MAX_AGE_TAG]: value }, { rules });
      expect(policy).toEqual({ source: 'invalid-tag', error: expect.stringContaining(MAX_AGE_TAG) });
      if (value.length > 1) expect(JSON.stringify(policy)).not.toContain(value);
    },
  );
});

describe('loadMaxAgeRules', () => {
  it('reads the rules and default from the environment', () => {
    const env = { ROTATOR_MAX_AGE_RULES: JSON.stringify(rules), ROTATOR_DEFAULT_MAX_AGE_DAYS: '365' };
    expect(loadMaxAgeRules(env, ['prod/'])).toEqual({ rules, defaultDays: 365 });
    expect(loadMaxAgeRules({}, ['prod/'])).toEqual({ rules: [] });
  });

  it.each([
    [{ ROTATOR_MAX_AGE_RULES: '[{"prefix":"staging/","days":30}]' }, /not within a managed prefix/],
    [{ ROTATOR_MAX_AGE_RULES: '[{"prefix":"prod/","days":30},{"prefix":"prod/","days":60}]' }, /given twice/],
    [{ ROTATOR_MAX_AGE_RULES: '[{"prefix":"prod/","days":0}]' }, /ROTATOR_MAX_AGE_RULES/],
    [{ ROTATOR_MAX_AGE_RULES: '[{"prefix":"prod/","days":30,"extra":1}]' }, /ROTATOR_MAX_AGE_RULES/],
    [{ ROTATOR_MAX_AGE_RULES: 'not json' }, /is not valid JSON/],
    [{ ROTATOR_DEFAULT_MAX_AGE_DAYS: 'soon' }, /ROTATOR_DEFAULT_MAX_AGE_DAYS/],
  ])('refuses %j with a ConfigError', (env, message) => {
    expect(() => loadMaxAgeRules(env, ['prod/'])).toThrow(ConfigError);
    expect(() => loadMaxAgeRules(env, ['prod/'])).toThrow(message);
  });
});
