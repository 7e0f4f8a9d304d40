import { describe, expect, it } from 'vitest';
import { InvalidEventError, RollbackRefusedError, SecretNotManagedError } from '../../shared/errors';
import type { DatabaseEngine } from '../../shared/rotation/database/database-engine';
import { singleUserStrategy } from '../../shared/rotation/database/single-user-strategy';
import { generatedStrategy } from '../../shared/rotation/generated-strategy';
import { type RollBackDeps, rollBackStep } from '../../shared/rotation/roll-back';
import { runRotatorAction } from '../../shared/rotation/rotator-actions';
import type { PreviousValidity, RotationStrategy } from '../../shared/rotation/strategy';
import type { SecretDescription, VersionSelector } from '../../shared/secrets/secrets-port';

const NAME = 'prod/app/db';
const ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${NAME}-AbCdEf`;
const FAILED = '7f0c1b52-4a1e-4c6b-9d5e-2b8f3a9c1d00';
const PREVIOUS = '1e2d3c4b-5a69-4788-9aab-bccddeeff001';
const OTHER = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f2a3b4c5d';
const event = (fields: Record<string, unknown> = {}) => ({
  rotatorAction: 'rollBack',
  secretId: NAME,
  versionId: FAILED,
  previousVersionId: PREVIOUS,
  ...fields,
});

/**
 * Secrets Manager in memory, with its label rules: moving AWSCURRENT moves AWSPREVIOUS to the
 * version AWSCURRENT left. Records every call.
 */
function inMemorySecrets(initial: Record<string, string[]>) {
  const stages: Record<string, string[]> = structuredClone(initial);
  const calls: string[] = [];
  const label = (stage: string) => Object.keys(stages).find((id) => stages[id]?.includes(stage));
  const take = (stage: string, id: string) => {
    stages[id] = (stages[id] ?? []).filter((s) => s !== stage);
  };
  return {
    stages,
    calls,
    describeSecret: async (): Promise<SecretDescription> => {
      calls.push('describeSecret');
      return {
        arn: ARN,
        name: NAME,
        rotationEnabled: true,
        versionIdsToStages: structuredClone(stages),
        tags: {},
      };
    },
    getSecretString: async (_id: string, selector: VersionSelector) => {
      calls.push(`getSecretString ${selector.versionId} ${selector.versionStage}`);
      return 'previous-value';
    },
    moveCurrentStage: async (request: { toVersionId: string; fromVersionId: string | undefined }) => {
      calls.push(`moveCurrentStage ${request.fromVersionId} -> ${request.toVersionId}`);
      const from = label('AWSCURRENT');
      expect(from).toBe(request.fromVersionId);
      const previous = label('AWSPREVIOUS');
      if (previous) take('AWSPREVIOUS', previous);
      take('AWSCURRENT', from as string);
      stages[from as string] = [...(stages[from as string] ?? []), 'AWSPREVIOUS'];
      stages[request.toVersionId] = [...(stages[request.toVersionId] ?? []), 'AWSCURRENT'];
    },
    removeStage: async (_id: string, stage: string, versionId: string) => {
      calls.push(`removeStage ${stage} ${versionId}`);
      take(stage, versionId);
    },
  };
}

function strategyAnswering(validity: PreviousValidity): RotationStrategy {
  return {
    name: 'stub',
    createValue: async () => '',
    applyToTarget: async () => {},
    test: async () => {},
    previousStillValid: async () => validity,
  };
}

function deps(secrets: ReturnType<typeof inMemorySecrets>, strategy: RotationStrategy): RollBackDeps {
  return { config: { managedPrefixes: ['prod/app/'] }, secrets, strategies: { generated: strategy } };
}

describe('rollBackStep', () => {
  it('moves AWSCURRENT back to the previous version and leaves the failed one with no label', async () => {
    const secrets = inMemorySecrets({ [FAILED]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] });

    const result = await rollBackStep(event(), deps(secrets, strategyAnswering({ valid: true })));

    expect(result).toEqual({
      secretName: NAME,
      versionId: FAILED,
      previousVersionId: PREVIOUS,
      status: 'rolled-back',
    });
    expect(secrets.stages).toEqual({ [FAILED]: [], [PREVIOUS]: ['AWSCURRENT'] });
  });

  it('repeated after it succeeded (a retried task), changes nothing more and says rolled-back', async () => {
    const secrets = inMemorySecrets({ [FAILED]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] });
    const d = deps(secrets, strategyAnswering({ valid: true }));
    await rollBackStep(event(), d);
    secrets.calls.length = 0;

    expect((await rollBackStep(event(), d)).status).toBe('rolled-back');
    expect(secrets.calls).toEqual(['describeSecret']);
  });

  it('finishes a rollback that stopped between the move and the label removal', async () => {
    const secrets = inMemorySecrets({ [FAILED]: ['AWSPREVIOUS'], [PREVIOUS]: ['AWSCURRENT'] });

    expect((await rollBackStep(event(), deps(secrets, strategyAnswering({ valid: true })))).status).toBe(
      'rolled-back',
    );
    expect(secrets.stages[FAILED]).toEqual([]);
  });

  it.each<[string, Record<string, string[]>, string]>([
    [
      'AWSCURRENT moved to a third version',
      { [OTHER]: ['AWSCURRENT'], [FAILED]: ['AWSPREVIOUS'] },
      'superseded',
    ],
    [
      'a rotation is pending',
      { [FAILED]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'], [OTHER]: ['AWSPENDING'] },
      'rotation-in-progress',
    ],
  ])('changes nothing when %s', async (_name, stages, status) => {
    const secrets = inMemorySecrets(stages);

    expect((await rollBackStep(event(), deps(secrets, strategyAnswering({ valid: true })))).status).toBe(
      status,
    );
    expect(secrets.calls).toEqual(['describeSecret']);
  });

  it('refuses, changing nothing, when the strategy says the previous credential no longer works', async () => {
    const secrets = inMemorySecrets({ [FAILED]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] });
    const strategy = strategyAnswering({ valid: false, reason: 'the previous user can no longer log in' });

    await expect(rollBackStep(event(), deps(secrets, strategy))).rejects.toThrow(
      /refused: the previous user can no longer log in; nothing was changed/,
    );
    expect(secrets.calls.some((call) => call.startsWith('moveCurrentStage'))).toBe(false);
  });

  it('refuses when the previous version is not AWSPREVIOUS any more', async () => {
    const secrets = inMemorySecrets({ [FAILED]: ['AWSCURRENT'], [PREVIOUS]: [] });

    await expect(
      rollBackStep(event(), deps(secrets, strategyAnswering({ valid: true }))),
    ).rejects.toBeInstanceOf(RollbackRefusedError);
  });

  it('refuses single-user database rotation (its previous password was changed) and allows generated values', async () => {
    const engine = {
      family: 'postgres',
      excludedCharacters: '',
      maxUsernameLength: 63,
    } as unknown as DatabaseEngine;
    const single = singleUserStrategy('postgres-single-user', {
      engine,
      passwords: async () => 'x',
      deploymentPolicy: {},
      tlsByDefault: false,
    });
    const generated = generatedStrategy({ passwords: async () => 'x', deploymentPolicy: {} });
    const secret = { arn: ARN, name: NAME, rotationEnabled: true, versionIdsToStages: {}, tags: {} };

    expect(await single.previousStillValid?.({ secret, previous: '{}' })).toMatchObject({ valid: false });
    expect(await generated.previousStillValid?.({ secret, previous: 'x' })).toEqual({ valid: true });
  });

  it('refuses malformed events and unmanaged secrets before any call', async () => {
    const secrets = inMemorySecrets({ [FAILED]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] });
    const d = deps(secrets, strategyAnswering({ valid: true }));

    await expect(rollBackStep(event({ previousVersionId: 'short' }), d)).rejects.toBeInstanceOf(
      InvalidEventError,
    );
    await expect(rollBackStep(event({ secretId: 'prod/other/db' }), d)).rejects.toBeInstanceOf(
      SecretNotManagedError,
    );
    expect(secrets.calls).toEqual([]);
  });
});

describe('runRotatorAction', () => {
  it('refuses an unknown action with a typed error', async () => {
    const secrets = inMemorySecrets({});
    const d = { ...deps(secrets, strategyAnswering({ valid: true })) } as never;
    expect(() => runRotatorAction({ rotatorAction: 'dropTable' }, d)).toThrow(InvalidEventError);
  });
});
