import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { propagate } from '../../shared/propagation/propagate';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import type { ObjectRef, PodSpec, WorkloadKind } from '../../shared/propagation/workload-types';
import { clusterFixture } from '../support/cluster-fixture';

const fx = clusterFixture();
const OPTIONS = { concurrency: 2, syncTimeoutMs: 30_000, rolloutTimeoutMs: 60_000, pollIntervalMs: 250 };
const SECRET = 'db-secret';
const env = { name: 'P', valueFrom: { secretKeyRef: { name: SECRET, key: 'password' } } };

/** Every supported way to consume the Secret, across the three workload kinds, plus a bystander. */
const CONSUMERS: [WorkloadKind, string, PodSpec][] = [
  ['Deployment', 'env-user', { containers: [{ name: 'app', env: [env] }] }],
  ['Deployment', 'init-env-user', { initContainers: [{ name: 'init', env: [env] }] }],
  [
    'StatefulSet',
    'envfrom-user',
    { containers: [{ name: 'app', envFrom: [{ secretRef: { name: SECRET } }] }] },
  ],
  ['DaemonSet', 'volume-user', { volumes: [{ name: 'creds', secret: { secretName: SECRET } }] }],
  [
    'Deployment',
    'projected-user',
    { volumes: [{ name: 'all', projected: { sources: [{ secret: { name: SECRET } }] } }] },
  ],
];
const BYSTANDER: ObjectRef = { kind: 'Deployment', namespace: '', name: 'bystander' };

let namespace: string;
let secretName: string;

beforeAll(async () => {
  secretName = `cluster-test/${randomUUID().slice(0, 8)}/db`;
  await fx.aws.secretsManager.send(
    new CreateSecretCommand({
      Name: secretName,
      SecretString: JSON.stringify({ password: 'first-value-0001' }),
    }),
  );
  namespace = await fx.namespaceWithStore('propagation');
  await fx.externalSecret(namespace, 'db', secretName);
  await fx.externalSecretReady(namespace, 'db');
  for (const [kind, name, podSpec] of CONSUMERS) {
    // Fill in images: the API requires them on every container.
    const withImages = JSON.parse(
      JSON.stringify(podSpec)
        .replaceAll('"name":"app"', '"name":"app","image":"app:1"')
        .replaceAll('"name":"init"', '"name":"init","image":"init:1"'),
    );
    await fx.workload(kind, namespace, name, withImages);
  }
  await fx.workload('Deployment', namespace, BYSTANDER.name, {});
  await fx.rolledOut([
    ...CONSUMERS.map(([kind, name]) => ({ kind, namespace, name })),
    { ...BYSTANDER, namespace },
  ]);
});

describe('propagation in a real cluster with the real ESO controller', () => {
  it('plans every consumer of the synced Secret, with reasons, and not the bystander', async () => {
    const { secret, versionId } = await fx.rotatedSecret(secretName);
    const plan = await planPropagation(fx.asRotator(), secret, versionId);

    expect(plan.resync.map((t) => t.affected.externalSecret.name)).toEqual(['db']);
    const consumers = plan.resync.flatMap((t) =>
      t.consumers.map((c) => `${c.workload.kind}/${c.workload.name}`),
    );
    expect(consumers.sort()).toEqual(CONSUMERS.map(([kind, name]) => `${kind}/${name}`).sort());
  });

  it('resyncs, confirms and restarts every consumer after a rotation, as the rotator identity', async () => {
    // Prepare: a new AWSCURRENT version in Secrets Manager.
    await fx.aws.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: secretName,
        SecretString: JSON.stringify({ password: 'second-value-0002' }),
      }),
    );
    const { secret, versionId } = await fx.rotatedSecret(secretName);
    const cluster = fx.asRotator();

    // Act
    const plan = await planPropagation(cluster, secret, versionId);
    const events: string[] = [];
    const report = await propagate(cluster, plan, OPTIONS, (e) => events.push(e.type));

    // Assess
    expect(report.outcome).toBe('succeeded');
    expect(report.synced).toEqual([{ kind: 'ExternalSecret', namespace, name: 'db' }]);
    expect(await fx.secretValue(namespace, SECRET, 'password')).toBe('second-value-0002');
    expect(report.restarted.map((r) => r.name).sort()).toEqual(CONSUMERS.map(([, name]) => name).sort());
    expect(events.filter((e) => e === 'wave-started')).toHaveLength(3);
    for (const [kind, name] of CONSUMERS) {
      const rollout = await cluster.getRollout({ kind, namespace, name });
      expect(rollout.generation).toBeGreaterThan(1);
    }
    const bystander = await cluster.getRollout({ ...BYSTANDER, namespace });
    expect(bystander.generation).toBe(1);
  });

  it('does not restart anything again for the same secret version', async () => {
    const { secret, versionId } = await fx.rotatedSecret(secretName);
    const cluster = fx.asRotator();

    const report = await propagate(cluster, await planPropagation(cluster, secret, versionId), OPTIONS);

    expect(report.restarted).toEqual([]);
    expect(report.alreadyRestarted.map((r) => r.name).sort()).toEqual(
      CONSUMERS.map(([, name]) => name).sort(),
    );
  });

  it('reads every page of a list when the page size is small', async () => {
    const { secret, versionId } = await fx.rotatedSecret(secretName);
    const plan = await planPropagation(fx.asRotator({ pageSize: 1 }), secret, versionId);
    expect(plan.resync.flatMap((t) => t.consumers)).toHaveLength(CONSUMERS.length);
  });
});
