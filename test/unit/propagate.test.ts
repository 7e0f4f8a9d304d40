import { describe, expect, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import type { ClusterPort } from '../../shared/kubernetes/cluster-port';
import type { ExternalSecret, ExternalSecretSyncStatus } from '../../shared/propagation/eso-types';
import type { ConsumerMatch } from '../../shared/propagation/find-consumers';
import { propagate } from '../../shared/propagation/propagate';
import type { ExternalSecretTarget, PropagationPlan } from '../../shared/propagation/propagation-plan';
import type { RolloutObservation } from '../../shared/propagation/rollout-status';
import type { ObjectRef, Workload } from '../../shared/propagation/workload-types';

const SYNCED: ExternalSecretSyncStatus = {
  refreshTime: '2099-01-01T00:00:00Z',
  syncedResourceVersion: 'new',
  ready: { status: 'True', reason: 'SecretSynced' },
};
const FAILED: ExternalSecretSyncStatus = {
  ready: { status: 'False', reason: 'SecretSyncedError', message: 'no access' },
};
const DONE: RolloutObservation = {
  kind: 'Deployment',
  generation: 2,
  spec: { replicas: 1 },
  status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
};

function workload(name: string): Workload {
  return {
    kind: 'Deployment',
    namespace: 'shop',
    name,
    annotations: {},
    podTemplateAnnotations: {},
    podSpec: {},
  };
}
function target(name: string, consumers: string[]): ExternalSecretTarget {
  const externalSecret: ExternalSecret = {
    namespace: 'shop',
    name,
    apiVersion: 'v1',
    generation: 1,
    spec: {},
    syncStatus: {},
  };
  const matches: ConsumerMatch[] = consumers.map((c) => ({ workload: workload(c), reasons: [] }));
  return {
    affected: {
      externalSecret,
      targetSecret: `${name}-secret`,
      reasons: [],
      refresh: 'refreshes',
      findRefusals: [],
    },
    consumers: matches,
    skipped: [],
  };
}

/** An in-memory cluster: ExternalSecret sync states by name, and workloads whose patch may fail. */
function fakeCluster(syncs: Record<string, ExternalSecretSyncStatus>, failingPatches: string[] = []) {
  const patched: string[] = [];
  const port: ClusterPort = {
    listExternalSecrets: async () => [],
    listSecretStores: async () => [],
    listWorkloads: async () => [],
    annotateExternalSecret: async () => {},
    annotateClusterExternalSecret: async () => {},
    getExternalSecretSync: async (ref: ObjectRef) => syncs[ref.name] ?? {},
    patchWorkload: async (ref: ObjectRef) => {
      if (failingPatches.includes(ref.name)) throw new KubernetesCallError(403, 'Forbidden');
      patched.push(ref.name);
    },
    getRollout: async () => DONE,
    listRollouts: async () => new Map(patched.map((name) => [name, DONE])),
  };
  return { port, patched };
}

const plan = (...targets: ExternalSecretTarget[]): PropagationPlan => ({
  secret: {
    name: 'prod/db',
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
    tags: {},
  },
  versionId: 'v2',
  resync: targets,
  notRefreshing: [],
});
const OPTIONS = { concurrency: 2, syncTimeoutMs: 1_000, rolloutTimeoutMs: 1_000, pollIntervalMs: 1 };

describe('propagate', () => {
  it('does not restart a workload that also uses the Secret of an ExternalSecret whose sync failed', async () => {
    const { port, patched } = fakeCluster({ good: SYNCED, bad: FAILED });

    const report = await propagate(
      port,
      plan(target('good', ['only-good', 'both']), target('bad', ['both'])),
      OPTIONS,
    );

    expect(patched).toEqual(['only-good']);
    expect(report.refused).toEqual([
      {
        ref: { kind: 'Deployment', namespace: 'shop', name: 'both' },
        reason: expect.stringMatching(/bad-secret/),
      },
    ]);
    expect(report.outcome).toBe('failed');
  });

  it('records a restart patch that fails, keeps the others, and stops later waves', async () => {
    const { port, patched } = fakeCluster({ es: SYNCED }, ['denied']);

    const report = await propagate(port, plan(target('es', ['denied', 'allowed', 'later'])), OPTIONS);

    expect(patched).toEqual(['allowed']);
    expect(report.restarted.map((r) => r.name)).toEqual(['allowed']);
    expect(report.rolloutFailed).toEqual([
      {
        ref: { kind: 'Deployment', namespace: 'shop', name: 'denied' },
        reason: 'restart patch failed: Kubernetes API call failed: HTTP 403 Forbidden',
      },
    ]);
    expect(report.notStarted.map((r) => r.name)).toEqual(['later']);
  });

  it('restarts every consumer once when all syncs are confirmed', async () => {
    const { port, patched } = fakeCluster({ a: SYNCED, b: SYNCED });
    const report = await propagate(port, plan(target('a', ['x', 'y']), target('b', ['y', 'z'])), OPTIONS);
    expect(patched.sort()).toEqual(['x', 'y', 'z']);
    expect(report.outcome).toBe('succeeded');
  });
});
