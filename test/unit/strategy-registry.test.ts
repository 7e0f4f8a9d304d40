import { describe, expect, it } from 'vitest';
import { RotationPolicyError } from '../../shared/errors';
import { assertWithinSizeLimit, MAX_SECRET_STRING_BYTES } from '../../shared/rotation/secret-size';
import type { RotationStrategy } from '../../shared/rotation/strategy';
import { selectStrategy } from '../../shared/rotation/strategy-registry';
import type { SecretDescription } from '../../shared/secrets/secrets-port';

const noop = async () => {};
const strategy = (name: string): RotationStrategy => ({
  name,
  createValue: async () => name,
  applyToTarget: noop,
  test: noop,
});
const registry = { generated: strategy('generated'), postgres: strategy('postgres') };
const secret = (tags: Record<string, string>): SecretDescription => ({
  arn: 'arn:x',
  name: 'prod/db',
  rotationEnabled: true,
  versionIdsToStages: {},
  tags,
});

describe('selectStrategy', () => {
  it('defaults to generated', () => {
    expect(selectStrategy(secret({}), registry).name).toBe('generated');
  });

  it('follows the rotator:strategy tag', () => {
    expect(selectStrategy(secret({ 'rotator:strategy': 'postgres' }), registry).name).toBe('postgres');
  });

  it('refuses an unknown strategy and lists the known ones', () => {
    expect(() => selectStrategy(secret({ 'rotator:strategy': 'mysql' }), registry)).toThrow(
      RotationPolicyError,
    );
    expect(() => selectStrategy(secret({ 'rotator:strategy': 'mysql' }), registry)).toThrow(
      /generated, postgres/,
    );
  });
});

describe('assertWithinSizeLimit', () => {
  it('accepts exactly the limit and refuses one byte more, counting UTF-8 bytes', () => {
    expect(() => assertWithinSizeLimit('s', 'a'.repeat(MAX_SECRET_STRING_BYTES))).not.toThrow();
    expect(() => assertWithinSizeLimit('s', 'a'.repeat(MAX_SECRET_STRING_BYTES + 1))).toThrow(/65537 bytes/);
    expect(() => assertWithinSizeLimit('s', 'é'.repeat(MAX_SECRET_STRING_BYTES / 2 + 1))).toThrow(
      /65538 bytes/,
    );
  });
});
