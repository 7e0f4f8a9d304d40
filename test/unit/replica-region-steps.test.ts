/**
 * The plan, resync and check-sync steps with a secret replicated to eu-west-1: the ExternalSecret
 * reading the replica is annotated only once the replica has the version, and fails past the sync
 * deadline naming the region. A fake cluster and a fake replica reader (the decisions under test are
 * the steps'; the real calls are in test/cluster/replica-region.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import type { ClusterPort } from '../../shared/propagation/cluster-port';
import type { AwsSecretStore, ExternalSecret } from '../../shared/propagation/eso-types';
import { arnInRegion } from '../../shared/propagation/find-external-secrets';
import type { ReplicaPort, ReplicaStatus } from '../../shared/propagation/replica-port';
import { finishClusterStep } from '../../shared/workflow/cluster-outcome';
import {
  type ClusterStepDeps,
  checkSyncStep,
  planStep,
  resyncStep,
} from '../../shared/workflow/cluster-steps';
import type { ClusterPlan, SyncProgress } from '../../shared/workflow/workflow-state';
import { fakeCluster } from '../support/fake-cluster';

const V1 = '11111111-1111-4111-8111-111111111111';
const V2 = '22222222-2222-4222-8222-222222222222';
const SECRET = {
  name: 'prod/app/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
  tags: {},
};
const EU_ARN = arnInRegion(SECRET.arn, 'eu-west-1');
const store = (name: string, region: string): AwsSecretStore => ({
  kind: 'SecretStore',
  namespace: 'shop',
  name,
  service: 'SecretsManager',
  region,
});
const es = (name: string, storeName: string): ExternalSecret => ({
  namespace: 'shop',
  name,
  apiVersion: 'external-secrets.io/v1',
  generation: 1,
  spec: { secretStoreRef: { name: storeName }, data: [{ secretKey: 'p', remoteRef: { key: SECRET.name } }] },
});

/** A replica reader whose eu-west-1 replica holds `euCurrent` as AWSCURRENT; every call recorded. */
function replicas(state: { euCurrent: string; status?: string }): ReplicaPort & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async replicationOf(arn) {
      calls.push(`replicationOf ${arn}`);
      const eu: ReplicaStatus = { region: 'eu-west-1', status: state.status ?? 'InProgress' };
      return [eu];
    },
    async stagesIn(region, arn) {
      calls.push(`stagesIn ${region} ${arn}`);
      return { [state.euCurrent]: ['AWSCURRENT'] };
    },
  };
}

function deps(
  cluster: Partial<ClusterPort>,
  replicaPort: ReplicaPort | undefined,
  now = '2026-11-23T10:01:00.000Z',
): ClusterStepDeps {
  return {
    clusterFor: async () => fakeCluster(cluster),
    requireOptIn: false,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    now: () => new Date(now),
    ...(replicaPort && { replicas: replicaPort }),
  };
}

const listing: Partial<ClusterPort> = {
  listExternalSecrets: async () => [es('us', 'us'), es('eu', 'eu'), es('ap', 'ap')],
  listSecretStores: async () => [
    store('us', 'us-east-1'),
    store('eu', 'eu-west-1'),
    store('ap', 'ap-south-1'),
  ],
  listWorkloads: async () => [],
};
const planInput = {
  action: 'plan',
  cluster: 'c',
  secret: SECRET,
  versionId: V2,
  moveSeq: 1,
};

describe('planStep with a replicated secret', () => {
  it('plans the replica reader with its region, and reports the store of an unreplicated region', async () => {
    const port = replicas({ euCurrent: V1 });
    const plan = await planStep(planInput, deps(listing, port));
    expect(plan.resync.map((t) => [t.name, t.replicaRegions])).toEqual([
      ['us', undefined],
      ['eu', ['eu-west-1']],
    ]);
    expect(plan.replication).toEqual({
      secretArn: SECRET.arn,
      replicas: [{ region: 'eu-west-1', secretId: EU_ARN }],
    });
    expect(plan.otherRegion).toHaveLength(1);
    expect(plan.otherRegion?.[0]?.ref.name).toBe('ap');
    expect(plan.otherRegion?.[0]?.reason).toMatch(
      /^reads it in ap-south-1, where the secret is not replicated/,
    );
    expect(port.calls).toEqual([`replicationOf ${SECRET.arn}`]);
  });

  it('without a replica reader, resyncs the primary only and reports both other stores', async () => {
    const plan = await planStep(planInput, deps(listing, undefined));
    expect(plan.resync.map((t) => t.name)).toEqual(['us']);
    expect(plan.otherRegion?.map((o) => o.ref.name)).toEqual(['eu', 'ap']);
  });
});

describe('resync and check-sync with a lagging replica', () => {
  const annotated: string[] = [];
  const cluster: Partial<ClusterPort> = {
    annotateExternalSecret: async (ref) => {
      annotated.push(ref.name);
    },
    getExternalSecretSync: async () => ({}),
  };
  let plan: ClusterPlan;
  let sync: SyncProgress;

  it('annotates the primary reader only, and holds the replica reader', async () => {
    plan = await planStep(planInput, deps(listing, replicas({ euCurrent: V1 })));
    sync = await resyncStep(
      { action: 'resync', cluster: 'c', versionId: V2, plan },
      deps(cluster, replicas({ euCurrent: V1 }), '2026-11-23T10:00:00.000Z'),
    );
    expect(annotated).toEqual(['us']);
    expect(sync).toMatchObject({ done: false, pending: ['shop/us'], held: ['shop/eu'], versionId: V2 });
    expect(sync.replicaWaits).toEqual([
      { region: 'eu-west-1', detail: `replication InProgress; its AWSCURRENT is ${V1}, not ${V2}` },
    ]);
  });

  it('keeps holding while the replica lags, reading it in its own region', async () => {
    const port = replicas({ euCurrent: V1 });
    sync = await checkSyncStep({ action: 'check-sync', cluster: 'c', plan, sync }, deps(cluster, port));
    expect(annotated).toEqual(['us']);
    expect(sync).toMatchObject({ done: false, held: ['shop/eu'] });
    expect(port.calls).toContain(`stagesIn eu-west-1 ${EU_ARN}`);
  });

  it('annotates the replica reader once the replica has the version, and confirms it', async () => {
    sync = await checkSyncStep(
      { action: 'check-sync', cluster: 'c', plan, sync },
      deps(cluster, replicas({ euCurrent: V2, status: 'InSync' })),
    );
    expect(annotated).toEqual(['us', 'eu']);
    expect(sync).toMatchObject({ done: false, held: [], pending: ['shop/us', 'shop/eu'] });
  });

  it('names a held reader deleted before its replica caught up as gone, not pending, not failed', async () => {
    const held = await resyncStep(
      { action: 'resync', cluster: 'c', versionId: V2, plan },
      deps(cluster, replicas({ euCurrent: V1 }), '2026-11-23T10:00:00.000Z'),
    );
    const released = await checkSyncStep(
      { action: 'check-sync', cluster: 'c', plan, sync: held },
      deps(
        {
          ...cluster,
          annotateExternalSecret: async (r) => {
            if (r.name === 'eu') throw new KubernetesCallError(404, 'NotFound');
          },
        },
        replicas({ euCurrent: V2, status: 'InSync' }),
      ),
    );
    expect(released.held).toEqual([]);
    expect(released.pending).not.toContain('shop/eu');
    expect(released.failed).toEqual([]);
    expect(released.gone).toEqual([{ kind: 'ExternalSecret', namespace: 'shop', name: 'eu' }]);
  });

  it('fails a held reader past the deadline, naming the region and the replica status', async () => {
    const seen: string[] = [];
    const held = await resyncStep(
      { action: 'resync', cluster: 'c', versionId: V2, plan },
      deps(
        { ...cluster, annotateExternalSecret: async (r) => void seen.push(r.name) },
        replicas({ euCurrent: V1 }),
        '2026-11-23T10:00:00.000Z',
      ),
    );
    const late = await checkSyncStep(
      { action: 'check-sync', cluster: 'c', plan, sync: held },
      deps(
        { ...cluster, annotateExternalSecret: async (r) => void seen.push(r.name) },
        replicas({ euCurrent: V1 }),
        '2026-11-23T10:06:00.000Z',
      ),
    );
    expect(seen).toEqual(['us']);
    expect(late.done).toBe(true);
    expect(late.synced).toEqual([]);
    expect(late.failed.map((f) => f.ref.name)).toEqual(['eu', 'us']);
    expect(late.failed[0]?.reason).toBe(
      `the replica in eu-west-1 did not get the new version within 300 s (replication InProgress; its AWSCURRENT is ${V1}, not ${V2}); not resynced, its consumers are not restarted`,
    );
    const outcome = await finishClusterStep({ state: { cluster: 'c', plan, sync: late } });
    expect(outcome.outcome).toBe('failed');
    expect(outcome.failed.join('\n')).toContain(
      'shop/eu: the replica in eu-west-1 did not get the new version',
    );
    expect(outcome.notSynced).toEqual([
      expect.stringMatching(/^ExternalSecret\/shop\/ap: reads it in ap-south-1/),
    ]);
  });

  it('fails a reader at once when the replication failed', async () => {
    const failed = await resyncStep(
      { action: 'resync', cluster: 'c', versionId: V2, plan },
      deps(cluster, replicas({ euCurrent: V1, status: 'Failed' })),
    );
    expect(failed.held).toBeUndefined();
    expect(failed.failed.map((f) => [f.ref.name, f.reason])).toEqual([
      [
        'eu',
        `the replica in eu-west-1 does not have the new version: replication Failed; its AWSCURRENT is ${V1}, not ${V2}; not resynced, its consumers are not restarted`,
      ],
    ]);
  });
});

describe('finishClusterStep', () => {
  it('reports ExternalSecrets of unreplicated regions as not synced without failing the cluster', async () => {
    const plan = await planStep(planInput, deps(listing, replicas({ euCurrent: V2 })));
    const outcome = await finishClusterStep({
      state: {
        cluster: 'c',
        plan,
        sync: {
          annotatedAt: '2026-11-23T10:00:00.000Z',
          deadline: '2026-11-23T10:05:00.000Z',
          done: true,
          pending: [],
          synced: plan.resync.map((t) => ({ kind: 'ExternalSecret', namespace: t.namespace, name: t.name })),
          failed: [],
        },
      },
    });
    expect(outcome.outcome).toBe('succeeded');
    expect(outcome.notSynced).toHaveLength(1);
    expect(outcome.counts?.notSynced).toBe(1);
  });
});
