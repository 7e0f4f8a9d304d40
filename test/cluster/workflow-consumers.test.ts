/**
 * Which workloads the deployed workflow restarts after a rotation, across every way of consuming
 * the Secret and the three workload kinds, the annotations that steer it, and several
 * ExternalSecrets of one secret: asserted on the ledger, the pod templates and the rollouts.
 */
import { BatchV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS, RELOADER_ANNOTATIONS } from '../../shared/propagation/consumer-annotations';
import { type ObjectRef, refKey } from '../../shared/propagation/object-ref';
import { planPropagation } from '../../shared/propagation/propagation-plan';
import type { PodSpec, RolloutKind } from '../../shared/propagation/workload-types';
import { RESTARTED_AT, workflowHarness } from '../support/workflow-harness';

const wf = workflowHarness({ restartConcurrency: 2 });
const { fx } = wf;
const SECRET = 'db-secret';
const env = { name: 'P', valueFrom: { secretKeyRef: { name: SECRET, key: 'password' } } };
const envFrom = (name: string) => ({ secretRef: { name } });

/** Every supported way to consume the Secret, across the three workload kinds. */
const CONSUMERS: [RolloutKind, string, PodSpec][] = [
  ['Deployment', 'env-user', { containers: [{ name: 'app', env: [env] }] }],
  ['Deployment', 'init-env-user', { initContainers: [{ name: 'init', env: [env] }] }],
  ['StatefulSet', 'envfrom-user', { containers: [{ name: 'app', envFrom: [envFrom(SECRET)] }] }],
  ['DaemonSet', 'volume-user', { volumes: [{ name: 'creds', secret: { secretName: SECRET } }] }],
  [
    'Deployment',
    'projected-user',
    { volumes: [{ name: 'all', projected: { sources: [{ secret: { name: SECRET } }] } }] },
  ],
];

/** Generation and restartedAt of each workload, to compare before and after a propagation. */
async function templates(refs: readonly ObjectRef[]) {
  return Promise.all(
    refs.map(async (ref) => {
      const t = await wf.podTemplate(ref.namespace, ref.name, ref.kind as RolloutKind);
      return { generation: t.generation ?? 0, restartedAt: t.annotations[RESTARTED_AT] };
    }),
  );
}

describe('every kind of consumer', () => {
  let secretId: string;
  let namespace: string;
  let consumers: ObjectRef[];
  let bystander: ObjectRef;

  beforeAll(async () => {
    secretId = await wf.secret('kinds');
    namespace = await fx.namespaceWithStore('wf-kinds');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    for (const [kind, name, podSpec] of CONSUMERS) await fx.workload(kind, namespace, name, podSpec);
    await fx.workload('Deployment', namespace, 'bystander', {});
    consumers = CONSUMERS.map(([kind, name]) => ({ kind, namespace, name }));
    bystander = { kind: 'Deployment', namespace, name: 'bystander' };
    await fx.rolledOut([...consumers, bystander]);
  });

  it('finds every consumer when the lists come back one item per page', async () => {
    const { secret, versionId } = await fx.rotatedSecret(secretId);

    const plan = await planPropagation(fx.asRotator({ pageSize: 1 }), secret, versionId);

    const found = plan.resync
      .filter((t) => t.affected.externalSecret.namespace === namespace)
      .flatMap((t) => t.consumers.map((c) => `${c.workload.kind}/${c.workload.name}`));
    expect(found.sort()).toEqual(CONSUMERS.map(([kind, name]) => `${kind}/${name}`).sort());
  });

  it('syncs the Secret, restarts and rolls out every consumer once, and leaves the bystander alone', async () => {
    const before = await templates([...consumers, bystander]);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('kinds', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    expect(await fx.secretValue(namespace, SECRET, 'password')).toBe(wf.values.at(-1));
    const { entry, synced, restarted } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'succeeded', versionId });
    expect(synced).toEqual([refKey({ kind: 'ExternalSecret', namespace, name: 'db' })]);
    expect([...restarted].sort()).toEqual(
      consumers.map((r) => refKey({ kind: r.kind, namespace, name: r.name })).sort(),
    );
    const after = await templates([...consumers, bystander]);
    consumers.forEach((ref, i) => {
      expect(after[i]?.generation, ref.name).toBe((before[i]?.generation ?? 0) + 1);
      expect(after[i]?.restartedAt, ref.name).toBeDefined();
      expect(after[i]?.restartedAt, ref.name).not.toBe(before[i]?.restartedAt);
    });
    expect(after.at(-1)).toEqual(before.at(-1));
    await fx.rolledOut(consumers);
  });
});

describe('consumers that have no rollout to restart', () => {
  it('reports an OnDelete StatefulSet, a CronJob, a Job and a bare Pod as next-pod, restarts only the Deployment', async () => {
    const secretId = await wf.secret('next-pod');
    const namespace = await fx.namespaceWithStore('wf-nextpod');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    const reads: PodSpec = { containers: [{ name: 'app', envFrom: [envFrom(SECRET)] }] };
    const podSpec = { containers: [{ name: 'app', image: 'app:1', envFrom: [envFrom(SECRET)] }] };
    await fx.workload('StatefulSet', namespace, 'on-delete', reads, {
      spec: { updateStrategy: { type: 'OnDelete' } },
    });
    await fx.workload('Deployment', namespace, 'api', reads);
    // A schedule that never fires during the test; its Jobs would be the CronJob's, not reported.
    await fx.create({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace },
      spec: {
        schedule: '0 0 1 1 *',
        jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
      },
    });
    // kwok completes a Job's pods at once: a suspended Job stays unfinished (its pods start later,
    // with the new value), and a finished one holds no value and is not reported.
    const job = (name: string, suspend: boolean) =>
      fx.create({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace },
        spec: { suspend, template: { spec: { ...podSpec, restartPolicy: 'Never' } } },
      });
    await job('migrate', true);
    await job('finished', false);
    const batch = fx.admin.makeApiClient(BatchV1Api);
    await fx.eventually('Job finished to complete', async () => {
      const status = (await batch.readNamespacedJob({ namespace, name: 'finished' })).status;
      return status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') || undefined;
    });
    await fx.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace }, spec: podSpec });
    const rollouts: ObjectRef[] = [
      { kind: 'StatefulSet', namespace, name: 'on-delete' },
      { kind: 'Deployment', namespace, name: 'api' },
    ];
    // kubectl's rollout status has no verdict for OnDelete; only the Deployment is waited for.
    await fx.rolledOut(rollouts.slice(1));
    const [onDeleteBefore] = await templates(rollouts);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('next-pod', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    const { entry, restarted, failed } = await wf.propagation(secretId);
    expect(entry).toMatchObject({ status: 'succeeded', versionId });
    expect([...restarted]).toEqual([refKey({ kind: 'Deployment', namespace, name: 'api' })]);
    expect(failed).toEqual([]);
    const nextPod = (entry.clusters?.[0]?.nextPod ?? []).map((line) => line.split(': ')[0]).sort();
    expect(nextPod).toEqual(
      [
        refKey({ kind: 'CronJob', namespace, name: 'nightly' }),
        refKey({ kind: 'Job', namespace, name: 'migrate' }),
        refKey({ kind: 'Pod', namespace, name: 'debug' }),
        refKey({ kind: 'StatefulSet', namespace, name: 'on-delete' }),
      ].sort(),
    );
    expect(entry.clusters?.[0]?.counts).toMatchObject({ restarted: 1, nextPod: 4, failed: 0 });
    const [onDeleteAfter] = await templates(rollouts);
    expect(onDeleteAfter).toEqual(onDeleteBefore);
  });
});

describe('annotations that steer restarts', () => {
  it('skips a consumer annotated ignore; restarts one that names the Secret in ours or Reloader’s annotation', async () => {
    const secretId = await wf.secret('annotated');
    const namespace = await fx.namespaceWithStore('wf-annot');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    const reads = { containers: [{ name: 'app', envFrom: [envFrom(SECRET)] }] };
    await fx.workload('Deployment', namespace, 'ignored', reads, {
      annotations: { [ANNOTATIONS.ignore]: 'true' },
    });
    await fx.workload(
      'Deployment',
      namespace,
      'ours',
      {},
      { annotations: { [ANNOTATIONS.secrets]: SECRET } },
    );
    await fx.workload(
      'Deployment',
      namespace,
      'reloaders',
      {},
      {
        annotations: { [RELOADER_ANNOTATIONS.secretReload]: SECRET },
      },
    );
    const refs: ObjectRef[] = ['ignored', 'ours', 'reloaders'].map((name) => ({
      kind: 'Deployment',
      namespace,
      name,
    }));
    await fx.rolledOut(refs);
    const before = await templates(refs);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('annotated', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    const { restarted } = await wf.propagation(secretId);
    expect([...restarted].sort()).toEqual([
      refKey({ kind: 'Deployment', namespace, name: 'ours' }),
      refKey({ kind: 'Deployment', namespace, name: 'reloaders' }),
    ]);
    const [ignored, ours, reloaders] = await templates(refs);
    expect(ignored).toEqual(before[0]);
    expect(ours?.generation).toBe((before[1]?.generation ?? 0) + 1);
    expect(reloaders?.generation).toBe((before[2]?.generation ?? 0) + 1);
    expect(ours?.restartedAt).toBeDefined();
    await fx.rolledOut(refs.slice(1));
  });
});

describe('a deployment that requires opt-in (propagation.requireOptIn)', () => {
  const optIn = workflowHarness({ restartConcurrency: 2, requireOptIn: true });

  it('restarts only consumers that opt in by annotation, ours or Reloader’s', async () => {
    const secretId = await optIn.secret('opt-in');
    const namespace = await fx.namespaceWithStore('wf-optin');
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');
    const reads = { containers: [{ name: 'app', envFrom: [envFrom(SECRET)] }] };
    await fx.workload('Deployment', namespace, 'silent', reads);
    await fx.workload('Deployment', namespace, 'ours', reads, {
      annotations: { [ANNOTATIONS.secrets]: SECRET },
    });
    await fx.workload('Deployment', namespace, 'reloader-auto', reads, {
      annotations: { [RELOADER_ANNOTATIONS.auto]: 'true' },
    });
    const refs: ObjectRef[] = ['silent', 'ours', 'reloader-auto'].map((name) => ({
      kind: 'Deployment',
      namespace,
      name,
    }));
    await fx.rolledOut(refs);
    const before = await templates(refs);
    const versionId = await optIn.rotate(secretId);

    const execution = await optIn.run('opt-in', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    const { restarted } = await optIn.propagation(secretId);
    expect([...restarted].sort()).toEqual([
      refKey({ kind: 'Deployment', namespace, name: 'ours' }),
      refKey({ kind: 'Deployment', namespace, name: 'reloader-auto' }),
    ]);
    const [silent, ours, auto] = await templates(refs);
    expect(silent).toEqual(before[0]);
    expect(ours?.generation).toBe((before[1]?.generation ?? 0) + 1);
    expect(auto?.generation).toBe((before[2]?.generation ?? 0) + 1);
    await fx.rolledOut(refs.slice(1));
  });

  it('never lets a secret value reach its steps’ logs', () => {
    expect(optIn.leakedValues()).toEqual([]);
  });
});

describe('several ExternalSecrets of one secret', () => {
  it('syncs each, and restarts a workload that reads both of their Secrets once', async () => {
    const secretId = await wf.secret('two-es');
    const namespace = await fx.namespaceWithStore('wf-two');
    for (const name of ['db', 'copy']) {
      await fx.externalSecret(namespace, name, secretId);
      await fx.externalSecretReady(namespace, name);
    }
    await fx.workload('Deployment', namespace, 'both', {
      containers: [{ name: 'app', envFrom: [envFrom('db-secret'), envFrom('copy-secret')] }],
    });
    await fx.workload('Deployment', namespace, 'copy-only', {
      containers: [{ name: 'app', envFrom: [envFrom('copy-secret')] }],
    });
    const refs: ObjectRef[] = ['both', 'copy-only'].map((name) => ({ kind: 'Deployment', namespace, name }));
    await fx.rolledOut(refs);
    const before = await templates(refs);
    const versionId = await wf.rotate(secretId);

    const execution = await wf.run('two-es', secretId, versionId);

    expect(execution.status, JSON.stringify(execution.failedWith)).toBe('SUCCEEDED');
    const { synced, restarted } = await wf.propagation(secretId);
    expect([...synced].sort()).toEqual([
      refKey({ kind: 'ExternalSecret', namespace, name: 'copy' }),
      refKey({ kind: 'ExternalSecret', namespace, name: 'db' }),
    ]);
    expect([...restarted].sort()).toEqual([
      refKey({ kind: 'Deployment', namespace, name: 'both' }),
      refKey({ kind: 'Deployment', namespace, name: 'copy-only' }),
    ]);
    const after = await templates(refs);
    after.forEach((t, i) => {
      expect(t.generation).toBe((before[i]?.generation ?? 0) + 1);
    });
    for (const name of ['db-secret', 'copy-secret'])
      expect(await fx.secretValue(namespace, name, 'password')).toBe(wf.values.at(-1));
    await fx.rolledOut(refs);
  });
});

it('never lets a secret value reach the steps’ logs', () => {
  expect(wf.hostOutput().length).toBeGreaterThan(0);
  expect(wf.leakedValues()).toEqual([]);
});
