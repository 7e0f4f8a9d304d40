import { describe, expect, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import type { ExternalSecret } from '../../shared/propagation/eso-types';
import { type ClusterStepDeps, checkSyncStep, LIST_SYNC_ABOVE } from '../../shared/workflow/cluster-steps';
import type { EsTarget, SyncProgress } from '../../shared/workflow/workflow-state';
import { type FakeCluster, fakeCluster } from '../support/fake-cluster';

const synced = {
  syncedResourceVersion: '2-new',
  refreshTime: '2026-11-23T10:00:30Z',
  ready: { status: 'True', reason: 'SecretSynced' },
};
const target = (name: string): EsTarget => ({
  namespace: 'shop',
  name,
  prior: { syncedResourceVersion: '1-old' },
  targetSecret: `${name}-secret`,
  reasons: [],
});
const listed = (name: string, syncStatus = {}): ExternalSecret => ({
  namespace: 'shop',
  name,
  apiVersion: 'external-secrets.io/v1',
  generation: 1,
  spec: {} as ExternalSecret['spec'],
  syncStatus,
});
const names = (n: number) => Array.from({ length: n }, (_, i) => `es-${i}`);

function poll(cluster: FakeCluster, pending: readonly string[]) {
  const deps: ClusterStepDeps = {
    clusterFor: async () => cluster,
    requireOptIn: false,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    now: () => new Date('2026-11-23T10:01:00.000Z'),
  };
  const sync: SyncProgress = {
    annotatedAt: '2026-11-23T10:00:00.000Z',
    deadline: '2026-11-23T10:05:00.000Z',
    done: false,
    pending: pending.map((name) => `shop/${name}`),
    synced: [],
    failed: [],
  };
  const plan = {
    plannedAt: '2026-11-23T10:00:00.000Z',
    resync: pending.map(target),
    notRefreshing: [],
  };
  return checkSyncStep({ cluster: 'c', plan, sync }, deps);
}

describe('checkSyncStep reading sync status', () => {
  it(`reads up to ${LIST_SYNC_ABOVE} pending ExternalSecrets with a GET each, and lists nothing`, async () => {
    const cluster = fakeCluster({ getExternalSecretSync: async () => synced });

    const next = await poll(cluster, names(LIST_SYNC_ABOVE));

    expect(cluster.calls).toEqual(Array(LIST_SYNC_ABOVE).fill('getExternalSecretSync'));
    expect(next).toMatchObject({ done: true, pending: [] });
    expect(next.synced).toHaveLength(LIST_SYNC_ABOVE);
  });

  it('reads more than that with one cluster-wide LIST and no GET, with the same verdicts', async () => {
    const pending = names(LIST_SYNC_ABOVE + 1);
    const cluster = fakeCluster({
      // Others' ExternalSecrets are listed too; one of ours has not synced yet, one failed.
      listExternalSecrets: async () => [
        listed('unrelated', synced),
        ...pending.map((name, i) =>
          listed(
            name,
            i === 0
              ? { syncedResourceVersion: '1-old' }
              : i === 1
                ? { ready: { status: 'False', reason: 'SecretSyncedError', message: 'denied' } }
                : synced,
          ),
        ),
      ],
    });

    const next = await poll(cluster, pending);

    expect(cluster.calls).toEqual(['listExternalSecrets']);
    expect(next.pending).toEqual(['shop/es-0']);
    expect(next.failed).toEqual([
      { ref: { kind: 'ExternalSecret', namespace: 'shop', name: 'es-1' }, reason: 'denied' },
    ]);
    expect(next.synced).toHaveLength(pending.length - 2);
    expect(next.done).toBe(false);
  });

  it('reads one missing from the LIST with its own GET: deleted (404), it is gone, not failed', async () => {
    const pending = names(LIST_SYNC_ABOVE + 1);
    const cluster = fakeCluster({
      listExternalSecrets: async () => pending.slice(1).map((name) => listed(name, synced)),
      getExternalSecretSync: async () => {
        throw new KubernetesCallError(404, 'NotFound');
      },
    });

    const next = await poll(cluster, pending);

    expect(next.gone).toEqual([{ kind: 'ExternalSecret', namespace: 'shop', name: pending[0] }]);
    expect(next.failed).toEqual([]);
    expect(next.synced).toHaveLength(LIST_SYNC_ABOVE);
    expect(cluster.calls).toEqual(['listExternalSecrets', 'getExternalSecretSync']);
  });

  it('fails the step on any other refusal of that GET', async () => {
    const pending = names(LIST_SYNC_ABOVE + 1);
    const refused = new KubernetesCallError(403, 'Forbidden');
    const cluster = fakeCluster({
      listExternalSecrets: async () => pending.slice(1).map((name) => listed(name, synced)),
      getExternalSecretSync: async () => {
        throw refused;
      },
    });

    await expect(poll(cluster, pending)).rejects.toBe(refused);
  });
});
