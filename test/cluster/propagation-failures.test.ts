import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { propagate } from '../../shared/propagation/propagate';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import { clusterFixture } from '../support/cluster-fixture';

const fx = clusterFixture();
const OPTIONS = { concurrency: 1, syncTimeoutMs: 20_000, rolloutTimeoutMs: 40_000, pollIntervalMs: 250 };

/** A moto secret, a namespace with an ExternalSecret `db` for it, and the given consumers, all ready. */
async function scenario(
  prefix: string,
  esSpec: Record<string, unknown>,
  consumers: string[],
  failing: string[] = [],
) {
  const secretName = `cluster-test/${randomUUID().slice(0, 8)}/${prefix}`;
  await fx.aws.secretsManager.send(
    new CreateSecretCommand({
      Name: secretName,
      SecretString: JSON.stringify({ password: `v1-${randomUUID()}` }),
    }),
  );
  const namespace = await fx.namespaceWithStore(prefix);
  await fx.externalSecret(namespace, 'db', secretName, esSpec);
  await fx.externalSecretReady(namespace, 'db');
  await fx.consumingDeployments(namespace, 'db-secret', consumers, failing);
  const rotate = async () =>
    fx.aws.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: secretName,
        SecretString: JSON.stringify({ password: `v2-${randomUUID()}` }),
      }),
    );
  return { secretName, namespace, rotate };
}

async function generationOf(namespace: string, name: string) {
  return (await fx.asRotator().getRollout({ kind: 'Deployment', namespace, name })).generation;
}

describe('propagation refuses to restart where it cannot be sure', () => {
  it.each([
    ['refreshPolicy CreatedOnce', { refreshPolicy: 'CreatedOnce' }],
    ['refreshInterval 0', { refreshInterval: '0' }],
  ])('reports an ExternalSecret with %s and leaves its consumers alone', async (_name, spec) => {
    const { secretName, namespace, rotate } = await scenario('no-refresh', spec, ['consumer']);
    await rotate();
    const { secret, versionId } = await fx.rotatedSecret(secretName);

    const plan = await planPropagation(fx.asRotator(), secret, versionId);
    const report = await propagate(fx.asRotator(), plan, OPTIONS);

    // The cluster is shared: other suites' ExternalSecrets (e.g. find-conformance's refused finds,
    // which could select any secret) appear in the plan too; this scenario's namespace is ours.
    const ours = <T extends { namespace: string }>(refs: T[]) =>
      refs.filter((r) => r.namespace === namespace);
    expect(ours(plan.resync.map((t) => t.affected.externalSecret))).toEqual([]);
    expect(ours(report.notRefreshing)).toEqual([{ kind: 'ExternalSecret', namespace, name: 'db' }]);
    expect(report.restarted).toEqual([]);
    expect(await generationOf(namespace, 'consumer')).toBe(1);
  });

  it('reports a failed ESO sync and restarts none of its consumers', async () => {
    const { secretName, namespace } = await scenario('sync-fails', {}, ['consumer']);
    const { secret, versionId } = await fx.rotatedSecret(secretName);
    await fx.aws.secretsManager.send(
      new DeleteSecretCommand({ SecretId: secretName, ForceDeleteWithoutRecovery: true }),
    );

    const report = await propagate(
      fx.asRotator(),
      await planPropagation(fx.asRotator(), secret, versionId),
      OPTIONS,
    );

    expect(report.outcome).toBe('failed');
    expect(report.syncFailed.map((f) => f.ref.name)).toEqual(['db']);
    expect(report.restarted).toEqual([]);
    expect(await generationOf(namespace, 'consumer')).toBe(1);
  });

  it('stops later waves when a rollout fails', async () => {
    const { secretName, namespace, rotate } = await scenario(
      'rollout-fails',
      {},
      ['a-fails', 'b-next'],
      ['a-fails'],
    );
    await rotate();
    const { secret, versionId } = await fx.rotatedSecret(secretName);

    const report = await propagate(
      fx.asRotator(),
      await planPropagation(fx.asRotator(), secret, versionId),
      OPTIONS,
    );

    expect(report.outcome).toBe('failed');
    expect(report.restarted.map((r) => r.name)).toEqual(['a-fails']);
    expect(report.rolloutFailed.map((f) => f.ref.name)).toEqual(['a-fails']);
    expect(report.rolloutFailed[0]?.reason).toMatch(/progress deadline/);
    expect(report.notStarted.map((r) => r.name)).toEqual(['b-next']);
    expect(await generationOf(namespace, 'b-next')).toBe(1);
  });
});
