import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { workflowHarness } from '../support/workflow-harness';

/**
 * The propagation's state model in the real cluster with ESO, through the deployed workflow:
 * markers per secret, verified only after the rollout, a failed rollout fixed and retried, a
 * rollback propagated as a new AWSCURRENT move, and the exactly-once guarantees per move.
 */
const wf = workflowHarness({ restartConcurrency: 1 });
const { fx } = wf;

async function workloadAnnotations(namespace: string, name: string) {
  const apps = fx.admin.makeApiClient(AppsV1Api);
  const d = await apps.readNamespacedDeployment({ namespace, name });
  return {
    generation: d.metadata?.generation ?? 0,
    metadata: d.metadata?.annotations ?? {},
    template: d.spec?.template.metadata?.annotations ?? {},
  };
}

async function generations(namespace: string, names: readonly string[]): Promise<number[]> {
  return Promise.all(names.map(async (n) => (await workloadAnnotations(namespace, n)).generation));
}
const at = (list: readonly number[], index: number) => list[index] ?? Number.NaN;

describe('markers per secret', () => {
  it('a workload using two secrets keeps one marker per secret; replaying either restarts nothing', async () => {
    const first = await wf.secret('multi-a');
    const second = await wf.secret('multi-b');
    const namespace = await fx.namespaceWithStore('wf-multi');
    await fx.externalSecret(namespace, 'a', first);
    await fx.externalSecret(namespace, 'b', second);
    await fx.externalSecretReady(namespace, 'a');
    await fx.externalSecretReady(namespace, 'b');
    await fx.workload('Deployment', namespace, 'both', {
      containers: [
        { name: 'app', envFrom: [{ secretRef: { name: 'a-secret' } }, { secretRef: { name: 'b-secret' } }] },
      ],
    });
    await fx.rolledOut([{ kind: 'Deployment', namespace, name: 'both' }]);

    const va = await wf.rotate(first);
    expect((await wf.run('multi-a', first, va)).status).toBe('SUCCEEDED');
    const vb = await wf.rotate(second);
    expect((await wf.run('multi-b', second, vb)).status).toBe('SUCCEEDED');

    const after = await workloadAnnotations(namespace, 'both');
    expect(after.template[restartedMarkerKey(first)]).toBe(`${va}#1`);
    expect(after.template[restartedMarkerKey(second)]).toBe(`${vb}#1`);

    // A's move replayed after B's restart (a retried execution): A's marker still says done.
    const replay = await wf.run('multi-a-replay', first, va);
    expect(replay.status).toBe('SUCCEEDED');
    expect((await workloadAnnotations(namespace, 'both')).generation).toBe(after.generation);
  });
});

describe('a failed rollout, fixed, then the same move again', () => {
  it('records no success until the fixed workload rolled out, and restarts exactly the ones not restarted', async () => {
    const secretId = await wf.secret('fixed');
    const names = ['a-ok', 'b-fails', 'c-ok'];
    const namespace = await wf.consumers(secretId, names, ['b-fails']);
    const before = await generations(namespace, names);
    const versionId = await wf.rotate(secretId);

    const failed = await wf.run('fixed-1', secretId, versionId);

    expect(failed.status).toBe('FAILED');
    const firstOutcome = await wf.propagation(secretId);
    expect(firstOutcome.entry).toMatchObject({ status: 'failed', moveSeq: 1 });
    expect(firstOutcome.restarted).toEqual([`Deployment/${namespace}/a-ok`]);
    expect(firstOutcome.entry.clusters?.[0]?.notRestarted).toEqual([`Deployment/${namespace}/c-ok`]);
    const mid = await generations(namespace, names);
    expect(mid).toEqual([at(before, 0) + 1, at(before, 1) + 1, at(before, 2)]);
    // Restarted for the move, but its rollout failed: not counted as done.
    const broken = await workloadAnnotations(namespace, 'b-fails');
    expect(broken.template[restartedMarkerKey(secretId)]).toBe(`${versionId}#1`);

    // The owner fixes the workload (drops the label that makes its pods fail): it rolls out.
    const apps = fx.admin.makeApiClient(AppsV1Api);
    await apps.patchNamespacedDeployment(
      {
        namespace,
        name: 'b-fails',
        body: [{ op: 'remove', path: '/spec/template/metadata/labels/rotator.test~1fail-on-restart' }],
      },
      // JSON patch: client-node picks the content type from this option.
      { headers: { 'Content-Type': 'application/json-patch+json' } } as never,
    );
    await fx.rolledOut([{ kind: 'Deployment', namespace, name: 'b-fails' }]);
    const fixed = await generations(namespace, names);

    const retried = await wf.run('fixed-2', secretId, versionId, { trigger: 'reconcile' });

    expect(retried.status, JSON.stringify(retried.failedWith)).toBe('SUCCEEDED');
    const outcome = await wf.propagation(secretId);
    expect(outcome.entry).toMatchObject({ status: 'succeeded', moveSeq: 1, executionId: 'fixed-2' });
    expect([...outcome.restarted].sort()).toEqual(names.map((n) => `Deployment/${namespace}/${n}`));
    // a-ok and b-fails were not restarted again; c-ok was restarted once.
    expect(await generations(namespace, names)).toEqual([at(fixed, 0), at(fixed, 1), at(fixed, 2) + 1]);
  });
});

describe('AWSCURRENT moved back (a rollback)', () => {
  it('is a new move: propagated again, once, however often it is replayed', async () => {
    const secretId = await wf.secret('rollback');
    const namespace = await wf.consumers(secretId, ['api']);
    const v2 = await wf.rotate(secretId);
    expect((await wf.run('rb-v2', secretId, v2)).status).toBe('SUCCEEDED');
    const v2Value = wf.values.at(-1);
    const v3 = await wf.rotate(secretId);
    expect((await wf.run('rb-v3', secretId, v3)).status).toBe('SUCCEEDED');
    const before = (await workloadAnnotations(namespace, 'api')).generation;

    await fx.aws.secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v2,
        RemoveFromVersionId: v3,
      }),
    );
    const runs = [];
    for (const name of ['rb-back', 'rb-back-replay-1', 'rb-back-replay-2', 'rb-back-replay-3']) {
      runs.push(await wf.run(name, secretId, v2));
    }

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(runs.filter((r) => r.states.includes('AlreadyClaimed'))).toHaveLength(3);
    const after = await workloadAnnotations(namespace, 'api');
    expect(after.generation).toBe(before + 1);
    expect(after.template[restartedMarkerKey(secretId)]).toBe(`${v2}#3`);
    expect(await fx.secretValue(namespace, 'db-secret', 'password')).toBe(v2Value);
    const propagations = (await wf.ledger.history(secretId)).filter((e) => e.kind === 'propagation');
    expect(
      propagations.map((p) => (p.kind === 'propagation' ? [p.versionId, p.moveSeq, p.fromVersionId] : [])),
    ).toEqual([
      [v2, 3, v3],
      [v3, 2, v2],
      [v2, 1, expect.any(String)],
    ]);
  });
});
