/**
 * Where the deployed workflow cannot be sure a consumer would start on the new value, it restarts
 * nothing for it, records the propagation as failed with the reason, and alerts: an ExternalSecret
 * ESO will not refresh, a `find` ESO refuses, a sync ESO fails, and a workload that also reads the
 * Secret of an ExternalSecret whose sync failed.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectRef } from '../../shared/propagation/object-ref';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

const wf = workflowHarness({ restartConcurrency: 1 });
const { fx } = wf;
const envFrom = (name: string) => ({ secretRef: { name } });

/** Generation and restartedAt of each Deployment. */
async function templates(namespace: string, names: readonly string[]) {
  return Promise.all(
    names.map(async (name) => {
      const t = await wf.podTemplate(namespace, name);
      return { generation: t.generation, restartedAt: t.annotations[RESTARTED_AT] };
    }),
  );
}

/** The execution failed, the ledger says so with every reason given, and an alert names the secret. */
async function expectFailedAndAlerted(
  execution: Awaited<ReturnType<typeof wf.run>>,
  secretId: string,
  versionId: string,
) {
  expect(execution.status).toBe('FAILED');
  expect(execution.states).toContain('Alert');
  const propagation = await wf.propagation(secretId);
  expect(propagation.entry).toMatchObject({ status: 'failed', versionId });
  const alerts = await wf.alertsReceived();
  expect(alerts.some((a) => a.Subject === `Propagation failed: ${secretId}`)).toBe(true);
  return propagation;
}

describe('ExternalSecrets ESO will not refresh', () => {
  it.each([
    [
      'refreshPolicy CreatedOnce',
      'created-once',
      { refreshPolicy: 'CreatedOnce' },
      /CreatedOnce|created-once/,
    ],
    ['refreshInterval 0', 'no-refresh', { refreshInterval: '0' }, /refresh-disabled/],
  ])('with %s: reported as failed, its consumers left alone', async (_name, slug, spec, why) => {
    const secretId = await wf.secret(slug);
    const namespace = await fx.namespaceWithStore(`wf-${slug}`);
    await fx.externalSecret(namespace, 'db', secretId, spec);
    await fx.externalSecretReady(namespace, 'db');
    await fx.consumingDeployments(namespace, 'db-secret', ['consumer']);
    const before = await templates(namespace, ['consumer']);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run(slug, secretId, versionId);

    const { synced, restarted, failed } = await expectFailedAndAlerted(execution, secretId, versionId);
    expect(synced).toEqual([]);
    expect(restarted).toEqual([]);
    const reason = failed.find((f) => f.includes(`ExternalSecret/${namespace}/db`));
    expect(reason).toMatch(why);
    expect(reason).toMatch(/not restarted/);
    expect(await wf.forceSync(namespace, 'db')).toBeUndefined();
    expect(await templates(namespace, ['consumer'])).toEqual(before);
  });
});

describe('a dataFrom find ESO refuses', () => {
  it('is planned as a failing sync: reported, nothing annotated or restarted', async () => {
    const secretId = await wf.secret('refused-find');
    const namespace = await fx.namespaceWithStore('wf-find');
    // A path alone is no find operator to ESO, which then fails every sync of this ExternalSecret,
    // though its data entry resolves. The path keeps it from selecting other tests' secrets.
    await fx.externalSecret(namespace, 'db', secretId, { dataFrom: [{ find: { path: secretId } }] });
    await fx.consumingDeployments(namespace, 'db-secret', ['consumer']);
    const before = await templates(namespace, ['consumer']);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('refused-find', secretId, versionId);

    const { restarted, failed } = await expectFailedAndAlerted(execution, secretId, versionId);
    expect(restarted).toEqual([]);
    const reason = failed.find((f) => f.includes(`ExternalSecret/${namespace}/db`));
    expect(reason).toMatch(/dataFrom\[0\]\.find is refused by ESO/);
    expect(await wf.forceSync(namespace, 'db')).toBeUndefined();
    expect(await templates(namespace, ['consumer'])).toEqual(before);
  });
});

describe('a sync ESO fails', () => {
  it('restarts none of its consumers', async () => {
    const secretId = await wf.secret('sync-fails');
    const original = wf.values.at(-1);
    const namespace = await fx.namespaceWithStore('wf-syncfail');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    await fx.consumingDeployments(namespace, 'db-secret', ['consumer']);
    const before = await templates(namespace, ['consumer']);
    // The new value lacks the property the ExternalSecret maps: ESO fails the sync.
    const versionId = await wf.rotate(secretId, ['renamed']);

    const execution = await wf.run('sync-fails', secretId, versionId);

    const { synced, restarted, failed } = await expectFailedAndAlerted(execution, secretId, versionId);
    expect(execution.states).toContain('CheckSync');
    expect(synced).toEqual([]);
    expect(restarted).toEqual([]);
    expect(failed.join('\n')).toContain(`ExternalSecret/${namespace}/db`);
    expect(await wf.forceSync(namespace, 'db')).toMatch(new RegExp(`^${versionId}@`));
    expect(await templates(namespace, ['consumer'])).toEqual(before);
    expect(await fx.secretValue(namespace, 'db-secret', 'password')).toBe(original);
  });

  it('refuses a workload that also reads the failed one’s Secret; restarts the consumers of the synced one', async () => {
    // Two ExternalSecrets of one secret; after the rotation only `db`'s property is still there.
    const secretId = await wf.secret('half-fails', ['password', 'legacy']);
    const namespace = await fx.namespaceWithStore('wf-half');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecret(namespace, 'legacy', secretId, {
      data: [{ secretKey: 'legacy', remoteRef: { key: secretId, property: 'legacy' } }],
    });
    for (const name of ['db', 'legacy']) await fx.externalSecretReady(namespace, name);
    const workloads: [string, string[]][] = [
      ['db-only', ['db-secret']],
      ['both', ['db-secret', 'legacy-secret']],
      ['legacy-only', ['legacy-secret']],
    ];
    for (const [name, secrets] of workloads) {
      await fx.workload('Deployment', namespace, name, {
        containers: [{ name: 'app', envFrom: secrets.map(envFrom) }],
      });
    }
    const names = workloads.map(([name]) => name);
    const refs: ObjectRef[] = names.map((name) => ({ kind: 'Deployment', namespace, name }));
    await fx.rolledOut(refs);
    const before = await templates(namespace, names);
    const versionId = await wf.rotate(secretId, ['password']);

    const execution = await wf.run('half-fails', secretId, versionId);

    const { synced, restarted, failed } = await expectFailedAndAlerted(execution, secretId, versionId);
    expect(synced).toEqual([`ExternalSecret/${namespace}/db`]);
    expect(restarted).toEqual([`Deployment/${namespace}/db-only`]);
    const text = failed.join('\n');
    expect(text).toContain(`ExternalSecret/${namespace}/legacy`);
    expect(failed.find((f) => f.includes(`Deployment/${namespace}/both`))).toMatch(/legacy-secret/);
    const [dbOnly, both, legacyOnly] = await templates(namespace, names);
    expect(dbOnly?.generation).toBe((before[0]?.generation ?? 0) + 1);
    expect(dbOnly?.restartedAt).toBeDefined();
    expect(both).toEqual(before[1]);
    expect(legacyOnly).toEqual(before[2]);
    await fx.rolledOut(refs.slice(0, 1));
  });
});

it('never lets a secret value reach the steps’ logs', () => {
  expect(wf.hostOutput().length).toBeGreaterThan(0);
  expect(wf.leakedValues()).toEqual([]);
});
