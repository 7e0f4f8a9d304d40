import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, loadAllYaml, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import type { ClusterPort } from '../../shared/propagation/cluster-port';
import { ANNOTATIONS } from '../../shared/propagation/consumer-annotations';
import { restartedMarkerKey } from '../../shared/propagation/markers';
import { advanceRestartsStep } from '../../shared/workflow/restart-steps';
import { clusterFixture } from '../support/cluster-fixture';
import { namespaceAdvanceInput } from '../support/namespace-advance-input';
import { unreadSecrets } from '../support/unread-secrets';

/**
 * Namespace restart windows and the orchestrator's RBAC, in the real API server: the restart step
 * (called directly, through the real adapter) holds a consumer of a Namespace annotated with a
 * closed window when it runs as rbac.yaml's identity, and, as an identity bound to an older
 * manifest without the namespaces rule, gets a 403 for the Namespace, warns, and restarts the
 * consumer as the deployment's windows say (none here) instead of failing.
 */
const fx = clusterFixture();
const run = randomUUID().slice(0, 6);
const SECRET = `wf/${run}/db`;
const VERSION = '0f8b5a8e-3c1d-4a1b-9e2f-123456789abc';
let namespace: string;

beforeAll(async () => {
  namespace = `nswindow-${run}`;
  // Closed now: a daily window opening 6 hours from now.
  const opens = new Date(Math.ceil((Date.now() + 6 * 3_600_000) / 60_000) * 60_000);
  const hhmm = (t: Date) => t.toISOString().slice(11, 16);
  await fx.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespace,
      annotations: {
        [ANNOTATIONS.restartWindow]: `daily ${hhmm(opens)}-${hhmm(new Date(opens.getTime() + 3_600_000))} UTC`,
      },
    },
  });
  for (const name of ['api', 'worker']) {
    await fx.workload('Deployment', namespace, name, {
      containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }],
    });
  }
  await fx.rolledOut(['api', 'worker'].map((name) => ({ kind: 'Deployment', namespace, name })));
}, 60_000);

/** One advance-restarts call for the namespace's consumers of db-secret, through `port`. */
function advance(port: ClusterPort, warnings: unknown[]) {
  return advanceRestartsStep(namespaceAdvanceInput(namespace, SECRET, VERSION), {
    clusterFor: async () => port,
    requireOptIn: false,
    secrets: unreadSecrets,
    syncTimeoutMs: 300_000,
    rolloutTimeoutMs: 600_000,
    rolloutPollBudgetMs: 0,
    logger: {
      warn: (message, ...fields) => {
        warnings.push({ message, fields: fields[0] });
      },
    },
    now: () => new Date(),
  });
}

const marker = async (name: string) =>
  (await fx.asRotator().listWorkloads(namespace, ['Deployment'])).find((w) => w.name === name)
    ?.podTemplateAnnotations[restartedMarkerKey(SECRET)];

describe('Namespace restart windows and RBAC (real API server)', () => {
  it('as rbac.yaml’s identity: reads the Namespace’s window and holds its consumers', async () => {
    const warnings: unknown[] = [];

    const progress = await advance(fx.asRotator(), warnings);

    expect(progress).toMatchObject({ done: false, pending: 2, inFlight: 0, held: { count: 2 } });
    expect(progress.waitUntil).toBeDefined();
    expect(await marker('api')).toBeUndefined();
    expect(await marker('worker')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('as an identity under an older manifest (no namespaces rule): a 403, a warning, and the restart goes on', async () => {
    const old = new KubernetesAdapter(await identityWith(rulesWithoutNamespaces()));
    const forbidden = await old.getNamespaceAnnotations(namespace).catch((error: unknown) => error);
    expect(forbidden).toBeInstanceOf(KubernetesCallError);
    expect(forbidden).toMatchObject({ httpStatus: 403 });
    const warnings: unknown[] = [];

    const progress = await advance(old, warnings);

    expect(progress).toMatchObject({ inFlight: 2, pending: 0 });
    expect(progress.held).toBeUndefined();
    expect(await marker('api')).toBe(`${VERSION}#1`);
    expect(warnings).toEqual([
      {
        message: expect.stringContaining('cannot read Namespaces (403)'),
        fields: { forbidden: 1, namespaces: [namespace] },
      },
    ]);
  }, 30_000);
});

/** infra/kubernetes/rbac.yaml's ClusterRole rules without the one that grants namespaces. */
function rulesWithoutNamespaces(): V1PolicyRule[] {
  const manifest = readFileSync(new URL('../../infra/kubernetes/rbac.yaml', import.meta.url), 'utf8');
  const role = (
    loadAllYaml(manifest) as { kind: string; rules?: (V1PolicyRule & { resources: string[] })[] }[]
  ).find((doc) => doc.kind === 'ClusterRole');
  const rules = role?.rules ?? [];
  const kept = rules.filter((rule) => !rule.resources.includes('namespaces'));
  expect(kept).toHaveLength(rules.length - 1);
  return kept;
}

/** A ServiceAccount bound to `rules` cluster-wide; a KubeConfig with its token (TokenRequest). */
async function identityWith(rules: V1PolicyRule[]): Promise<KubeConfig> {
  const name = `old-rbac-${run}`;
  const rbac = fx.admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createClusterRole({ body: { metadata: { name }, rules } });
  await fx.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = await fx.core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { expirationSeconds: 600 } },
  });
  const path = join(mkdtempSync(join(tmpdir(), 'old-rbac-')), 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: {
            server: fx.admin.getCurrentCluster()?.server,
            'certificate-authority': inject('clusterCaFile'),
          },
        },
      ],
      users: [{ name, user: { token: token.status?.token } }],
      contexts: [{ name: 'old-rbac', context: { cluster: 'local', user: name } }],
      'current-context': 'old-rbac',
    }),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return kubeConfig;
}
