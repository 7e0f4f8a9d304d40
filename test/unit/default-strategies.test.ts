import { describe, expect, it } from 'vitest';
import { RotationPolicyError } from '../../shared/errors';
import {
  DATABASE_STRATEGY_NAMES,
  databaseStrategies,
  generatedStrategies,
} from '../../shared/rotation/default-strategies';
import { generatedStrategy } from '../../shared/rotation/generated-strategy';
import { selectStrategy } from '../../shared/rotation/strategy-registry';
import type { SecretDescription } from '../../shared/secrets/secrets-port';

function secret(tags: Record<string, string> = {}): SecretDescription {
  return { arn: 'arn:x', name: 'prod/app/db', rotationEnabled: true, versionIdsToStages: {}, tags };
}

let drawn = 0;
const secrets = {
  randomPassword: async () => {
    drawn += 1;
    return `generated-${drawn}`;
  },
  getSecretString: async () => {
    throw new Error('no secret is read in these tests');
  },
};
const config = { managedPrefixes: ['prod/app/'], defaultPasswordPolicy: {} };
const postgres = JSON.stringify({
  engine: 'postgres',
  host: 'db.internal',
  port: 5432,
  username: 'app',
  password: 'old-password',
  dbname: 'app',
});

describe('the generated strategy and database credentials', () => {
  const strategy = generatedStrategy({ passwords: secrets.randomPassword, deploymentPolicy: {} });

  it('refuses a value in the database secret shape before drawing a password, with or without fields', async () => {
    const before = drawn;
    await expect(strategy.createValue({ secret: secret(), current: postgres })).rejects.toThrow(
      RotationPolicyError,
    );
    await expect(
      strategy.createValue({ secret: secret({ 'rotator:fields': 'password' }), current: postgres }),
    ).rejects.toThrow(/holds a database credential.*RotateDatabaseSecret.*Nothing was changed/);
    expect(drawn).toBe(before);
  });

  it('still rotates JSON secrets that are not database credentials, and plain strings', async () => {
    const apiKey = JSON.stringify({ host: 'api.example.com', username: 'svc', password: 'old' });
    const next = await strategy.createValue({
      secret: secret({ 'rotator:fields': 'password' }),
      current: apiKey,
    });
    expect(JSON.parse(next)).toMatchObject({ host: 'api.example.com', username: 'svc' });
    expect(JSON.parse(next).password).toMatch(/^generated-/);
    expect(await strategy.createValue({ secret: secret(), current: 'plain' })).toMatch(/^generated-/);
  });
});

describe('generatedStrategies (the rotation function without drivers)', () => {
  const registry = generatedStrategies(secrets, config);

  it('rotates untagged secrets with generated values', () => {
    expect(selectStrategy(secret(), registry).name).toBe('generated');
  });

  it.each(DATABASE_STRATEGY_NAMES)('refuses %s, naming the database rotation function', async (name) => {
    const strategy = selectStrategy(secret({ 'rotator:strategy': name }), registry);
    await expect(strategy.createValue({ secret: secret(), current: postgres })).rejects.toThrow(
      /RotateDatabaseSecret/,
    );
    await expect(strategy.test({ secret: secret(), pending: postgres })).rejects.toThrow(RotationPolicyError);
  });
});

describe('databaseStrategies (the database rotation function)', () => {
  const registry = databaseStrategies(secrets, config);

  it('offers the database strategies and no generated one', () => {
    expect(Object.keys(registry).sort()).toEqual([...DATABASE_STRATEGY_NAMES, 'auto'].sort());
    expect(() => selectStrategy(secret({ 'rotator:strategy': 'generated' }), registry)).toThrow(
      RotationPolicyError,
    );
  });

  it('refuses an untagged secret whose value names no engine, before anything changes', async () => {
    const before = drawn;
    const strategy = selectStrategy(secret(), registry);
    await expect(strategy.createValue({ secret: secret(), current: 'plain' })).rejects.toThrow(
      /names no engine.*nothing was changed/,
    );
    expect(drawn).toBe(before);
  });
});
