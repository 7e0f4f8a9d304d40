/**
 * The plan step's reading of `secret-rotator.io/notify` on the Namespaces a propagation touches, and
 * the cluster's outcome carrying those routes to the ledger. A fake cluster (the decisions under
 * test are the step's; the real Namespace reads are in test/cluster/restart-window.test.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { clusterOutcomeSchema } from '../../shared/ledger/ledger-items';
import type { ClusterPort } from '../../shared/propagation/cluster-port';
import type { AwsSecretStore, ExternalSecret } from '../../shared/propagation/eso-types';
import { finishClusterStep } from '../../shared/workflow/cluster-outcome';
import { type ClusterStepDeps, planStep } from '../../shared/workflow/cluster-steps';
import { LIST_CAP } from '../../shared/workflow/workflow-state';
import { fakeCluster } from '../support/fake-cluster';

const VERSION = '22222222-2222-4222-8222-222222222222';
const SECRET = {
  name: 'prod/app/db',
  arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf',
  tags: {},
};
const NOTIFY = 'secret-rotator.io/notify';
const store = (namespace: string): AwsSecretStore => ({
  kind: 'SecretStore',
  namespace,
  name: 'aws',
  service: 'SecretsManager',
  region: 'us-east-1',
});
const es = (namespace: string, spec: Partial<ExternalSecret['spec']> = {}): ExternalSecret => ({
  namespace,
  name: 'db',
  apiVersion: 'external-secrets.io/v1',
  generation: 1,
  spec: {
    secretStoreRef: { name: 'aws' },
    data: [{ secretKey: 'p', remoteRef: { key: SECRET.name } }],
    ...spec,
  },
});
const planInput = { action: 'plan', cluster: 'c', secret: SECRET, versionId: VERSION, moveSeq: 1 };

/** A cluster with an ExternalSecret of the secret in each of `namespaces`, and these Namespaces' annotations. */
function setup(
  namespaces: readonly string[],
  annotations: Record<string, Record<string, string> | undefined | Error>,
  externalSecrets = namespaces.map((ns) => es(ns)),
) {
  const reads: string[] = [];
  const cluster: Partial<ClusterPort> = {
    listExternalSecrets: async () => externalSecrets,
    listSecretStores: async () => namespaces.map(store),
    listWorkloads: async () => [],
    getNamespaceAnnotations: async (ns) => {
      reads.push(ns);
      const answer = annotations[ns];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const logger = { warn: vi.fn() };
  const deps: ClusterStepDeps = {
    clusterFor: async () => fakeCluster(cluster),
    requireOptIn: false,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    now: () => new Date('2026-11-23T10:01:00.000Z'),
    logger,
  };
  return { deps, reads, logger };
}

describe('planStep: notification routes from Namespace annotations', () => {
  it('records the distinct routes of the touched Namespaces, reading each Namespace once', async () => {
    const { deps, reads } = setup(['payments', 'search', 'search-canary', 'plain'], {
      payments: { [NOTIFY]: 'payments-oncall' },
      search: { [NOTIFY]: 'search' },
      'search-canary': { [NOTIFY]: ' search ' },
      plain: { other: 'x' },
    });

    const plan = await planStep(planInput, deps);

    expect(plan.notifyRoutes).toEqual(['payments-oncall', 'search']);
    expect(reads.sort()).toEqual(['payments', 'plain', 'search', 'search-canary']);
  });

  it('counts an ExternalSecret that will not refresh: its Namespace is touched too', async () => {
    const { deps } = setup(['frozen'], { frozen: { [NOTIFY]: 'frozen-team' } }, [
      es('frozen', { refreshPolicy: 'CreatedOnce' }),
    ]);

    const plan = await planStep(planInput, deps);

    expect(plan.resync).toEqual([]);
    expect(plan.notRefreshing).toHaveLength(1);
    expect(plan.notifyRoutes).toEqual(['frozen-team']);
  });

  it('records nothing when no Namespace is annotated (the field is absent)', async () => {
    const { deps } = setup(['a'], { a: {} });

    expect(await planStep(planInput, deps)).not.toHaveProperty('notifyRoutes');
  });

  it('ignores a malformed annotation with a warning naming the Namespace, never the value', async () => {
    const { deps, logger } = setup(['bad', 'good'], {
      bad: { [NOTIFY]: '../route-of-someone-else' },
      good: { [NOTIFY]: 'good' },
    });

    const plan = await planStep(planInput, deps);

    expect(plan.notifyRoutes).toEqual(['good']);
    expect(logger.warn).toHaveBeenCalledWith('Namespace notification routes ignored', {
      problem: expect.stringContaining(NOTIFY),
      malformed: 1,
      namespaces: ['bad'],
    });
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain('route-of-someone-else');
  });

  it('treats a deleted Namespace (404: undefined) and a forbidden one (403, with a warning) as unannotated', async () => {
    const forbidden = new KubernetesCallError(403, 'Forbidden');
    const { deps, logger } = setup(['gone', 'locked', 'open'], {
      gone: undefined,
      locked: forbidden,
      open: { [NOTIFY]: 'open' },
    });

    const plan = await planStep(planInput, deps);

    expect(plan.notifyRoutes).toEqual(['open']);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('cannot read Namespaces (403)'), {
      forbidden: 1,
      namespaces: ['locked'],
    });
  });

  it('fails the step on any other error (a transient one is retried by the state machine)', async () => {
    const { deps } = setup(['a'], { a: new KubernetesCallError(500, undefined) });

    await expect(planStep(planInput, deps)).rejects.toBeInstanceOf(KubernetesCallError);
  });

  it(`records at most ${LIST_CAP} routes, with a warning giving the number`, async () => {
    const namespaces = Array.from({ length: LIST_CAP + 2 }, (_, i) => `team-${String(i).padStart(2, '0')}`);
    const { deps, logger } = setup(
      namespaces,
      Object.fromEntries(namespaces.map((ns) => [ns, { [NOTIFY]: ns }])),
    );

    const plan = await planStep(planInput, deps);

    expect(plan.notifyRoutes).toHaveLength(LIST_CAP);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('over the limit'), {
      routes: LIST_CAP + 2,
      limit: LIST_CAP,
    });
  });
});

describe('finishClusterStep: the routes reach the ledger’s cluster outcome', () => {
  it('passes the plan’s routes on, and none when the plan named none', async () => {
    const { deps } = setup(['payments'], { payments: { [NOTIFY]: 'payments-oncall' } });
    const plan = await planStep(planInput, deps);

    const outcome = await finishClusterStep({ state: { cluster: 'c', plan } });
    const without = await finishClusterStep({
      state: { cluster: 'c', plan: { ...plan, notifyRoutes: undefined } },
    });

    expect(outcome.notifyRoutes).toEqual(['payments-oncall']);
    // What the record step parses the outcomes with before the ledger stores them.
    expect(clusterOutcomeSchema.parse(outcome).notifyRoutes).toEqual(['payments-oncall']);
    expect(without).not.toHaveProperty('notifyRoutes');
  });
});

describe('planStep: what it reads', () => {
  it('lists no workload: the restart step lists the consumers once the Secrets hold the new value', async () => {
    // listWorkloads is not answered: the fake fails the step if the plan calls it.
    const cluster = fakeCluster({
      listExternalSecrets: async () => [es('shop'), es('search')],
      listSecretStores: async () => [store('shop'), store('search')],
    });
    const { deps } = setup([], {});

    const plan = await planStep(planInput, { ...deps, clusterFor: async () => cluster });

    expect(plan.resync.map((t) => t.namespace)).toEqual(['shop', 'search']);
    expect([...new Set(cluster.calls)].sort()).toEqual([
      'getNamespaceAnnotations',
      'listExternalSecrets',
      'listSecretStores',
    ]);
  });
});
