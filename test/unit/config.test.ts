import { describe, expect, it } from 'vitest';
import { loadRotationConfig, rotationEnvironment } from '../../shared/config';
import { ConfigError } from '../../shared/errors';

describe('loadRotationConfig', () => {
  it('reads comma-separated prefixes and trims them', () => {
    const config = loadRotationConfig({ ROTATOR_MANAGED_PREFIXES: ' prod/app-team/ , staging/app-team/,' });
    expect(config.managedPrefixes).toEqual(['prod/app-team/', 'staging/app-team/']);
    expect(config.defaultPasswordPolicy).toEqual({});
  });

  it('reads the deployment password policy as JSON', () => {
    const config = loadRotationConfig({
      ROTATOR_MANAGED_PREFIXES: 'prod/',
      ROTATOR_DEFAULT_PASSWORD_POLICY: '{"length":48,"fields":["password"]}',
    });
    expect(config.defaultPasswordPolicy).toEqual({ length: 48, fields: ['password'] });
  });

  it.each([
    ['no prefixes variable', {}, /ROTATOR_MANAGED_PREFIXES is required/],
    ['an empty prefix list', { ROTATOR_MANAGED_PREFIXES: ' , ' }, /at least one prefix/],
    ['a wildcard prefix', { ROTATOR_MANAGED_PREFIXES: 'prod/*' }, /ROTATOR_MANAGED_PREFIXES/],
    [
      'a policy that is not JSON',
      { ROTATOR_MANAGED_PREFIXES: 'prod/', ROTATOR_DEFAULT_PASSWORD_POLICY: '{length:' },
      /ROTATOR_DEFAULT_PASSWORD_POLICY is not valid JSON/,
    ],
    [
      'a policy with an unknown key',
      { ROTATOR_MANAGED_PREFIXES: 'prod/', ROTATOR_DEFAULT_PASSWORD_POLICY: '{"size":10}' },
      /ROTATOR_DEFAULT_PASSWORD_POLICY/,
    ],
    [
      'a policy length below 8',
      { ROTATOR_MANAGED_PREFIXES: 'prod/', ROTATOR_DEFAULT_PASSWORD_POLICY: '{"length":4}' },
      /ROTATOR_DEFAULT_PASSWORD_POLICY.length/,
    ],
  ])('fails fast on %s', (_name, env, message) => {
    expect(() => loadRotationConfig(env)).toThrow(ConfigError);
    expect(() => loadRotationConfig(env)).toThrow(message);
  });
});

describe('rotationEnvironment', () => {
  it('writes what loadRotationConfig reads back, policy included', () => {
    const config = {
      managedPrefixes: ['prod/app-team/', 'staging/app-team/'],
      defaultPasswordPolicy: { length: 40, fields: ['password'] },
      databaseTlsByDefault: true,
      databaseRdsCertificates: false,
    };
    expect(loadRotationConfig(rotationEnvironment(config))).toEqual(config);
  });

  it('reads database TLS as off when not written, and refuses anything but true or false', () => {
    expect(loadRotationConfig({ ROTATOR_MANAGED_PREFIXES: 'prod/' }).databaseTlsByDefault).toBe(false);
    expect(() =>
      loadRotationConfig({ ROTATOR_MANAGED_PREFIXES: 'prod/', ROTATOR_DATABASE_TLS_BY_DEFAULT: 'yes' }),
    ).toThrow(/ROTATOR_DATABASE_TLS_BY_DEFAULT/);
  });

  it('leaves the policy out when none is given, which the function reads as the built-in one', () => {
    const written = rotationEnvironment({ managedPrefixes: ['prod/'] });
    expect(written).toEqual({ ROTATOR_MANAGED_PREFIXES: 'prod/' });
    expect(loadRotationConfig(written).defaultPasswordPolicy).toEqual({});
  });
});
