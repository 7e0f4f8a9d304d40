import { describe, expect, it } from 'vitest';
import { SecretShapeError } from '../../shared/errors';
import { generatedStrategy } from '../../shared/rotation/generated-strategy';
import type { PasswordPolicy } from '../../shared/rotation/password-policy';
import type { SecretDescription } from '../../shared/secrets/secrets-port';

function secret(tags: Record<string, string> = {}): SecretDescription {
  return { arn: 'arn:x', name: 'prod/app/db', rotationEnabled: true, versionIdsToStages: {}, tags };
}

/** A password source that returns numbered passwords and records the policies it was asked for. */
function sequence() {
  const policies: PasswordPolicy[] = [];
  let n = 0;
  return {
    policies,
    passwords: async (policy: PasswordPolicy) => {
      policies.push(policy);
      n += 1;
      return `generated-${n}`;
    },
  };
}

describe('generatedStrategy.createValue', () => {
  it('replaces the whole string when no fields are configured', async () => {
    const source = sequence();
    const strategy = generatedStrategy({ passwords: source.passwords, deploymentPolicy: { length: 40 } });

    expect(await strategy.createValue({ secret: secret(), current: 'old' })).toBe('generated-1');
    expect(source.policies[0]?.length).toBe(40);
  });

  it('replaces only the named fields and keeps the others', async () => {
    const strategy = generatedStrategy({ passwords: sequence().passwords, deploymentPolicy: {} });
    const current = JSON.stringify({
      user: 'app',
      password: 'old',
      token: 'old2',
      port: 5432,
      nested: { a: 1 },
    });

    const value = await strategy.createValue({
      secret: secret({ 'rotator:fields': 'password token' }),
      current,
    });

    expect(JSON.parse(value)).toEqual({
      user: 'app',
      password: 'generated-1',
      token: 'generated-2',
      port: 5432,
      nested: { a: 1 },
    });
  });

  it('keeps every number of the fields it does not touch exactly as written (big integers, trailing zeros)', async () => {
    const strategy = generatedStrategy({ passwords: sequence().passwords, deploymentPolicy: {} });
    const current = '{"accountId":12345678901234567890,"ratio":1.10,"limits":[1e400,-0.0],"password":"old"}';

    const value = await strategy.createValue({ secret: secret({ 'rotator:fields': 'password' }), current });

    expect(value).toBe(
      '{"accountId":12345678901234567890,"ratio":1.10,"limits":[1e400,-0.0],"password":"generated-1"}',
    );
  });

  it('adds a named field the current value lacks', async () => {
    const strategy = generatedStrategy({
      passwords: sequence().passwords,
      deploymentPolicy: { fields: ['password'] },
    });
    const value = await strategy.createValue({ secret: secret(), current: '{"user":"app"}' });
    expect(JSON.parse(value)).toEqual({ user: 'app', password: 'generated-1' });
  });

  it.each([
    ['not JSON', 'plain', /is not JSON/],
    ['a JSON array', '["a"]', /is not a JSON object/],
    ['JSON null', 'null', /is not a JSON object/],
    ['a non-string field', '{"password":42}', /Field "password" .* is not a string/],
  ])('refuses a current value that is %s', async (_name, current, message) => {
    const strategy = generatedStrategy({
      passwords: sequence().passwords,
      deploymentPolicy: { fields: ['password'] },
    });
    const attempt = strategy.createValue({ secret: secret(), current });
    await expect(attempt).rejects.toThrow(SecretShapeError);
    await expect(strategy.createValue({ secret: secret(), current })).rejects.toThrow(message);
  });

  it('never puts the current value in its error', async () => {
    const strategy = generatedStrategy({
      passwords: sequence().passwords,
      deploymentPolicy: { fields: ['password'] },
    });
    await expect(strategy.createValue({ secret: secret(), current: 'hunter2-but-longer' })).rejects.toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});

describe('generatedStrategy.test', () => {
  const strategy = generatedStrategy({ passwords: sequence().passwords, deploymentPolicy: {} });

  it('accepts a non-empty string and a JSON object with every field set', async () => {
    await expect(strategy.test({ secret: secret(), pending: 'x' })).resolves.toBeUndefined();
    await expect(
      strategy.test({ secret: secret({ 'rotator:fields': 'password' }), pending: '{"password":"p"}' }),
    ).resolves.toBeUndefined();
  });

  it.each([
    ['an empty string', {}, ''],
    ['a missing field', { 'rotator:fields': 'password' }, '{"user":"a"}'],
    ['an empty field', { 'rotator:fields': 'password' }, '{"password":""}'],
    ['a non-JSON value with fields', { 'rotator:fields': 'password' }, 'plain'],
  ])('rejects %s', async (_name, tags, pending) => {
    await expect(strategy.test({ secret: secret(tags), pending })).rejects.toThrow(SecretShapeError);
  });
});
