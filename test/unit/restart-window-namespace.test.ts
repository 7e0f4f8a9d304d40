import { describe, expect, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import type { ApiRequest } from '../../shared/kubernetes/kubernetes-transport';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import type { Workload } from '../../shared/propagation/workload-types';
import { advanceRestartsStep } from '../../shared/workflow/restart-steps';
import {
  type RestartWindowsConfig,
  restartWindowPolicy,
  windowDecision,
} from '../../shared/workflow/restart-window-policy';
import type { RestartProgress } from '../../shared/workflow/workflow-state';
import { fakeCluster } from '../support/fake-cluster';

/**
 * Restart windows set on a Namespace (`secret-rotator.io/restart-window` on its metadata): where
 * they stand in the precedence, a malformed one, how the restart step reads them (which
 * namespaces, how often) and what it does when it may not (403), and the adapter's GET.
 */
const KEY = 'secret-rotator.io/restart-window';
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
const SECRET = 'prod/app/db';
// 2026-12-04 is a Friday; the plan was made at 11:00 UTC.
const PLANNED = '2026-12-04T11:00:00.000Z';
const NOON = new Date('2026-12-04T12:00:00.000Z');
const context = { now: NOON, since: NOON, emergency: false };

const SAT = 'Sat 02:00-05:00 UTC';
const SUN = 'Sun 01:00-02:00 UTC';
const FRI_OPEN = 'Fri 11:30-12:30 UTC';
const policy = restartWindowPolicy({ default: SAT, namespaces: { payments: FRI_OPEN, batch: 'always' } });
const heldUntil = (opensAt: string, window: string) => ({
  state: 'held',
  opensAt: new Date(opensAt),
  window,
});

describe('windowFor with Namespace annotations: the precedence', () => {
  it.each<[string, string, Record<string, string>, Record<string, string> | undefined, object]>([
    [
      'the Namespace’s annotation beats cdk.json’s entry for the namespace',
      'payments',
      {},
      { [KEY]: SUN },
      heldUntil('2026-12-06T01:00:00Z', SUN),
    ],
    [
      'the Namespace’s annotation beats the default',
      'web',
      {},
      { [KEY]: SUN },
      heldUntil('2026-12-06T01:00:00Z', SUN),
    ],
    [
      'the Namespace’s `always` exempts it from cdk.json’s entry and the default',
      'web',
      {},
      { [KEY]: 'always' },
      { state: 'open' },
    ],
    [
      'the workload’s annotation beats its Namespace’s',
      'web',
      { [KEY]: FRI_OPEN },
      { [KEY]: SUN },
      { state: 'open' },
    ],
    [
      'the workload’s `always` beats its Namespace’s window',
      'web',
      { [KEY]: 'always' },
      { [KEY]: SUN },
      { state: 'open' },
    ],
    [
      'a Namespace with other annotations only: cdk.json’s entry',
      'batch',
      {},
      { 'team.example/owner': 'db' },
      { state: 'open' },
    ],
    [
      'a Namespace not read (none, or 403): the default',
      'web',
      {},
      undefined,
      heldUntil('2026-12-05T02:00:00Z', SAT),
    ],
  ])('%s', (_, namespace, annotations, namespaceAnnotations, expected) => {
    expect(windowDecision({ namespace, annotations }, policy, { ...context, namespaceAnnotations })).toEqual(
      expected,
    );
  });

  it('a malformed Namespace annotation refuses the workload, naming the namespace and the problem', () => {
    const decision = windowDecision({ namespace: 'web', annotations: {} }, policy, {
      ...context,
      namespaceAnnotations: { [KEY]: 'Sat 2-4 UTC' },
    });

    expect(decision).toEqual({
      state: 'refused',
      reason:
        'RestartWindowError: namespace web\'s annotation secret-rotator.io/restart-window: Restart window times "2-4" are not HH:MM-HH:MM',
    });
  });

  it('a malformed Namespace annotation does not touch a workload with a window of its own', () => {
    const decision = windowDecision({ namespace: 'web', annotations: { [KEY]: FRI_OPEN } }, policy, {
      ...context,
      namespaceAnnotations: { [KEY]: 'Caturday' },
    });

    expect(decision).toEqual({ state: 'open' });
  });
});

/** Deployments in several namespaces (each rolls out by the next list) and their Namespaces. */
class Cluster {
  readonly workloads: { namespace: string; name: string; annotations: Record<string, string> }[] = [];
  readonly templates = new Map<string, Record<string, string>>();
  readonly namespaces = new Map<string, Record<string, string>>();
  readonly patched: string[] = [];
  readonly namespaceReads: string[] = [];
  /** What a Namespace read throws instead (the HTTP status of a KubernetesCallError). */
  failNamespaceReads: number | undefined;

  add(namespace: string, name: string, annotations: Record<string, string> = {}) {
    this.workloads.push({ namespace, name, annotations });
    this.templates.set(`${namespace}/${name}`, {});
  }

  port() {
    return fakeCluster({
      listWorkloads: async (namespace) =>
        this.workloads.filter((w) => w.namespace === namespace).map((w) => this.listed(w)),
      patchWorkload: async (ref, patch) => {
        const annotations = (patch as { spec: { template: { metadata: { annotations: object } } } }).spec
          .template.metadata.annotations;
        Object.assign(this.templates.get(`${ref.namespace}/${ref.name}`) ?? {}, annotations);
        this.patched.push(`${ref.namespace}/${ref.name}`);
      },
      getNamespaceAnnotations: async (namespace) => {
        this.namespaceReads.push(namespace);
        if (this.failNamespaceReads) {
          throw new KubernetesCallError(this.failNamespaceReads, 'Forbidden');
        }
        return this.namespaces.get(namespace) ?? {};
      },
    });
  }

  private listed(w: { namespace: string; name: string; annotations: Record<string, string> }): Workload {
    return {
      kind: 'Deployment',
      namespace: w.namespace,
      name: w.name,
      annotations: { ...w.annotations },
      podTemplateAnnotations: { ...this.templates.get(`${w.namespace}/${w.name}`) },
      podSpec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }] },
      rollout: {
        kind: 'Deployment',
        generation: 1,
        spec: { replicas: 1 },
        status: {
          observedGeneration: 1,
          replicas: 1,
          updatedReplicas: 1,
          availableReplicas: 1,
          readyReplicas: 1,
        },
      },
    };
  }
}

function call(
  cluster: Cluster,
  options: {
    now?: Date;
    emergency?: boolean;
    windows?: RestartWindowsConfig;
    previous?: RestartProgress;
    warnings?: { message: string; fields: unknown }[];
  } = {},
) {
  const namespaces = [...new Set(cluster.workloads.map((w) => w.namespace))];
  return advanceRestartsStep(
    {
      cluster: 'c',
      secret: { name: SECRET, arn: 'arn:aws:secretsmanager:eu-west-1:1:secret:prod/app/db-AbCdEf', tags: {} },
      versionId: VERSION,
      moveSeq: 1,
      budget: {
        inFlight: 10,
        percent: 100,
        canary: 0,
        ...(options.emergency ? { bypassWindows: true } : {}),
      },
      plan: {
        plannedAt: PLANNED,
        resync: namespaces.map((namespace) => ({
          namespace,
          name: 'db',
          prior: {},
          targetSecret: 'db-secret',
          consumers: 0,
          reasons: [],
        })),
        notRefreshing: [],
      },
      sync: {
        annotatedAt: PLANNED,
        deadline: PLANNED,
        done: true,
        pending: [],
        synced: namespaces.map((namespace) => ({ kind: 'ExternalSecret', namespace, name: 'db' })),
        failed: [],
      },
      restarts: options.previous ?? { done: false },
    },
    {
      clusterFor: async () => cluster.port(),
      requireOptIn: false,
      // After a window wait the step asks whether AWSCURRENT moved on: it did not.
      secrets: {
        describeSecret: async (arn) => ({
          arn,
          name: SECRET,
          rotationEnabled: true,
          versionIdsToStages: { [VERSION]: ['AWSCURRENT'] },
          tags: {},
        }),
      },
      syncTimeoutMs: 300_000,
      rolloutTimeoutMs: 600_000,
      rolloutPollBudgetMs: 60_000,
      rolloutPollIntervalMs: 1000,
      restartWindows: options.windows,
      logger: { warn: (message: string, fields: unknown) => options.warnings?.push({ message, fields }) },
      now: () => options.now ?? NOON,
      sleep: async () => undefined,
    } as Parameters<typeof advanceRestartsStep>[1],
  );
}

describe('advance-restarts with Namespace windows', () => {
  it('holds the consumers of a Namespace annotated with a closed window and restarts the rest at once', async () => {
    const cluster = new Cluster();
    cluster.namespaces.set('shop', { [KEY]: SUN });
    cluster.add('shop', 'api');
    cluster.add('shop', 'worker');
    cluster.add('web', 'site');

    const first = await call(cluster);

    expect(cluster.patched).toEqual(['web/site']);
    expect(first).toMatchObject({
      done: false,
      verified: 1,
      pending: 2,
      waitUntil: '2026-12-06T01:00:00.000Z',
      held: { count: 2 },
    });
    // One read per namespace for the whole call, whatever the number of looks and consumers.
    expect([...cluster.namespaceReads].sort()).toEqual(['shop', 'web']);

    const second = await call(cluster, { now: new Date('2026-12-06T01:00:00.000Z'), previous: first });

    expect(cluster.patched).toEqual(['web/site', 'shop/api', 'shop/worker']);
    expect(cluster.templates.get('shop/api')?.[restartedMarkerKey(SECRET)]).toBe(`${VERSION}#1`);
    expect(second).toMatchObject({ done: true, verified: 3, pending: 0 });
    // The next call reads again (only the namespace still pending): an owner's change is heard.
    expect(cluster.namespaceReads.slice(2)).toEqual(['shop']);
  });

  it('hears an owner who removes the Namespace’s window while the propagation waits', async () => {
    const cluster = new Cluster();
    cluster.namespaces.set('shop', { [KEY]: SUN });
    cluster.add('shop', 'api');
    const first = await call(cluster);
    expect(first.waitUntil).toBe('2026-12-06T01:00:00.000Z');

    cluster.namespaces.set('shop', {});
    const second = await call(cluster, { now: new Date('2026-12-04T12:05:00.000Z'), previous: first });

    expect(cluster.patched).toEqual(['shop/api']);
    expect(second).toMatchObject({ done: true, verified: 1 });
  });

  it('refuses each consumer of a Namespace whose annotation is malformed, and restarts the others', async () => {
    const cluster = new Cluster();
    cluster.namespaces.set('shop', { [KEY]: 'Caturday 02:00-05:00 UTC' });
    cluster.add('shop', 'api');
    cluster.add('shop', 'own', { [KEY]: 'always' });
    cluster.add('web', 'site');

    const progress = await call(cluster);

    expect([...cluster.patched].sort()).toEqual(['shop/own', 'web/site']);
    expect(progress).toMatchObject({ done: true, pending: 0, verified: 2 });
    expect(progress.refused).toEqual({
      count: 1,
      items: [
        {
          ref: { kind: 'Deployment', namespace: 'shop', name: 'api' },
          reason: expect.stringMatching(
            /^RestartWindowError: namespace shop's annotation secret-rotator.io\/restart-window: .*"Caturday"/,
          ),
        },
      ],
    });
  });

  it('reads no Namespace in an emergency, nor for consumers that have windows of their own', async () => {
    const cluster = new Cluster();
    cluster.namespaces.set('shop', { [KEY]: SUN });
    cluster.add('shop', 'api');
    const urgent = await call(cluster, { emergency: true });
    expect(urgent).toMatchObject({ done: true, verified: 1 });

    const own = new Cluster();
    own.namespaces.set('web', { [KEY]: SUN });
    own.add('web', 'site', { [KEY]: FRI_OPEN });
    const progress = await call(own);
    expect(progress).toMatchObject({ done: true, verified: 1 });

    expect(cluster.namespaceReads).toEqual([]);
    expect(own.namespaceReads).toEqual([]);
  });

  it('on a 403 applies the deployment’s windows only and warns once, naming the namespaces', async () => {
    const cluster = new Cluster();
    cluster.failNamespaceReads = 403;
    cluster.namespaces.set('shop', { [KEY]: SUN });
    cluster.add('shop', 'api');
    cluster.add('web', 'site');
    const warnings: { message: string; fields: unknown }[] = [];

    const progress = await call(cluster, {
      windows: { namespaces: { web: SAT } },
      warnings,
    });

    // shop's own annotation is not readable: no window applies there; web keeps cdk.json's.
    expect(cluster.patched).toEqual(['shop/api']);
    expect(progress).toMatchObject({
      done: false,
      waitUntil: '2026-12-05T02:00:00.000Z',
      held: { count: 1 },
    });
    expect(warnings).toEqual([
      {
        message: expect.stringContaining('cannot read Namespaces (403)'),
        fields: { forbidden: 2, namespaces: ['shop', 'web'] },
      },
    ]);
  });

  it('fails the call on any other error reading a Namespace, restarting nothing', async () => {
    const cluster = new Cluster();
    cluster.failNamespaceReads = 500;
    cluster.add('shop', 'api');

    await expect(call(cluster)).rejects.toThrow(KubernetesCallError);
    expect(cluster.patched).toEqual([]);
  });
});

describe('KubernetesAdapter.getNamespaceAnnotations', () => {
  const adapter = (status: number, body: object) => {
    const requests: ApiRequest[] = [];
    const port = new KubernetesAdapter({
      send: async (request) => {
        requests.push(request);
        return { status, text: JSON.stringify(body) };
      },
    });
    return { port, requests };
  };

  it('GETs the Namespace and returns its annotations', async () => {
    const { port, requests } = adapter(200, {
      kind: 'Namespace',
      metadata: { name: 'shop', annotations: { [KEY]: SUN } },
    });

    expect(await port.getNamespaceAnnotations('shop')).toEqual({ [KEY]: SUN });
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/namespaces/shop']);
  });

  it('returns no annotations for a Namespace without any, and undefined for one that is gone (404)', async () => {
    expect(await adapter(200, { metadata: { name: 'shop' } }).port.getNamespaceAnnotations('shop')).toEqual(
      {},
    );
    expect(
      await adapter(404, { kind: 'Status', reason: 'NotFound' }).port.getNamespaceAnnotations('gone'),
    ).toBeUndefined();
  });

  it('turns a 403 into a KubernetesCallError with the reason only, never the server’s message', async () => {
    const error = await adapter(403, {
      kind: 'Status',
      reason: 'Forbidden',
      message: 'namespaces "shop" is forbidden: User "x" cannot get resource',
    })
      .port.getNamespaceAnnotations('shop')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesCallError);
    expect(error).toMatchObject({ httpStatus: 403, reason: 'Forbidden' });
    expect(String((error as Error).message)).not.toContain('cannot get');
  });
});
