import { describe, expect, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import type { RolloutObservation } from '../../shared/propagation/rollout-status';
import {
  isRolloutKind,
  type RolloutKind,
  type Workload,
  type WorkloadKind,
} from '../../shared/propagation/workload-types';
import { advanceRestartsStep, type RestartStepDeps } from '../../shared/workflow/restart-steps';
import type { RestartBudget, RestartProgress } from '../../shared/workflow/workflow-state';
import { fakeCluster } from '../support/fake-cluster';
import { unreadSecrets } from '../support/unread-secrets';

/**
 * The restart step against an in-memory cluster whose Deployments finish a rollout two lists after
 * their pod template changes (or fail, for the names in `failing`). The real-cluster behaviour is in
 * test/cluster/propagation-waves.test.ts; this covers the wave logic exhaustively and fast.
 */
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const SECRET = 'prod/app/db';
const MOVE = `${VERSION}#1`;

interface FakeWorkload {
  kind: WorkloadKind;
  name: string;
  annotations: Record<string, string>;
  template: Record<string, string>;
  generation: number;
  observedAfter: number;
  secret: string;
  strategy?: string;
  replicas?: number;
  /** Available pods now, when fewer than the replicas (pods lost after the rollout). */
  available?: number;
}

/** The cluster's workloads and their rollouts, behind the ClusterPort fake the step gets. */
class SimulatedCluster {
  readonly workloads = new Map<string, FakeWorkload>();
  readonly patches: { name: string; patch: object }[] = [];
  /** The list count at each workload's restart. */
  readonly restartedAtList = new Map<string, number>();
  maxInFlight = 0;
  failing = new Set<string>();
  lists = 0;

  add(name: string, secret = 'db-secret', kind: WorkloadKind = 'Deployment', strategy?: string): void {
    this.workloads.set(name, {
      kind,
      name,
      annotations: {},
      template: {},
      generation: 1,
      observedAfter: 0,
      secret,
      strategy,
    });
  }

  /** The kinds each list asked for (undefined: every kind). */
  readonly kindsAsked: (readonly WorkloadKind[] | undefined)[] = [];

  async listWorkloads(namespace: string, kinds?: readonly WorkloadKind[]): Promise<Workload[]> {
    this.lists += 1;
    this.kindsAsked.push(kinds);
    const inFlight = [...this.workloads.values()].filter((w) => this.lists < w.observedAfter).length;
    this.maxInFlight = Math.max(this.maxInFlight, inFlight);
    return [...this.workloads.values()]
      .filter((w) => !kinds || kinds.includes(w.kind))
      .map((w) => ({
        kind: w.kind,
        namespace,
        name: w.name,
        annotations: { ...w.annotations },
        podTemplateAnnotations: { ...w.template },
        podSpec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: w.secret } }] }] },
        ...(isRolloutKind(w.kind) ? { rollout: this.rollout(w, w.kind) } : {}),
      }));
  }

  async patchWorkload(ref: { name: string }, patch: object): Promise<void> {
    const w = this.workloads.get(ref.name);
    if (!w) throw new KubernetesCallError(404, 'NotFound');
    this.patches.push({ name: ref.name, patch });
    const p = patch as {
      metadata?: { annotations?: Record<string, string> };
      spec?: { template: { metadata: { annotations: Record<string, string> } } };
    };
    Object.assign(w.annotations, p.metadata?.annotations ?? {});
    if (p.spec) {
      Object.assign(w.template, p.spec.template.metadata.annotations);
      w.generation += 1;
      w.observedAfter = this.lists + 2;
      this.restartedAtList.set(w.name, this.lists);
    }
  }

  private rollout(w: FakeWorkload, kind: RolloutKind): RolloutObservation {
    const observed = this.lists >= w.observedAfter;
    const failed = this.failing.has(w.name) && w.generation > 1;
    return {
      kind,
      generation: w.generation,
      spec: { replicas: w.replicas ?? 1, ...(w.strategy ? { updateStrategy: { type: w.strategy } } : {}) },
      status: {
        observedGeneration: observed ? w.generation : w.generation - 1,
        replicas: w.replicas ?? 1,
        updatedReplicas: observed ? (w.replicas ?? 1) : 0,
        availableReplicas: w.available ?? w.replicas ?? 1,
        readyReplicas: w.replicas ?? 1,
        conditions: failed && observed ? [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] : [],
      },
    };
  }
}

function input(budget: RestartBudget, restarts: RestartProgress | { done: false } = { done: false }) {
  return {
    cluster: 'c',
    secret: { name: SECRET, arn: 'arn:aws:secretsmanager:eu-west-1:1:secret:prod/app/db-AbCdEf', tags: {} },
    versionId: VERSION,
    moveSeq: 1,
    budget,
    plan: {
      plannedAt: 'x',
      resync: [{ namespace: 'shop', name: 'db', prior: {}, targetSecret: 'db-secret', reasons: [] }],
      notRefreshing: [],
    },
    sync: {
      annotatedAt: 'x',
      deadline: 'y',
      done: true,
      pending: [],
      synced: [{ kind: 'ExternalSecret', namespace: 'shop', name: 'db' }],
      failed: [],
    },
    restarts,
  };
}

function deps(
  cluster: SimulatedCluster,
  budgetMs = 60_000,
  now = () => new Date('2026-11-30T10:00:00.000Z'),
): RestartStepDeps {
  return {
    clusterFor: async () =>
      fakeCluster({
        listWorkloads: (namespace, kinds) => cluster.listWorkloads(namespace, kinds),
        patchWorkload: (ref, patch) => cluster.patchWorkload(ref, patch),
      }),
    requireOptIn: false,
    secrets: unreadSecrets,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    rolloutPollBudgetMs: budgetMs,
    rolloutPollIntervalMs: 1000,
    now,
    sleep: async () => undefined,
  };
}

/** Calls the step the way the state machine does, until it says done. */
async function runToDone(cluster: SimulatedCluster, budget: RestartBudget, budgetMs = 60_000) {
  let progress: RestartProgress | { done: false } = { done: false };
  for (let call = 0; call < 100 && !progress.done; call++) {
    progress = await advanceRestartsStep(input(budget, progress), deps(cluster, budgetMs));
  }
  return progress as RestartProgress;
}

const restartsOf = (cluster: SimulatedCluster) =>
  cluster.patches.filter((p) => 'spec' in p.patch).map((p) => p.name);

describe('advance-restarts', () => {
  it('restarts the canary alone and waits for its rollout, then the rest in waves within the budget', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 20; i++) cluster.add(`app-${i}`);

    const progress = await runToDone(cluster, { inFlight: 4, percent: 100, canary: 1 });

    expect(progress).toMatchObject({
      done: true,
      verified: 20,
      pending: 0,
      inFlight: 0,
      failed: { count: 0 },
    });
    expect(progress.restarted.count).toBe(20);
    expect(restartsOf(cluster)).toHaveLength(20);
    expect(cluster.maxInFlight).toBeLessThanOrEqual(4);
    // The canary's rollout completed (two lists after its restart) before any other restart.
    expect(cluster.patches[0]?.name).toBe('app-0');
    const canaryAt = cluster.restartedAtList.get('app-0') ?? Number.NaN;
    expect(cluster.restartedAtList.get('app-1')).toBeGreaterThanOrEqual(canaryAt + 2);
    for (const w of cluster.workloads.values()) {
      expect(w.template[restartedMarkerKey(SECRET)]).toBe(MOVE);
      expect(w.annotations).toEqual({});
    }
  });

  it('times its restart waves apart from its lists, across calls, for the benchmark', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 9; i++) cluster.add(`app-${i}`);
    const patch = cluster.patchWorkload.bind(cluster);
    cluster.patchWorkload = async (ref, body) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return patch(ref, body);
    };

    const budget = { inFlight: 4, percent: 100, canary: 1 };
    // The first call has no time to look (budget 0): it restarts the canary and hands back.
    const first = await advanceRestartsStep(input(budget), deps(cluster, 0));
    const done = await advanceRestartsStep(input(budget, first), deps(cluster, 60_000));

    expect(first).toMatchObject({ done: false, waves: 1 });
    expect(first.waveMs).toBeGreaterThanOrEqual(19);
    // Then the two waves of 4 in the second call, counted on top of the first call's.
    expect(done).toMatchObject({ done: true, verified: 9, invocations: 2, waves: 3 });
    expect(done.waveMs).toBeGreaterThanOrEqual(3 * 19);
    expect(done.slowestWaveMs).toBeGreaterThanOrEqual(19);
    expect(done.slowestWaveMs).toBeLessThanOrEqual(done.waveMs ?? 0);
    // The lists are in restartMs too, not in the waves' time.
    expect(done.restartMs).toBeGreaterThanOrEqual(done.waveMs ?? 0);
  });

  it('names a consumer deleted between its listing and its restart: skipped, not failed, kept across calls', async () => {
    const cluster = new SimulatedCluster();
    for (const name of ['api', 'web', 'worker']) cluster.add(name);
    const patch = cluster.patchWorkload.bind(cluster);
    // Deleted after the list that named it, just before its restart PATCH (which then gets a 404).
    cluster.patchWorkload = async (ref, body) => {
      if (ref.name === 'web') cluster.workloads.delete('web');
      return patch(ref, body);
    };

    // A budget of one look per call: the deletion is found in one call and carried by the later ones.
    const progress = await runToDone(cluster, { inFlight: 1, percent: 100, canary: 1 }, 0);

    expect(progress).toMatchObject({ done: true, verified: 2, failed: { count: 0 } });
    expect(progress.invocations).toBeGreaterThan(2);
    expect(progress.gone).toEqual({
      count: 1,
      items: [
        {
          ref: { kind: 'Deployment', namespace: 'shop', name: 'web' },
          reason: 'deleted since it was listed: not restarted',
        },
      ],
    });
    expect(restartsOf(cluster).sort()).toEqual(['api', 'worker']);
  });

  // Review 56, finding 3: a refusal of one workload's PATCH failed the whole call, naming nobody.
  it('names a consumer whose restart the API server refuses (403, 422) and restarts the others', async () => {
    const cluster = new SimulatedCluster();
    for (const name of ['web', 'api', 'worker', 'batch']) cluster.add(name);
    const patch = cluster.patchWorkload.bind(cluster);
    const attempts = new Map<string, number>();
    cluster.patchWorkload = async (ref, body) => {
      attempts.set(ref.name, (attempts.get(ref.name) ?? 0) + 1);
      if (ref.name === 'web') throw new KubernetesCallError(403, 'Forbidden');
      if (ref.name === 'batch') throw new KubernetesCallError(422, 'Invalid');
      return patch(ref, body);
    };

    const progress = await runToDone(cluster, { inFlight: 1, percent: 100, canary: 1 });

    // One call did it all, and each refused workload was sent its restart once (review 57: the
    // looks at rollouts in flight judged them pending again and sent it on every pass).
    expect(progress).toMatchObject({ done: true, invocations: 1, verified: 2, failed: { count: 0 } });
    expect(Object.fromEntries(attempts)).toEqual({ web: 1, api: 1, worker: 1, batch: 1 });
    expect(progress.refused.items.map((r) => `${r.ref.name}: ${r.reason}`).sort()).toEqual([
      'batch: the API server refused its restart (HTTP 422 Invalid)',
      'web: the API server refused its restart (HTTP 403 Forbidden)',
    ]);
    expect(restartsOf(cluster).sort()).toEqual(['api', 'worker']);
  });

  it('takes the canary from the others at once when the first candidates are refused, even with no time to look', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 5; i++) cluster.add(`frozen-${i}`);
    for (let i = 0; i < 3; i++) cluster.add(`app-${i}`);
    const patch = cluster.patchWorkload.bind(cluster);
    cluster.patchWorkload = async (ref, body) => {
      if (ref.name.startsWith('frozen')) throw new KubernetesCallError(403, 'Forbidden');
      return patch(ref, body);
    };

    const progress = await runToDone(cluster, { inFlight: 1, percent: 100, canary: 1 }, 0);

    expect(progress).toMatchObject({ done: true, verified: 3, refused: { count: 5 } });
    // Each call sends the refused ones their restart once more, then goes on: a few calls, not 100.
    expect(progress.invocations).toBeLessThanOrEqual(8);
    expect(cluster.restartedAtList.get('app-0')).toBe(1);
  });

  it.each([
    [409, 'Conflict'],
    [429, 'TooManyRequests'],
    [503, 'ServiceUnavailable'],
    [401, 'Unauthorized'],
  ])('fails the call on HTTP %i (retried by the state machine), not one consumer', async (status, reason) => {
    const cluster = new SimulatedCluster();
    cluster.add('api');
    cluster.patchWorkload = async () => {
      throw new KubernetesCallError(status, reason);
    };
    await expect(
      advanceRestartsStep(input({ inFlight: 1, percent: 100, canary: 1 }), deps(cluster)),
    ).rejects.toThrow(`HTTP ${status}`);
  });

  // Review 56: a workload scaled to zero "verifies" without starting a pod, which proves nothing.
  it('picks a canary that runs pods, even when one scaled to zero is listed first', async () => {
    const cluster = new SimulatedCluster();
    cluster.add('batch-worker');
    const scaledToZero = cluster.workloads.get('batch-worker');
    if (scaledToZero) scaledToZero.replicas = 0;
    for (const name of ['app-0', 'app-1']) cluster.add(name);

    await runToDone(cluster, { inFlight: 2, percent: 100, canary: 1 });

    const first = [...cluster.restartedAtList].sort(([, a], [, b]) => a - b)[0]?.[0];
    expect(first).toBe('app-0');
    expect(cluster.restartedAtList.get('batch-worker')).toBeGreaterThanOrEqual(
      (cluster.restartedAtList.get('app-0') ?? Number.NaN) + 2,
    );
  });

  // Review 56, finding 1, through the step: the canary verified in one call loses a pod by the next,
  // past its deadline; that is not a failed rollout, and the waves go on.
  it('keeps a canary verified in an earlier call verified when it loses a pod past its deadline', async () => {
    const cluster = new SimulatedCluster();
    for (const name of ['app-0', 'app-1', 'app-2']) cluster.add(name);
    for (const w of cluster.workloads.values()) w.replicas = 3;
    let clock = Date.parse('2026-11-30T10:00:00.000Z');
    const call = (progress: RestartProgress | { done: false }) =>
      advanceRestartsStep(
        input({ inFlight: 1, percent: 100, canary: 1 }, progress),
        deps(cluster, 0, () => new Date(clock)),
      );

    const first = await call({ done: false });
    await cluster.listWorkloads('shop');
    await cluster.listWorkloads('shop');
    const second = await call(first);
    expect(second).toMatchObject({ verified: 1, inFlight: 1, canaryVerified: true });
    // Before its deadline the canary loses a pod: it reads as in flight, and the count falls to 0
    // (review 58: the flag must not fall with it).
    const canary = cluster.workloads.get('app-0');
    if (canary) canary.available = 2;
    clock += 5 * 60_000;
    const third = await call(second);
    expect(third).toMatchObject({ verified: 0, canaryVerified: true });
    clock += 11 * 60_000;
    await cluster.listWorkloads('shop');
    await cluster.listWorkloads('shop');

    const fourth = await call(third);

    expect(fourth.stopped).toBeUndefined();
    expect(fourth.failed.count).toBe(0);
    expect(fourth.verified).toBe(2);
  });

  // Review 58: with no canary (an emergency), pods lost past the deadline count only once some
  // consumer was seen rolled out; a crash-looping first one must still fail.
  it.each([
    ['alone', false],
    ['beside a consumer scaled to zero, which rolls out without a pod (review 59)', true],
  ])(
    'with no canary, fails a first consumer whose restarted pods never all came up past its deadline: %s',
    async (_name, idle) => {
      const cluster = new SimulatedCluster();
      if (idle) {
        cluster.add('idle');
        const zero = cluster.workloads.get('idle');
        if (zero) zero.replicas = 0;
      }
      cluster.add('api');
      const api = cluster.workloads.get('api');
      if (api) {
        api.replicas = 3;
        api.available = 1;
      }
      let clock = Date.parse('2026-11-30T10:00:00.000Z');
      const call = (progress: RestartProgress | { done: false }) =>
        advanceRestartsStep(
          input({ inFlight: 100, percent: 100, canary: 0 }, progress),
          deps(cluster, 0, () => new Date(clock)),
        );

      const first = await call({ done: false });
      // A minute on: the one scaled to zero has rolled out; the crash-looping one has not.
      clock += 60_000;
      await cluster.listWorkloads('shop');
      await cluster.listWorkloads('shop');
      const second = await call(first);
      clock += 15 * 60_000;
      const third = await call(second);

      expect(second).toMatchObject({ verified: idle ? 1 : 0, inFlight: 1, canaryVerified: false });
      expect(third).toMatchObject({
        stopped: '1 rollout(s) failed: restarts stopped',
        failed: { count: 1, items: [{ ref: { name: 'api' } }] },
      });
    },
  );

  it('cuts the wave to the budget’s percentage of the affected workloads', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 40; i++) cluster.add(`app-${i}`);
    await runToDone(cluster, { inFlight: 100, percent: 10, canary: 0 });
    expect(cluster.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('stops everything when the canary fails: nothing else restarted, the rest named as not restarted', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 5; i++) cluster.add(`app-${i}`);
    cluster.failing.add('app-0');

    const progress = await runToDone(cluster, { inFlight: 5, percent: 100, canary: 1 });

    expect(restartsOf(cluster)).toEqual(['app-0']);
    expect(progress.stopped).toMatch(/canary Deployment\/shop\/app-0 did not roll out/);
    expect(progress.notRestarted.count).toBe(4);
    expect(progress.failed.items[0]?.reason).toMatch(/progress deadline/);
  });

  it('after a failed rollout is fixed, a retry of the same move restarts only those never restarted', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 6; i++) cluster.add(`app-${i}`);
    cluster.failing.add('app-2');
    const first = await runToDone(cluster, { inFlight: 2, percent: 100, canary: 1 });
    expect(first.stopped).toBeDefined();
    const restartedFirst = restartsOf(cluster);

    cluster.failing.clear(); // the cause is fixed; app-2's rollout now completes
    const second = await runToDone(cluster, { inFlight: 2, percent: 100, canary: 1 });

    expect(second).toMatchObject({ done: true, verified: 6, failed: { count: 0 } });
    const restartedSecond = restartsOf(cluster).slice(restartedFirst.length);
    expect(restartedSecond.sort()).toEqual(
      ['app-0', 'app-1', 'app-2', 'app-3', 'app-4', 'app-5'].filter((n) => !restartedFirst.includes(n)),
    );
  });

  it('restarts nothing again for a move already verified (a replay), and reports it done', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 3; i++) cluster.add(`app-${i}`);
    await runToDone(cluster, { inFlight: 3, percent: 100, canary: 1 });
    const before = cluster.patches.length;

    const replay = await runToDone(cluster, { inFlight: 3, percent: 100, canary: 1 });

    expect(cluster.patches.length).toBe(before);
    expect(replay).toMatchObject({ done: true, verified: 3 });
  });

  it('keeps one marker per secret: another secret’s markers on the same workload are left alone', async () => {
    const cluster = new SimulatedCluster();
    cluster.add('both');
    const other = cluster.workloads.get('both') as FakeWorkload;
    other.template[restartedMarkerKey('prod/app/cache')] = 'v-cache#1';

    const progress = await runToDone(cluster, { inFlight: 1, percent: 100, canary: 0 });

    expect(progress.verified).toBe(1);
    expect(other.template[restartedMarkerKey('prod/app/cache')]).toBe('v-cache#1');
    expect(other.template[restartedMarkerKey(SECRET)]).toBe(MOVE);
    expect(restartedMarkerKey('prod/app/cache')).not.toBe(restartedMarkerKey(SECRET));
  });

  it('reports OnDelete StatefulSets as next-pod: never restarted, never verified, never a failure', async () => {
    const cluster = new SimulatedCluster();
    cluster.add('api');
    cluster.add('db', 'db-secret', 'StatefulSet', 'OnDelete');

    const progress = await runToDone(cluster, { inFlight: 2, percent: 100, canary: 1 });

    expect(restartsOf(cluster)).toEqual(['api']);
    expect(progress).toMatchObject({ done: true, verified: 1, nextPod: { count: 1 }, failed: { count: 0 } });
    expect(progress.stopped).toBeUndefined();
  });

  it('reports CronJobs, Jobs and bare Pods as next-pod: the canary is a rollout, nothing else patched', async () => {
    const cluster = new SimulatedCluster();
    // Listed before the Deployment, so a kind treated as restartable would become the canary.
    cluster.add('nightly', 'db-secret', 'CronJob');
    cluster.add('migrate', 'db-secret', 'Job');
    cluster.add('debug', 'db-secret', 'Pod');
    cluster.add('api');

    const progress = await runToDone(cluster, { inFlight: 1, percent: 100, canary: 1 });

    expect(restartsOf(cluster)).toEqual(['api']);
    expect(progress).toMatchObject({
      done: true,
      verified: 1,
      laterPods: { count: 3 },
      failed: { count: 0 },
    });
    expect(progress.laterPods?.items.map((item) => item.ref.kind).sort()).toEqual(['CronJob', 'Job', 'Pod']);
    // They never change within a move: listed by the first call only, then carried.
    expect(cluster.kindsAsked[0]).toBeUndefined();
    for (const kinds of cluster.kindsAsked.slice(1)) {
      expect(kinds).toBeDefined();
      expect(kinds?.some((k) => ['CronJob', 'Job', 'Pod'].includes(k))).toBe(false);
    }
    expect(progress.restarted.items.map((item) => item.ref.name)).toEqual(['api']);
    expect(progress.stopped).toBeUndefined();
  });

  it('hands the wait back to the state machine when its time budget is spent, and resumes from the cluster', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 4; i++) cluster.add(`app-${i}`);

    const first = await advanceRestartsStep(
      input({ inFlight: 4, percent: 100, canary: 0 }),
      deps(cluster, 0),
    );

    expect(first).toMatchObject({ done: false, invocations: 1, inFlight: 4 });
    const finished = await runToDone(cluster, { inFlight: 4, percent: 100, canary: 0 });
    expect(finished).toMatchObject({ done: true, verified: 4 });
    expect(restartsOf(cluster)).toHaveLength(4);
  });

  it('skips a workload deleted between the list and its restart, without failing', async () => {
    const cluster = new SimulatedCluster();
    cluster.add('gone');
    cluster.add('kept');
    const list = cluster.listWorkloads.bind(cluster);
    cluster.listWorkloads = async (ns: string) => {
      const found = await list(ns);
      cluster.workloads.delete('gone');
      return found;
    };

    const progress = await runToDone(cluster, { inFlight: 2, percent: 100, canary: 0 });

    expect(progress).toMatchObject({ done: true, verified: 1, failed: { count: 0 } });
  });

  it('keeps its state bounded: 3,000 consumers leave a few KiB of progress', async () => {
    const cluster = new SimulatedCluster();
    for (let i = 0; i < 3000; i++) cluster.add(`app-${i}`);
    cluster.failing.add('app-2000');

    const progress = await runToDone(cluster, { inFlight: 500, percent: 100, canary: 0 });

    expect(progress.stopped).toBeDefined();
    expect(progress.notRestarted.count + progress.verified + progress.failed.count + progress.inFlight).toBe(
      3000,
    );
    expect(Buffer.byteLength(JSON.stringify(progress))).toBeLessThan(16 * 1024);
  });
});
