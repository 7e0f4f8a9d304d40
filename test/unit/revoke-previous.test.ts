import { describe, expect, it } from 'vitest';
import { InvalidEventError, RotationPolicyError, SecretNotManagedError } from '../../shared/errors';
import { generatedStrategy } from '../../shared/rotation/generated-strategy';
import { type RevokePreviousDeps, revokePreviousStep } from '../../shared/rotation/revoke-previous';
import { isRotatorAction } from '../../shared/rotation/rotator-actions';
import type { RevokeOutcome, RotationStrategy } from '../../shared/rotation/strategy';
import type { SecretDescription, VersionSelector } from '../../shared/secrets/secrets-port';

const NAME = 'prod/app/db';
const ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${NAME}-AbCdEf`;
const CURRENT = '7f0c1b52-4a1e-4c6b-9d5e-2b8f3a9c1d00';
const PREVIOUS = '1e2d3c4b-5a69-4788-9aab-bccddeeff001';
const NEXT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f2a3b4c5d';
const CURRENT_VALUE = '{"engine":"postgres","host":"db","username":"app_clone","password":"current-pw-0001"}';
const PREVIOUS_VALUE = '{"engine":"postgres","host":"db","username":"app","password":"previous-pw-0001"}';
const event = (fields: Record<string, unknown> = {}) => ({
  rotatorAction: 'revokePrevious',
  secretId: NAME,
  versionId: CURRENT,
  ...fields,
});

interface Version {
  readonly stages: readonly string[];
  readonly value?: string;
}

const describeCall = (name: string, selector: VersionSelector) =>
  [name, selector.versionId, selector.versionStage].filter((part) => part !== undefined).join(' ');

/** Secrets Manager in memory: one secret, its versions, and every call made, in order. */
function inMemorySecrets(versions: Record<string, Version>, options: { name?: string; tags?: object } = {}) {
  const calls: string[] = [];
  const description = (): SecretDescription => ({
    arn: ARN,
    name: options.name ?? NAME,
    rotationEnabled: true,
    versionIdsToStages: Object.fromEntries(Object.entries(versions).map(([id, v]) => [id, v.stages])),
    tags: { 'rotator:strategy': 'recording', ...options.tags },
  });
  const find = (secretId: string, selector: VersionSelector) => {
    expect(secretId).toBe(ARN);
    return Object.entries(versions).find(
      ([id, v]) =>
        (selector.versionId === undefined || selector.versionId === id) &&
        (selector.versionStage === undefined || v.stages.includes(selector.versionStage)),
    )?.[1].value;
  };
  return {
    calls,
    describeSecret: async (secretId: string) => {
      calls.push(`describeSecret ${secretId}`);
      return description();
    },
    getSecretString: async (secretId: string, selector: VersionSelector) => {
      calls.push(describeCall('getSecretString', selector));
      const value = find(secretId, selector);
      if (value === undefined) throw new Error('ResourceNotFoundException');
      return value;
    },
    findSecretString: async (secretId: string, selector: VersionSelector) => {
      calls.push(describeCall('findSecretString', selector));
      return find(secretId, selector);
    },
  };
}

/** A strategy that records what revokePrevious was given and answers `outcome`. */
function recording(outcome: RevokeOutcome = { status: 'revoked', username: 'app' }) {
  const inputs: { current: string; previous: string | undefined }[] = [];
  const strategy: RotationStrategy = {
    name: 'recording',
    createValue: async () => '',
    applyToTarget: async () => {},
    test: async () => {},
    revokePrevious: async ({ current, previous }) => {
      inputs.push({ current, previous });
      return outcome;
    },
  };
  return { strategy, inputs };
}

const ROTATED = {
  [CURRENT]: { stages: ['AWSCURRENT'], value: CURRENT_VALUE },
  [PREVIOUS]: { stages: ['AWSPREVIOUS'], value: PREVIOUS_VALUE },
};

function deps(
  secrets: ReturnType<typeof inMemorySecrets>,
  strategies: Record<string, RotationStrategy>,
): RevokePreviousDeps {
  return { config: { managedPrefixes: ['prod/app/'] }, secrets, strategies };
}

describe('revokePreviousStep event parsing', () => {
  it.each([
    ['null', null, /event/],
    ['an array', [event()], /event/],
    [
      'a Secrets Manager rotation event',
      { Step: 'setSecret', SecretId: NAME, ClientRequestToken: CURRENT },
      /rotatorAction/,
    ],
    ['another action', event({ rotatorAction: 'rotate' }), /rotatorAction/],
    ['no secretId', event({ secretId: undefined }), /secretId/],
    ['an empty secretId', event({ secretId: '' }), /secretId/],
    ['a secretId of 2049 characters', event({ secretId: `prod/app/${'x'.repeat(2040)}` }), /secretId/],
    ['no versionId', event({ versionId: undefined }), /versionId/],
    ['a versionId too short for Secrets Manager', event({ versionId: 'v1' }), /versionId/],
    ['a numeric versionId', event({ versionId: 42 }), /versionId/],
  ])('refuses %s with InvalidEventError naming the field, before any AWS call', async (_case, raw, field) => {
    // Prepare
    const secrets = inMemorySecrets(ROTATED);
    const { strategy, inputs } = recording();

    // Act
    const error = await revokePreviousStep(raw, deps(secrets, { recording: strategy })).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toMatch(field);
    expect(secrets.calls).toEqual([]);
    expect(inputs).toEqual([]);
  });

  it('never echoes a field’s value in its message', async () => {
    const value = 'secret-looking-value-xyz';
    const error = await revokePreviousStep(
      event({ rotatorAction: value }),
      deps(inMemorySecrets(ROTATED), {}),
    ).catch((e: unknown) => e);
    expect((error as Error).message).not.toContain(value);
  });

  it.each([
    [event(), true],
    [{ Step: 'finishSecret', SecretId: NAME, ClientRequestToken: CURRENT }, false],
    [null, false],
    ['revokePrevious', false],
  ])('isRotatorAction(%j) is %s', (raw, expected) => {
    expect(isRotatorAction(raw)).toBe(expected);
  });
});

describe('revokePreviousStep guards', () => {
  it('refuses a secret outside the managed prefixes before any AWS call', async () => {
    const secrets = inMemorySecrets(ROTATED);
    const { strategy, inputs } = recording();

    const error = await revokePreviousStep(
      event({ secretId: 'prod/other-team/db' }),
      deps(secrets, { recording: strategy }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretNotManagedError);
    expect(secrets.calls).toEqual([]);
    expect(inputs).toEqual([]);
  });

  it('refuses an ARN that resolves to a secret outside the managed prefixes, reading no value', async () => {
    const secrets = inMemorySecrets(ROTATED, { name: 'prod/other-team/db' });
    const { strategy, inputs } = recording();

    const error = await revokePreviousStep(
      event({ secretId: 'prod/app/alias' }),
      deps(secrets, { recording: strategy }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretNotManagedError);
    expect(secrets.calls).toEqual(['describeSecret prod/app/alias']);
    expect(inputs).toEqual([]);
  });

  it.each([
    [
      'AWSCURRENT has moved on to a newer version',
      {
        [NEXT]: { stages: ['AWSCURRENT'], value: PREVIOUS_VALUE },
        [CURRENT]: { stages: ['AWSPREVIOUS'], value: CURRENT_VALUE },
      },
      'superseded',
    ],
    [
      'the version no longer exists',
      { [NEXT]: { stages: ['AWSCURRENT'], value: PREVIOUS_VALUE } },
      'superseded',
    ],
    [
      'a newer version is AWSPENDING (a rotation under way)',
      { ...ROTATED, [NEXT]: { stages: ['AWSPENDING'], value: PREVIOUS_VALUE } },
      'rotation-in-progress',
    ],
  ] as const)('changes nothing and reads no value when %s', async (_case, versions, status) => {
    const secrets = inMemorySecrets(versions);
    const { strategy, inputs } = recording();

    const result = await revokePreviousStep(event(), deps(secrets, { recording: strategy }));

    expect(result).toEqual({ secretName: NAME, versionId: CURRENT, status });
    expect(secrets.calls).toEqual([`describeSecret ${NAME}`]);
    expect(inputs).toEqual([]);
  });

  it('goes on when AWSPENDING still sits on the AWSCURRENT version (a finished rotation)', async () => {
    const secrets = inMemorySecrets({
      ...ROTATED,
      [CURRENT]: { stages: ['AWSCURRENT', 'AWSPENDING'], value: CURRENT_VALUE },
    });
    const { strategy } = recording();

    const result = await revokePreviousStep(event(), deps(secrets, { recording: strategy }));

    expect(result.status).toBe('revoked');
  });

  it('refuses a strategy the deployment does not have with RotationPolicyError', async () => {
    const secrets = inMemorySecrets(ROTATED, { tags: { 'rotator:strategy': 'oracle-alternating-users' } });

    await expect(revokePreviousStep(event(), deps(secrets, {}))).rejects.toThrow(RotationPolicyError);
  });
});

describe('revokePreviousStep with a strategy', () => {
  it('hands the strategy the AWSCURRENT value of versionId and the AWSPREVIOUS value, and returns its outcome', async () => {
    // Prepare
    const secrets = inMemorySecrets(ROTATED);
    const { strategy, inputs } = recording({ status: 'revoked', username: 'app' });

    // Act
    const result = await revokePreviousStep(event(), deps(secrets, { recording: strategy }));

    // Assess
    expect(inputs).toEqual([{ current: CURRENT_VALUE, previous: PREVIOUS_VALUE }]);
    expect(secrets.calls).toEqual([
      `describeSecret ${NAME}`,
      `getSecretString ${CURRENT} AWSCURRENT`,
      'findSecretString AWSPREVIOUS',
    ]);
    expect(result).toEqual({ secretName: NAME, versionId: CURRENT, status: 'revoked', username: 'app' });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('returns only the documented fields, whatever else the strategy’s outcome carries', async () => {
    const leaky = { status: 'revoked', username: 'app', password: 'unrecorded-pw-0001' } as RevokeOutcome;
    const { strategy } = recording(leaky);

    const result = await revokePreviousStep(event(), deps(inMemorySecrets(ROTATED), { recording: strategy }));

    expect(JSON.stringify(result)).not.toContain('unrecorded-pw-0001');
    expect(Object.keys(result).sort()).toEqual(['secretName', 'status', 'username', 'versionId']);
  });

  it('passes no previous value to the strategy when no version is AWSPREVIOUS (its strategy decides: alternating users revoke the alternate user)', async () => {
    const secrets = inMemorySecrets({ [CURRENT]: { stages: ['AWSCURRENT'], value: CURRENT_VALUE } });
    const { strategy, inputs } = recording();

    const result = await revokePreviousStep(event(), deps(secrets, { recording: strategy }));

    expect(result).toMatchObject({ secretName: NAME, versionId: CURRENT, status: 'revoked' });
    expect(inputs).toEqual([{ current: CURRENT_VALUE, previous: undefined }]);
  });

  it('is not-supported, reading no value, for a strategy without revokePrevious (generated)', async () => {
    const secrets = inMemorySecrets(ROTATED, { tags: { 'rotator:strategy': 'generated' } });
    const generated = generatedStrategy({ passwords: async () => 'unused', deploymentPolicy: {} });

    const result = await revokePreviousStep(event(), deps(secrets, { generated }));

    expect(result).toEqual({ secretName: NAME, versionId: CURRENT, status: 'not-supported' });
    expect(secrets.calls).toEqual([`describeSecret ${NAME}`]);
  });
});
