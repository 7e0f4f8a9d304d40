import { DescribeSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { expect } from 'vitest';
import {
  createSecret,
  ensurePlaceholderRotationFunction,
  readVersion,
  startRotation,
} from '../../harness/rotation-fixture';
import { ROTATION_STEPS } from '../../shared/rotation/rotation-event';
import type { DatabaseAdmin } from './database-admin';
import type { DatabaseSecretValue } from './database-fixture';
import type { WorkflowHarness } from './workflow-harness';

/** What a database secret with a consuming Deployment is made of (see {@link databaseSecretWithConsumer}). */
export interface DatabaseSecretWithConsumer {
  readonly secretId: string;
  readonly arn: string;
  readonly namespace: string;
  /** The secret's first value: the user's credential. */
  readonly user: DatabaseSecretValue;
}

export interface DatabaseSecretOptions {
  /** With a master (`masterarn`): alternating users; without: single user. @default true */
  readonly alternatingUsers?: boolean;
  /** Deployments (among `api`) whose rollout fails after a restart (kwok's fail-on-restart stage). @default none */
  readonly failing?: readonly string[];
  /** Tags of the secret, e.g. `{ 'rotator:rollback': 'true' }`. @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Database secrets in the workflow harness: an RDS-style secret (its strategy chosen from `engine`
 * and `masterarn`) whose users live in `database`, consumed by a Deployment `api` through
 * ExternalSecret `db` (Secret `db-secret` with `username` and `password`), and rotated by the
 * harness's bundled database function as Secrets Manager runs it. Every password read joins
 * `passwords`, the test's leak registry.
 * @example const db = databaseWorkflow(wf, () => database, passwords);
 */
export function databaseWorkflow(wf: WorkflowHarness, database: () => DatabaseAdmin, passwords: Set<string>) {
  const { fx } = wf;

  /** A user (and a master with `alternatingUsers`), its secret and a Deployment reading it, rolled out. */
  async function databaseSecretWithConsumer(
    tag: string,
    options: DatabaseSecretOptions = {},
  ): Promise<DatabaseSecretWithConsumer> {
    const { alternatingUsers = true, failing = [], tags = {} } = options;
    const user = await database().createUser(tag);
    const secretId = `${wf.prefix}${tag}`;
    let value: DatabaseSecretValue = user;
    if (alternatingUsers) {
      const master = await database().createMaster('mst');
      value = {
        ...user,
        masterarn: await createSecret(fx.aws, `${secretId}-master`, JSON.stringify(master)),
      };
    }
    const arn = await createSecret(fx.aws, secretId, JSON.stringify(value), { ...tags });
    const namespace = await fx.namespaceWithStore(`db-${tag}`);
    await fx.externalSecret(namespace, 'db', secretId, {
      data: ['username', 'password'].map((key) => ({
        secretKey: key,
        remoteRef: { key: secretId, property: key },
      })),
    });
    await fx.externalSecretReady(namespace, 'db');
    await fx.consumingDeployments(namespace, 'db-secret', ['api'], failing);
    return { secretId, arn, namespace, user };
  }

  /**
   * Secrets Manager's part of a rotation: RotateSecret names the database function, which then
   * runs the four steps; once they succeeded, Secrets Manager's backend takes AWSPENDING off the
   * new version (moto leaves it there with AWSCURRENT). `beforeStep` is called before each step.
   * Returns the new version's id.
   */
  async function rotate(arn: string, beforeStep?: (step: string) => void): Promise<string> {
    const fn = wf.databaseFunction();
    const functionName = fn.arn.split(':').at(-1) as string;
    expect(await ensurePlaceholderRotationFunction(fx.aws, functionName)).toBe(fn.arn);
    const versionId = await startRotation(fx.aws, arn, fn.arn);
    const outcomes: unknown[] = [];
    for (const Step of ROTATION_STEPS) {
      beforeStep?.(Step);
      const result = (await fn.invoke({ Step, SecretId: arn, ClientRequestToken: versionId })) as {
        outcome?: string;
      };
      outcomes.push(result.outcome);
    }
    expect(outcomes).toEqual(['pending-created', 'target-updated', 'tested', 'current-moved']);
    await fx.aws.secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: arn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: versionId,
      }),
    );
    return versionId;
  }

  /** A staged version's value, parsed; its password joins the leak registry. */
  async function staged(secretId: string, stage: string): Promise<DatabaseSecretValue> {
    const value = await readVersion(fx.aws, secretId, undefined, stage);
    if (value === undefined) throw new Error(`no ${stage} version of ${secretId}`);
    const parsed = JSON.parse(value) as DatabaseSecretValue;
    passwords.add(parsed.password);
    return parsed;
  }

  /** The staging labels of every version of the secret (a version with none maps to `[]`). */
  async function stages(secretId: string): Promise<Record<string, string[]>> {
    const out = await fx.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    return out.VersionIdsToStages ?? {};
  }

  /** The credential the consumer's Kubernetes Secret holds, as a pod gets it; its password joins the registry. */
  async function consumerCredential(namespace: string) {
    const [username, password] = await Promise.all([
      fx.secretValue(namespace, 'db-secret', 'username'),
      fx.secretValue(namespace, 'db-secret', 'password'),
    ]);
    if (username === undefined || password === undefined)
      throw new Error(`no credential in ${namespace}/db-secret`);
    passwords.add(password);
    return { username, password };
  }

  return { databaseSecretWithConsumer, rotate, staged, stages, consumerCredential };
}
