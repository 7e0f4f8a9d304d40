import { inspect } from 'node:util';
import type { Context } from 'aws-lambda';
import { expect } from 'vitest';
import { readVersion } from '../../harness/rotation-fixture';
import type { SecretsManagerAdapter } from '../../shared/aws/secrets-manager-adapter';
import { databaseStrategies } from '../../shared/rotation/default-strategies';
import { findLeakedValues } from './output-capture';
import { rotationHarness } from './rotation-harness';

export type { Context };

/** The JSON shape AWS documents for database secrets, as the tests write it. */
export interface DatabaseSecretValue {
  engine: string;
  host: string;
  port: number;
  username: string;
  password: string;
  dbname?: string;
  masterarn?: string;
  ssl?: boolean;
}

/**
 * The rotation harness (real steps, moto, Powertools logger) with the database strategies trusting
 * `caPem`, the CA of the local servers. Its leak registry holds only passwords: usernames, hosts and
 * engine names are no secret, and short ones would match by chance.
 */
export function databaseRotationHarness(caPem: string) {
  const harness = rotationHarness();
  // The harness's handler reads deps.strategies on every call.
  const secrets = harness.deps.secrets as SecretsManagerAdapter;
  Object.assign(harness.deps, {
    strategies: databaseStrategies(secrets, harness.deps.config, { ca: caPem }),
  });
  return {
    ...harness,
    /**
     * All four steps again: AWSPENDING is first taken off the finished version, as Secrets Manager
     * does (moto refuses RotateSecret while it stays there).
     */
    async rotateAgain(secretId: string) {
      const described = await secrets.describeSecret(secretId);
      for (const [versionId, stages] of Object.entries(described.versionIdsToStages)) {
        if (stages.includes('AWSPENDING') && stages.includes('AWSCURRENT')) {
          await secrets.removeStage(secretId, 'AWSPENDING', versionId);
        }
      }
      return harness.rotate(secretId);
    },
    /** The value of a stage, parsed; its password joins the leak registry. */
    async staged(secretId: string, stage: string): Promise<DatabaseSecretValue> {
      const value = await readVersion(harness.clients, secretId, undefined, stage);
      if (value === undefined) throw new Error(`no ${stage} version`);
      const parsed = JSON.parse(value) as DatabaseSecretValue;
      harness.seenValues.add(parsed.password);
      return parsed;
    },
    /** Runs one step and returns the error it failed with (or fails the test). */
    async failingStep(step: string, secretId: string, token: string): Promise<Error> {
      const error = await harness.step(step, secretId, token).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(Error);
      return error as Error;
    },
    /** Asserts no registered password appears in the error, however it is printed. */
    expectNoLeak(error: unknown, extra: readonly string[] = []) {
      const printed = `${String(error)}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
      expect(findLeakedValues(printed, [...harness.seenValues, ...extra])).toEqual([]);
    },
  };
}

/** Names and passwords with every character the issue asks for: quotes, backslash, `$`, `;`, Unicode. */
export const HOSTILE = {
  user: (tag: string) => `ap"p'\\$;ü_${tag}`,
  password: (tag: string) => `pw'"\\$;üñ€ ${tag}-0001`,
};
