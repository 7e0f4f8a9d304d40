import { describe, expect, it } from 'vitest';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import type { Workload } from '../../shared/propagation/workload-types';
import { advanceRestartsStep } from '../../shared/workflow/restart-steps';
import type { RestartWindowsConfig } from '../../shared/workflow/restart-window-policy';
import type { RestartProgress } from '../../shared/workflow/workflow-state';
import { fakeCluster } from '../support/fake-cluster';
import { unreadSecrets } from '../support/unread-secrets';

/**
 * The restart step and restart windows, against an in-memory cluster whose Deployments finish their
 * rollout at the next list: held consumers are never patched before their window, the step hands
 * the wait to the state machine (`waitUntil`) only when nothing else is left, and an emergency or an
 * open window restarts at once.
 */
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const SECRET = 'prod/app/db';
const ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:prod/app/db-AbCdEf';
const WINDOW = 'secret-rotator.io/restart-window';
// 2026-12-04 is a Friday; the plan was made at 11:00 UTC.
const PLANNED = '2026-12-04T11:00:00.000Z';
const NOON = new Date('2026-12-04T12:00:00.000Z');

class Cluster {
  readonly workloads = new Map<
    string,
    {
      annotations: Record<string, string>;
      template: Record<string, string>;
      generation: number;
      observed: number;
    }
  >();
  readonly patched: string[] = [];

  add(name: string, annotations: Record<string, string> = {}) {
    this.workloads.set(name, { annotations, template: {}, generation: 1, observed: 1 });
  }

  async list(namespace: string): Promise<Workload[]> {
    return [...this.workloads].map(([name, w]) => {
      const listed: Workload = {
        kind: 'Deployment',
        namespace,
        name,
        annotations: { ...w.annotations },
        podTemplateAnnotations: { ...w.template },
        podSpec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }] },
        rollout: {
          kind: 'Deployment',
          generation: w.generation,
          spec: { replicas: 1 },
          status: {
            observedGeneration: w.observed,
            replicas: 1,
            updatedReplicas: 1,
            availableReplicas: 1,
            readyReplicas: 1,
          },
        },
      };
      w.observed = w.generation; // rolled out by the next list
      return listed;
    });
  }

  async patch(
    name: string,
    patch: { spec?: { template: { metadata: { annotations: Record<string, string> } } } },
  ) {
    const w = this.workloads.get(name);
    if (!w || !patch.spec) throw new Error(`unexpected patch of ${name}`);
    Object.assign(w.template, patch.spec.template.metadata.annotations);
    w.generation += 1;
    this.patched.push(name);
  }
}

function call(
  cluster: Cluster,
  options: {
    now?: Date;
    emergency?: boolean;
    windows?: RestartWindowsConfig;
    previous?: RestartProgress;
    /** AWSCURRENT's version when the step asks (after a window wait); @default this move's */
    current?: string;
    /** The secret ids the step describes. */
    described?: string[];
  } = {},
) {
  const now = options.now ?? NOON;
  return advanceRestartsStep(
    {
      cluster: 'c',
      secret: { name: SECRET, arn: ARN, tags: {} },
      versionId: VERSION,
      moveSeq: 1,
      budget: { inFlight: 5, percent: 100, canary: 0, ...(options.emergency ? { bypassWindows: true } : {}) },
      plan: {
        plannedAt: PLANNED,
        resync: [{ namespace: 'shop', name: 'db', prior: {}, targetSecret: 'db-secret', reasons: [] }],
        notRefreshing: [],
      },
      sync: {
        annotatedAt: PLANNED,
        deadline: PLANNED,
        done: true,
        pending: [],
        synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'db' }],
        failed: [],
      },
      restarts: options.previous ?? { done: false },
    },
    {
      clusterFor: async () =>
        fakeCluster({
          listWorkloads: (namespace) => cluster.list(namespace),
          patchWorkload: (ref, patch) => cluster.patch(ref.name, patch as never),
        }),
      requireOptIn: false,
      syncTimeoutMs: 300_000,
      rolloutTimeoutMs: 600_000,
      rolloutPollBudgetMs: 60_000,
      rolloutPollIntervalMs: 1000,
      restartWindows: options.windows,
      secrets: {
        describeSecret: async (secretId: string) => {
          options.described?.push(secretId);
          return {
            arn: secretId,
            name: SECRET,
            rotationEnabled: true,
            versionIdsToStages: { [options.current ?? VERSION]: ['AWSCURRENT'], older: ['AWSPREVIOUS'] },
            tags: {},
          };
        },
      },
      now: () => now,
      sleep: async () => undefined,
    },
  );
}

describe('advance-restarts with restart windows', () => {
  it('restarts the unwindowed consumer now, holds the other and hands the wait to the state machine', async () => {
    const cluster = new Cluster();
    cluster.add('free');
    cluster.add('nightly', { [WINDOW]: 'Sat 02:00-04:00 UTC' });
    const described: string[] = [];

    const first = await call(cluster, { described });

    expect(cluster.patched).toEqual(['free']);
    expect(described).toEqual([]);
    expect(first).toMatchObject({
      done: false,
      verified: 1,
      pending: 1,
      inFlight: 0,
      waitUntil: '2026-12-05T02:00:00.000Z',
      held: {
        count: 1,
        items: [
          { ref: { name: 'nightly' }, reason: 'window Sat 02:00-04:00 UTC opens 2026-12-05T02:00:00.000Z' },
        ],
      },
    });

    // The state machine's Wait ends at the opening; the next call restarts the held one.
    const second = await call(cluster, {
      now: new Date('2026-12-05T02:00:00.000Z'),
      previous: first,
      described,
    });

    // AWSCURRENT is still this move's (one DescribeSecret after the wait): the held one restarts.
    expect(described).toEqual([ARN]);
    expect(cluster.patched).toEqual(['free', 'nightly']);
    expect(cluster.workloads.get('nightly')?.template[restartedMarkerKey(SECRET)]).toBe(`${VERSION}#1`);
    expect(second).toMatchObject({ done: true, verified: 2, pending: 0 });
    expect(second.waitUntil).toBeUndefined();
    expect(second.held).toBeUndefined();
  });

  it('after the wait, leaves held consumers to a newer move if AWSCURRENT moved on meanwhile (no second restart)', async () => {
    const cluster = new Cluster();
    cluster.add('nightly', { [WINDOW]: 'Sat 02:00-04:00 UTC' });
    const first = await call(cluster);
    expect(first.waitUntil).toBe('2026-12-05T02:00:00.000Z');

    // N+1 became AWSCURRENT during the wait; its own execution restarts the consumer for N+1.
    const second = await call(cluster, {
      now: new Date('2026-12-05T02:00:00.000Z'),
      previous: first,
      current: '11111111-2222-4333-8444-555555555555',
    });

    expect(cluster.patched).toEqual([]);
    expect(second).toMatchObject({ done: true, verified: 0, notRestarted: { count: 1 } });
    expect(second.stopped).toBe(
      'AWSCURRENT moved on to 11111111-2222-4333-8444-555555555555 while this move waited for its restart window: its consumers are left to the newer move',
    );
  });

  it('an emergency restarts a windowed consumer at once', async () => {
    const cluster = new Cluster();
    cluster.add('nightly', { [WINDOW]: 'Sat 02:00-04:00 UTC' });

    const progress = await call(cluster, { emergency: true });

    expect(cluster.patched).toEqual(['nightly']);
    expect(progress).toMatchObject({ done: true, verified: 1 });
  });

  it('takes the namespace’s window from the deployment, and the default for other namespaces', async () => {
    const cluster = new Cluster();
    cluster.add('api');

    const inShop = await call(cluster, {
      windows: { default: 'always', namespaces: { shop: 'Sun 01:00-02:00 UTC' } },
    });
    expect(cluster.patched).toEqual([]);
    expect(inShop.waitUntil).toBe('2026-12-06T01:00:00.000Z');

    const elsewhere = await call(cluster, {
      windows: {
        default: 'Fri 11:30-12:30 UTC',
        namespaces: { other: 'Sun 01:00-02:00 UTC' },
      },
    });
    expect(cluster.patched).toEqual(['api']);
    expect(elsewhere).toMatchObject({ done: true, verified: 1 });
  });

  it('refuses a consumer with a malformed or too distant window, and restarts the rest', async () => {
    const cluster = new Cluster();
    cluster.add('typo', { [WINDOW]: 'Sat 2-4 UTC' });
    // Next opens Saturday 12 December 11:30, past the plan (Friday 4 December 11:00) + 8 days.
    cluster.add('far', { [WINDOW]: 'Sat 11:30-12:00 UTC' });
    cluster.add('fine');

    const progress = await call(cluster, { now: new Date('2026-12-05T12:00:00.000Z') });

    expect(cluster.patched).toEqual(['fine']);
    expect(progress.refused).toEqual({
      count: 2,
      items: [
        {
          ref: { kind: 'Deployment', namespace: 'shop', name: 'typo' },
          reason:
            'RestartWindowError: annotation secret-rotator.io/restart-window: Restart window times "2-4" are not HH:MM-HH:MM',
        },
        {
          ref: { kind: 'Deployment', namespace: 'shop', name: 'far' },
          reason:
            'RestartWindowError: restart window "Sat 11:30-12:00 UTC" does not open within 8 days of the plan; not restarted',
        },
      ],
    });
    expect(progress).toMatchObject({ done: true, pending: 0 });
    expect(progress.waitUntil).toBeUndefined();
  });

  it('does not hand over a wait while a restart is still in flight', async () => {
    const cluster = new Cluster();
    cluster.add('free');
    cluster.add('nightly', { [WINDOW]: 'Sat 02:00-04:00 UTC' });
    // A zero budget: restart, look once, return with the restart in flight.
    const first = await advanceRestartsStepWithBudget(cluster, 0);

    expect(first).toMatchObject({ done: false, inFlight: 1, held: { count: 1 } });
    expect(first.waitUntil).toBeUndefined();
  });
});

function advanceRestartsStepWithBudget(cluster: Cluster, budgetMs: number) {
  const original = cluster.list.bind(cluster);
  // Keep the restarted one in flight: nothing rolls out in this call.
  cluster.list = async (namespace) => {
    const listed = await original(namespace);
    for (const w of cluster.workloads.values()) w.observed = w.generation - 1;
    return listed;
  };
  return advanceRestartsStep(
    {
      cluster: 'c',
      secret: { name: SECRET, arn: ARN, tags: {} },
      versionId: VERSION,
      moveSeq: 1,
      budget: { inFlight: 5, percent: 100, canary: 0 },
      plan: {
        plannedAt: PLANNED,
        resync: [{ namespace: 'shop', name: 'db', prior: {}, targetSecret: 'db-secret', reasons: [] }],
        notRefreshing: [],
      },
      sync: {
        annotatedAt: PLANNED,
        deadline: PLANNED,
        done: true,
        pending: [],
        synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'db' }],
        failed: [],
      },
      restarts: { done: false },
    },
    {
      clusterFor: async () =>
        fakeCluster({
          listWorkloads: (namespace) => cluster.list(namespace),
          patchWorkload: (ref, patch) => cluster.patch(ref.name, patch as never),
        }),
      requireOptIn: false,
      secrets: unreadSecrets,
      syncTimeoutMs: 300_000,
      rolloutTimeoutMs: 600_000,
      rolloutPollBudgetMs: budgetMs,
      now: () => NOON,
      sleep: async () => undefined,
    },
  );
}
