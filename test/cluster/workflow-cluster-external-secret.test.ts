/**
 * A ClusterExternalSecret's children through the deployed workflow: resynced through their owner
 * (whose controller would strip an annotation written on a child), consumers restarted in every
 * namespace, and a paused Deployment refused rather than left pending.
 */
import { randomUUID } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsClusterSecretStore } from '../../harness/eso-manifests';
import type { ObjectRef } from '../../shared/propagation/object-ref';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

const wf = workflowHarness({ restartConcurrency: 2 });
const { fx } = wf;
const run = randomUUID().slice(0, 6);
const CES = `shared-db-${run}`;
const consumer = { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'shared-db' } }] }] };
const namespaces = [`wf-ces-a-${run}`, `wf-ces-b-${run}`] as const;
let secretId: string;

beforeAll(async () => {
  secretId = await wf.secret('shared-db');
  const credentials = await fx.namespaceWithStore('wf-ces-creds');
  await fx.create(awsClusterSecretStore(`aws-${run}`, credentials));
  for (const name of namespaces) {
    await fx.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { [`wf-ces-${run}`]: 'yes' } },
    });
  }
  await fx.create({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterExternalSecret',
    metadata: { name: CES },
    spec: {
      externalSecretName: 'shared-db',
      namespaceSelectors: [{ matchLabels: { [`wf-ces-${run}`]: 'yes' } }],
      refreshTime: '1m',
      externalSecretSpec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: `aws-${run}` },
        target: { name: 'shared-db' },
        data: [{ secretKey: 'password', remoteRef: { key: secretId, property: 'password' } }],
      },
    },
  });
  for (const namespace of namespaces) {
    await fx.externalSecretReady(namespace, 'shared-db');
    await fx.workload('Deployment', namespace, 'api', consumer);
  }
  await fx.workload('Deployment', namespaces[0], 'paused-api', consumer, { spec: { paused: true } });
  await fx.rolledOut(namespaces.map((namespace) => ({ kind: 'Deployment', namespace, name: 'api' })));
});

describe('a ClusterExternalSecret’s children in the real cluster', () => {
  it('are resynced through their owner; consumers restart in each namespace, a paused Deployment is refused', async () => {
    const apis: ObjectRef[] = namespaces.map((namespace) => ({ kind: 'Deployment', namespace, name: 'api' }));
    const paused = await wf.podTemplate(namespaces[0], 'paused-api');
    const before = await Promise.all(apis.map((r) => wf.podTemplate(r.namespace, r.name)));
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('ces', secretId, versionId);

    // The refusal makes the propagation a failure: the paused Deployment still runs the old value.
    expect(execution.status).toBe('FAILED');
    const { entry, synced, restarted, failed } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'failed', versionId });
    expect([...synced].sort()).toEqual(namespaces.map((ns) => `ExternalSecret/${ns}/shared-db`).sort());
    expect([...restarted].sort()).toEqual(namespaces.map((ns) => `Deployment/${ns}/api`).sort());
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain(`Deployment/${namespaces[0]}/paused-api`);
    expect(failed[0]).toMatch(/paused/);
    const alerts = await wf.alertsReceived();
    expect(alerts.some((a) => a.Subject === `Propagation failed: ${secretId}`)).toBe(true);

    for (const namespace of namespaces)
      expect(await fx.secretValue(namespace, 'shared-db', 'password')).toBe(wf.values.at(-1));
    const after = await Promise.all(apis.map((r) => wf.podTemplate(r.namespace, r.name)));
    after.forEach((t, i) => {
      expect(t.generation).toBe((before[i]?.generation ?? 0) + 1);
      expect(t.annotations[RESTARTED_AT]).toBeDefined();
    });
    await fx.rolledOut(apis);
    const pausedAfter = await wf.podTemplate(namespaces[0], 'paused-api');
    expect(pausedAfter.generation).toBe(paused.generation);
    expect(pausedAfter.annotations[RESTARTED_AT]).toBeUndefined();
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

  it('never lets a secret value reach the steps’ logs', () => {
    expect(wf.hostOutput().length).toBeGreaterThan(0);
    expect(wf.leakedValues()).toEqual([]);
  });
});
