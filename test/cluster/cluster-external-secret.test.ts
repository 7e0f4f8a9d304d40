import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsClusterSecretStore } from '../../scripts/local/eso-manifests';
import { propagate } from '../../shared/propagation/propagate';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import { clusterFixture } from '../support/cluster-fixture';

const fx = clusterFixture();
const run = randomUUID().slice(0, 6);
const SECRET = `cluster-test/${run}/shared-db`;
const CES = `shared-db-${run}`;
const OPTIONS = { concurrency: 2, syncTimeoutMs: 30_000, rolloutTimeoutMs: 60_000, pollIntervalMs: 250 };
const consumer = { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'shared-db' } }] }] };
let namespaces: string[] = [];

beforeAll(async () => {
  await fx.aws.secretsManager.send(
    new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify({ password: 'ces-v1-0001' }) }),
  );
  const credentials = await fx.namespaceWithStore('ces-creds');
  await fx.create(awsClusterSecretStore(`aws-${run}`, credentials));
  namespaces = [`ces-a-${run}`, `ces-b-${run}`];
  for (const name of namespaces) {
    await fx.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { [`ces-${run}`]: 'yes' } },
    });
  }
  await fx.create({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterExternalSecret',
    metadata: { name: CES },
    spec: {
      externalSecretName: 'shared-db',
      namespaceSelectors: [{ matchLabels: { [`ces-${run}`]: 'yes' } }],
      refreshTime: '1m',
      externalSecretSpec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: `aws-${run}` },
        target: { name: 'shared-db' },
        data: [{ secretKey: 'password', remoteRef: { key: SECRET, property: 'password' } }],
      },
    },
  });
  for (const namespace of namespaces) {
    await fx.externalSecretReady(namespace, 'shared-db');
    await fx.workload('Deployment', namespace, 'api', consumer);
  }
  await fx.workload('Deployment', namespaces[0] ?? '', 'paused-api', consumer, { spec: { paused: true } });
  await fx.rolledOut(namespaces.map((namespace) => ({ kind: 'Deployment', namespace, name: 'api' })));
});

describe('a ClusterExternalSecret’s children in the real cluster', () => {
  it('are resynced through the ClusterExternalSecret; consumers restart, a paused Deployment is refused', async () => {
    await fx.aws.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: SECRET,
        SecretString: JSON.stringify({ password: 'ces-v2-0002' }),
      }),
    );
    const { secret, versionId } = await fx.rotatedSecret(SECRET);
    const cluster = fx.asRotator();

    const plan = await planPropagation(cluster, secret, versionId);
    const report = await propagate(cluster, plan, OPTIONS);

    expect(plan.resync.map((t) => t.affected.externalSecret.ownerClusterExternalSecret)).toEqual([CES, CES]);
    expect(report.synced.map((r) => r.namespace).sort()).toEqual([...namespaces].sort());
    for (const namespace of namespaces)
      expect(await fx.secretValue(namespace, 'shared-db', 'password')).toBe('ces-v2-0002');
    expect(report.restarted.map((r) => `${r.namespace}/${r.name}`).sort()).toEqual(
      namespaces.map((ns) => `${ns}/api`).sort(),
    );
    expect(report.refused).toEqual([
      {
        ref: { kind: 'Deployment', namespace: namespaces[0], name: 'paused-api' },
        reason: expect.stringMatching(/paused/),
      },
    ]);
    expect(report.outcome).toBe('failed');
    const owner = (await fx.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      group: 'external-secrets.io',
      version: 'v1',
      plural: 'clusterexternalsecrets',
      name: CES,
    })) as { metadata: { annotations?: Record<string, string> } };
    expect(owner.metadata.annotations?.['external-secrets.io/force-sync']).toMatch(
      new RegExp(`^${versionId}@`),
    );
  });
});
