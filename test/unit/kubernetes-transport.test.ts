/**
 * KubernetesAdapter over HTTPS through each transport: a KubeConfig (kubeconfig files: the CLI,
 * tests), and a bearer token with the cluster CA (EKS: the propagation step), the latter also as the
 * step's bundle is built (undici aliased to infra/lib/bundling/undici.js). A local HTTPS server with
 * a CA of its own stands in for the API server. Real API servers: test/cluster/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBERNETES_CLIENT_BUNDLING } from '../../infra/lib/bundling/kubernetes-client';
import { REPO_ROOT } from '../../infra/lib/lambda-defaults';
import type * as bearer from '../../shared/kubernetes/bearer-token-transport';
import { kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';
import type { ClusterEndpoint } from '../../shared/kubernetes/eks-endpoint';
import type { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { finishClusterStep } from '../../shared/workflow/cluster-outcome';
import type { LedgerStepDeps } from '../../shared/workflow/ledger-step-deps';
import { recordStep } from '../../shared/workflow/record-step';
import { advanceRestartsStep } from '../../shared/workflow/restart-steps';
import type { Claim, SyncProgress } from '../../shared/workflow/workflow-state';
import {
  type HttpsApiServer,
  type SeenRequest,
  startHttpsApiServer,
  statusBody,
} from '../support/https-api-server';
import { esbuildOptionsOf } from '../support/lambda-esbuild-options';
import { unreadSecrets } from '../support/unread-secrets';

type Connect = (endpoint: ClusterEndpoint, options?: { pageSize?: number }) => KubernetesAdapter;
interface Client {
  readonly bearerTokenTransport: typeof bearer.bearerTokenTransport;
  readonly KubernetesAdapter: typeof KubernetesAdapter;
}

const TOKEN = 'k8s-aws-v1.test-token';
/** Sent by the server in refused calls' bodies and headers: it must reach no error. */
const MARKER = 'hunter2-do-not-log';
const bundleDir = mkdtempSync(join(tmpdir(), 'kubernetes-transport-'));
let conflictsLeft = 0;
let api: HttpsApiServer;

const deployment = (name: string) => ({
  metadata: { namespace: 'apps', name, generation: 2 },
  spec: { replicas: 1, template: { metadata: { annotations: {} }, spec: { containers: [] } } },
  status: { observedGeneration: 2 },
});

const owner = (kind: string) => [{ kind, name: 'x', controller: true }];
const template = { spec: { containers: [{ name: 'app' }] } };
/** Consumers without a rollout: only the CronJob, the running bare Job and the bare Pod count. */
const OTHER_KINDS: Record<string, object[]> = {
  '/apis/batch/v1/namespaces/apps/cronjobs': [
    { metadata: { namespace: 'apps', name: 'nightly' }, spec: { jobTemplate: { spec: { template } } } },
  ],
  '/apis/batch/v1/namespaces/apps/jobs': [
    {
      metadata: { namespace: 'apps', name: 'nightly-1', ownerReferences: owner('CronJob') },
      spec: { template },
    },
    {
      metadata: { namespace: 'apps', name: 'done' },
      spec: { template },
      status: { conditions: [{ type: 'Complete', status: 'True' }] },
    },
    { metadata: { namespace: 'apps', name: 'migrate' }, spec: { template } },
  ],
  '/apis/batch/v1/namespaces/owned/jobs': [],
  '/api/v1/namespaces/owned/pods': [
    {
      metadata: { namespace: 'owned', name: 'web-1', ownerReferences: owner('ReplicaSet') },
      spec: template.spec,
    },
  ],
  '/api/v1/namespaces/apps/pods': [
    {
      metadata: { namespace: 'apps', name: 'a-1', ownerReferences: owner('ReplicaSet') },
      spec: template.spec,
    },
    { metadata: { namespace: 'apps', name: 'debug' }, spec: template.spec },
  ],
};

/** Two pages of Deployments, no ESO v1 (so v1beta1), a 409 when asked, refusals that echo MARKER. */
function answer(
  method: string,
  url: URL,
  request: SeenRequest,
): readonly [number, string, Record<string, string>?] {
  const path = url.pathname;
  const metadataOnly = request.accept?.includes('as=PartialObjectMetadataList') ?? false;
  if (method === 'PATCH') {
    if (conflictsLeft > 0) {
      conflictsLeft -= 1;
      return [409, statusBody(409, 'Conflict')];
    }
    return [200, '{}'];
  }
  if (path === '/apis/apps/v1/namespaces/apps/deployments') {
    return url.searchParams.get('continue') === 'page-2'
      ? [200, JSON.stringify({ items: [deployment('c')], metadata: {} })]
      : [
          200,
          JSON.stringify({ items: [deployment('a'), deployment('b')], metadata: { continue: 'page-2' } }),
        ];
  }
  if (path === '/apis/apps/v1/namespaces/apps/deployments/garbled') return [200, `${MARKER} is not JSON`];
  const named = /^\/apis\/apps\/v1\/namespaces\/apps\/deployments\/(\w+)$/.exec(path);
  if (named) return [200, JSON.stringify(deployment(named[1] ?? ''))];
  if (path.startsWith('/apis/apps/v1/namespaces/apps/')) return [200, JSON.stringify({ items: [] })];
  const ownedEmpty = ['/apis/apps/v1/namespaces/owned/', '/apis/batch/v1/namespaces/owned/cronjobs'];
  if (ownedEmpty.some((prefix) => path.startsWith(prefix))) return [200, JSON.stringify({ items: [] })];
  if (path in OTHER_KINDS) {
    const items = OTHER_KINDS[path] ?? [];
    // As the API server answers a metadata-only list: a PartialObjectMetadataList, no spec or status,
    // and `items: null` when there are none (kube-apiserver v1.36 does; plain lists send []).
    const listed = metadataOnly
      ? items.map((item) => ({ metadata: (item as { metadata: object }).metadata }))
      : items;
    return [
      200,
      JSON.stringify({ items: metadataOnly && listed.length === 0 ? null : listed, metadata: {} }),
    ];
  }
  if (path.startsWith('/apis/external-secrets.io/v1/')) return [404, statusBody(404, 'NotFound')];
  if (path === '/apis/external-secrets.io/v1beta1/secretstores' || path.includes('/namespaces/forbidden/')) {
    const message = `admission webhook denied: env[0].value "${MARKER}"`;
    return [403, statusBody(403, 'Forbidden', message), { 'x-denied-value': MARKER }];
  }
  return [404, statusBody(404, 'NotFound')];
}

/** Everything an error shows: message, stack, own and hidden properties, causes, JSON. */
const everywhere = (error: unknown) =>
  `${inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })}${JSON.stringify(error)}`;

/** The bearer-token transport and the adapter, bundled with the step's esbuild options (Node 24 ESM). */
async function bundleLikeTheStep(): Promise<Client> {
  const outfile = join(bundleDir, 'kubernetes.mjs');
  await build({
    stdin: {
      contents: [
        `export { bearerTokenTransport } from './shared/kubernetes/bearer-token-transport';`,
        `export { KubernetesAdapter } from './shared/kubernetes/kubernetes-adapter';`,
      ].join('\n'),
      resolveDir: REPO_ROOT,
      loader: 'ts',
    },
    ...esbuildOptionsOf(KUBERNETES_CLIENT_BUNDLING),
    outfile,
  });
  return import(pathToFileURL(outfile).href);
}

const fromSources = async (): Promise<Client> => ({
  ...(await import('../../shared/kubernetes/bearer-token-transport')),
  ...(await import('../../shared/kubernetes/kubernetes-adapter')),
});

const variants: [string, () => Promise<Connect>][] = [
  [
    'a KubeConfig (kubeconfig files), from the sources',
    async () => {
      const { KubernetesAdapter } = await fromSources();
      return (endpoint, options) => new KubernetesAdapter(kubeConfigWithToken(endpoint, TOKEN), options);
    },
  ],
  ...(
    [
      ['a bearer token (EKS), from the sources', fromSources],
      ['a bearer token (EKS), bundled as the propagation step is', bundleLikeTheStep],
    ] as const
  ).map(([name, load]): [string, () => Promise<Connect>] => [
    name,
    async () => {
      const client = await load();
      return (endpoint, options) =>
        new client.KubernetesAdapter(
          client.bearerTokenTransport(endpoint, async () => TOKEN),
          options,
        );
    },
  ]),
];

beforeAll(async () => {
  api = await startHttpsApiServer(answer);
}, 60_000);

afterAll(async () => {
  await api.close();
  rmSync(bundleDir, { recursive: true, force: true });
});

describe.each(variants)('KubernetesAdapter over HTTPS through %s', (_, load) => {
  let connect: Connect;
  let adapter: KubernetesAdapter;
  beforeAll(async () => {
    connect = await load();
    adapter = connect(api.endpoint, { pageSize: 2 });
  }, 60_000);

  it('lists every page with the bearer token, over TLS verified against the cluster CA', async () => {
    api.seen.length = 0;

    const workloads = await adapter.listWorkloads('apps');

    expect(workloads.filter((w) => w.kind === 'Deployment').map((w) => w.name)).toEqual(['a', 'b', 'c']);
    expect(api.seen.filter((r) => r.url.includes('/deployments')).map((r) => r.url)).toEqual([
      '/apis/apps/v1/namespaces/apps/deployments?limit=2',
      '/apis/apps/v1/namespaces/apps/deployments?limit=2&continue=page-2',
    ]);
    expect(new Set(api.seen.map((r) => r.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
    expect(workloads.filter((w) => !w.rollout).map((w) => `${w.kind}/${w.name}`)).toEqual([
      'CronJob/nightly',
      'Job/migrate',
      'Pod/debug',
    ]);
    const pods = api.seen.filter((r) => r.url.includes('/pods'));
    for (const list of pods) {
      expect(new URL(list.url, 'https://x').searchParams.get('fieldSelector')).toBe(
        'status.phase!=Succeeded,status.phase!=Failed',
      );
    }
    // A bare Pod and a bare Job here: their metadata first, then the whole objects.
    expect(pods.map((r) => r.accept?.includes('as=PartialObjectMetadataList'))).toEqual([true, false]);
  });

  it('reads only the metadata of Pods and Jobs in a namespace where a controller owns each', async () => {
    api.seen.length = 0;

    const workloads = await adapter.listWorkloads('owned');

    expect(workloads).toEqual([]);
    const podsAndJobs = api.seen.filter((r) => /\/(pods|jobs)\b/.test(r.url));
    expect(podsAndJobs.map((r) => new URL(r.url, 'https://x').pathname).sort()).toEqual([
      '/api/v1/namespaces/owned/pods',
      '/apis/batch/v1/namespaces/owned/jobs',
    ]);
    for (const list of podsAndJobs) expect(list.accept).toContain('as=PartialObjectMetadataList');
  });

  it('merge-patches a workload under its field manager, retrying a 409 conflict', async () => {
    api.seen.length = 0;
    conflictsLeft = 1;
    const patch = { spec: { template: { metadata: { annotations: { restarted: 'now' } } } } };

    await adapter.patchWorkload({ kind: 'StatefulSet', namespace: 'apps', name: 'db' }, patch);

    expect(api.seen).toHaveLength(2);
    for (const request of api.seen) {
      expect(request).toMatchObject({
        method: 'PATCH',
        url: '/apis/apps/v1/namespaces/apps/statefulsets/db?fieldManager=secret-rotation-orchestrator',
        contentType: 'application/merge-patch+json',
      });
      expect(JSON.parse(request.body)).toEqual(patch);
    }
  });

  it('falls back to ESO v1beta1 on a 404 and fails a refused call with its status and reason only', async () => {
    api.seen.length = 0;

    const failure = await adapter.listSecretStores().catch((error: unknown) => error);

    expect(api.seen.map((r) => r.url)).toEqual([
      '/apis/external-secrets.io/v1/externalsecrets?limit=1',
      '/apis/external-secrets.io/v1beta1/secretstores?limit=2',
    ]);
    // By name: the bundle has its own copy of the class.
    expect(failure).toMatchObject({ name: 'KubernetesCallError', httpStatus: 403, reason: 'Forbidden' });
    expect((failure as Error).message).toBe('Kubernetes API call failed: HTTP 403 Forbidden');
    expect(everywhere(failure)).not.toContain(MARKER);
    expect(everywhere(failure)).not.toContain('x-denied-value');
  });

  it('retries a 409 on the force-sync annotation of an ExternalSecret and a ClusterExternalSecret', async () => {
    const annotations = { 'external-secrets.io/force-sync': 'v@now' };
    api.seen.length = 0;
    conflictsLeft = 2;

    await adapter.annotateExternalSecret(
      { kind: 'ExternalSecret', namespace: 'apps', name: 'db' },
      annotations,
    );
    conflictsLeft = 1;
    await adapter.annotateClusterExternalSecret('shared-db', annotations);

    expect(api.seen.map((r) => `${r.method} ${new URL(r.url, 'https://x').pathname}`)).toEqual([
      ...Array(3).fill('PATCH /apis/external-secrets.io/v1beta1/namespaces/apps/externalsecrets/db'),
      ...Array(2).fill('PATCH /apis/external-secrets.io/v1beta1/clusterexternalsecrets/shared-db'),
    ]);
  });

  it('fails a 2xx answer that is not JSON with a fixed reason, quoting none of it', async () => {
    const failure = await adapter
      .getRollout({ kind: 'Deployment', namespace: 'apps', name: 'garbled' })
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ name: 'KubernetesCallError', httpStatus: 200 });
    expect((failure as Error).message).toBe('Kubernetes API call failed: HTTP 200 ResponseNotJSON');
    expect(everywhere(failure)).not.toContain(MARKER.slice(0, 7));
  });

  it('reuses its TLS connections instead of opening one per call', async () => {
    const fresh = connect(api.endpoint);
    const before = api.tlsConnections();

    for (let i = 0; i < 10; i++) await fresh.getRollout({ kind: 'Deployment', namespace: 'apps', name: 'a' });

    // The pool may hold a second connection; one per call would be 10.
    expect(api.tlsConnections() - before).toBeGreaterThan(0);
    expect(api.tlsConnections() - before).toBeLessThanOrEqual(2);
  });

  it('refuses a server whose certificate another CA signed', async () => {
    const untrusting = connect({ ...api.endpoint, certificateAuthority: api.otherCa });
    api.seen.length = 0;

    const failure = await untrusting.listRollouts('apps', 'Deployment').catch((error: unknown) => error);

    expect((failure as { code?: string }).code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(api.seen).toEqual([]);
  });
});

describe('bearerTokenTransport', () => {
  it('asks for the token on every request, so a renewed token is sent from then on', async () => {
    const { bearerTokenTransport, KubernetesAdapter } = await fromSources();
    let token = 'k8s-aws-v1.first';
    const adapter = new KubernetesAdapter(bearerTokenTransport(api.endpoint, async () => token));
    api.seen.length = 0;

    await adapter.getRollout({ kind: 'Deployment', namespace: 'apps', name: 'a' });
    token = 'k8s-aws-v1.renewed';
    await adapter.getRollout({ kind: 'Deployment', namespace: 'apps', name: 'a' });

    expect(api.seen.map((r) => r.authorization)).toEqual([
      'Bearer k8s-aws-v1.first',
      'Bearer k8s-aws-v1.renewed',
    ]);
  });

  it("keeps a wave's connections open across the restart step's pause between waves", async () => {
    const { bearerTokenTransport, KubernetesAdapter } = await fromSources();
    const adapter = new KubernetesAdapter(bearerTokenTransport(api.endpoint, async () => TOKEN));
    const wave = () =>
      Promise.all(
        Array.from({ length: 8 }, () =>
          adapter.getRollout({ kind: 'Deployment', namespace: 'apps', name: 'a' }),
        ),
      );
    const before = api.tlsConnections();
    await wave();
    const firstWave = api.tlsConnections() - before;
    // Longer than undici's default idle timeout (4 s, kube-apiserver sending no Keep-Alive hint),
    // as the step's pause between waves can be (1-5 s plus a look at the rollouts).
    await delay(5_500);
    await wave();

    expect(firstWave).toBeGreaterThan(1);
    expect(api.tlsConnections() - before).toBe(firstWave);
  }, 15_000);

  it('refuses to send a token over plain HTTP', async () => {
    const { bearerTokenTransport } = await fromSources();
    const endpoint = { ...api.endpoint, server: api.endpoint.server.replace('https:', 'http:') };

    expect(() => bearerTokenTransport(endpoint, async () => TOKEN)).toThrow(
      /refusing to send a bearer token/,
    );
  });
});

describe.each(variants)('a refused call through %s, in the ledger and the alert', (_, load) => {
  const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
  const secret = {
    name: 'prod/db',
    arn: 'arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf',
    tags: {},
  };
  const sync: SyncProgress = {
    annotatedAt: '2026-11-23T10:00:00.000Z',
    deadline: '2026-11-23T10:05:00.000Z',
    done: true,
    pending: [],
    synced: [{ kind: 'ExternalSecret', namespace: 'forbidden', name: 'db' }],
    failed: [],
  };
  const claim: Claim = {
    claimed: true,
    executionId: 'e',
    secret,
    versionId: VERSION,
    moveSeq: 1,
    clusters: ['local'],
    budget: { inFlight: 1, percent: 100, canary: 1 },
    startedAt: '2026-11-23T10:00:00.000Z',
    trigger: 'scheduled',
    actor: 'test',
    retirePrevious: false,
  };

  it('names the HTTP status and reason, never the body or headers', async () => {
    const connect = await load();
    const clusterFor = async () => connect(api.endpoint);
    const records: unknown[] = [];
    const ledgerDeps = {
      clusters: ['local'],
      ledger: { finishPropagation: async (...args: unknown[]) => void records.push(args) },
      metrics: { addMetric: () => undefined },
      logger: { info: () => undefined },
      now: () => new Date('2026-11-23T10:10:00.000Z'),
    } as unknown as LedgerStepDeps;

    // The restart step lists the namespace's workloads: the API server refuses. The error goes the
    // way Step Functions carries it (Error + a JSON Cause) to the outcome, the ledger and the alert.
    const plan = {
      plannedAt: '2026-11-23T10:00:00.000Z',
      resync: [{ namespace: 'forbidden', name: 'db', prior: {}, targetSecret: 'db', reasons: [] }],
      notRefreshing: [],
    };
    const deps = {
      clusterFor,
      requireOptIn: false,
      secrets: unreadSecrets,
      syncTimeoutMs: 1000,
      rolloutTimeoutMs: 1000,
      now: () => new Date('2026-11-23T10:10:00.000Z'),
    };
    const thrown = (await advanceRestartsStep(
      {
        cluster: 'local',
        secret,
        versionId: VERSION,
        moveSeq: 1,
        budget: claim.budget,
        plan,
        sync,
        restarts: { done: false },
      },
      deps,
    ).catch((e: unknown) => e)) as Error;
    const error = { Error: thrown.name, Cause: JSON.stringify({ errorMessage: thrown.message }) };
    const outcome = await finishClusterStep({ state: { cluster: 'local', plan, sync, error } });
    const { alert } = await recordStep({ claim, clusters: [outcome] }, ledgerDeps);

    expect(outcome.failed).toContain('KubernetesCallError: Kubernetes API call failed: HTTP 403 Forbidden');
    for (const written of [outcome, records, alert]) {
      expect(JSON.stringify(written)).not.toContain(MARKER);
      expect(JSON.stringify(written)).not.toContain('x-denied-value');
    }
  });
});
