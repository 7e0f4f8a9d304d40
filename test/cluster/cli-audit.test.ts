import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CoreV1Api, loadAllYaml, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localEksCluster } from '../../harness/local-eks';
import { createLedgerTable } from '../../harness/local-ledger';
import { CORE_PODS, kubernetesPodLister, POD_METADATA_ONLY } from '../../shared/compliance/pod-lister';
import { CustomObjectsClient } from '../../shared/kubernetes/custom-objects-client';
import { kubeConfigTransport } from '../../shared/kubernetes/kubeconfig-transport';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { DynamoDbLedger } from '../../shared/ledger/dynamodb-ledger';
import type { PodSpec } from '../../shared/propagation/workload-types';
import { type CliRun, runRotator } from '../support/cli-process';
import { clusterFixture, kubeConfigFrom } from '../support/cluster-fixture';
import { findLeakedValues } from '../support/output-capture';

// `rotator audit` against the real local control plane, ESO and moto, through a rotation done by
// hand step by step: AWSCURRENT moves (the ExternalSecret lags), ESO syncs (the pods lag), the
// consumers restart (converged). Then the orchestrator's identity without "list pods" gets a 403,
// which the audit reports as not audited.

const fx = clusterFixture();
const endpoint = inject('motoEndpoint');
const admin = kubeConfigFrom(inject('kubeconfig'));
const run = randomUUID().slice(0, 6);
const PREFIX = `cli-audit-${run}/`;
const SECRET = `${PREFIX}db`;
const VALUES = [`audit-initial-${randomUUID()}`, `audit-rotated-${randomUUID()}`];
const OUTPUT: string[] = [];
const TABLE = `cli-audit-ledger-${run}`;
const ledger = new DynamoDbLedger(fx.aws.dynamodb, TABLE);
const envFrom = (secret: string): PodSpec => ({
  containers: [{ name: 'app', envFrom: [{ secretRef: { name: secret } }] }],
});
let namespace: string;

interface AuditJson {
  converged: boolean;
  clusters: {
    cluster: string;
    error?: string;
    externalSecrets: {
      name: string;
      sync: { state: string; refreshTime?: string };
      consumers: {
        kind: string;
        name: string;
        state: string;
        pods: number;
        laggingCount: number;
        skipped?: string;
      }[];
    }[];
  }[];
}

/** `rotator audit` against a kubeconfig, or the EKS way (`{ cluster }`: DescribeCluster + token). */
async function audit(
  target: string | { cluster: string },
  json = true,
): Promise<CliRun & { report?: AuditJson }> {
  const args = [
    'audit',
    SECRET,
    '--prefix',
    PREFIX,
    ...(typeof target === 'string' ? ['--kubeconfig', target] : ['--cluster', target.cluster]),
    ...(json ? ['--output', 'json'] : []),
  ];
  const result = await runRotator(args, { endpoint, env: { ROTATOR_LEDGER_TABLE: TABLE } });
  OUTPUT.push(result.stdout, result.stderr);
  return { ...result, report: json && result.stdout ? (JSON.parse(result.stdout) as AuditJson) : undefined };
}

const consumers = (report: AuditJson | undefined) =>
  Object.fromEntries(
    (report?.clusters[0]?.externalSecrets[0]?.consumers ?? []).map((c) => [`${c.kind}/${c.name}`, c.state]),
  );

/** The workflow's Claim: the AWSCURRENT move of `versionId`, registered in the ledger now. */
async function registerMove(): Promise<void> {
  const { versionId } = await fx.rotatedSecret(SECRET);
  await ledger.registerMove(SECRET, {
    versionId,
    at: new Date().toISOString(),
    trigger: 'event',
    actor: 'eventbridge',
  });
}

/** A restart as the workflow does it: a new pod-template annotation (merge patch), then the rollout. */
async function restart(kind: 'Deployment' | 'StatefulSet', name: string) {
  const patch = {
    spec: { template: { metadata: { annotations: { 'audit.test/restartedAt': new Date().toISOString() } } } },
  };
  // As an operator (admin): the admission policy keeps the orchestrator off opted-out workloads.
  await new KubernetesAdapter(fx.admin).patchWorkload({ kind, namespace, name }, patch);
}

beforeAll(async () => {
  await fx.aws.secretsManager.send(
    new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify({ password: VALUES[0] }) }),
  );
  await createLedgerTable(fx.aws.dynamodb, TABLE);
  await registerMove();
  namespace = await fx.namespaceWithStore('cli-audit');
  await fx.externalSecret(namespace, 'db', SECRET);
  await fx.externalSecretReady(namespace, 'db');
  await fx.workload('Deployment', namespace, 'api', envFrom('db-secret'));
  await fx.workload('StatefulSet', namespace, 'worker', envFrom('db-secret'));
  await fx.workload('Deployment', namespace, 'opted-out', envFrom('db-secret'), {
    annotations: { 'secret-rotator.io/ignore': 'true' },
  });
  await fx.workload('Deployment', namespace, 'bystander', {});
  await fx.rolledOut(
    ['api', 'worker', 'opted-out', 'bystander'].map((name) => ({
      kind: name === 'worker' ? 'StatefulSet' : 'Deployment',
      namespace,
      name,
    })),
  );
}, 120_000);

afterAll(() => {
  expect(findLeakedValues(OUTPUT.join('\n'), VALUES)).toEqual([]);
});

describe('rotator audit against the real local cluster and ESO', () => {
  const rotatorKubeconfig = inject('rotatorKubeconfig');

  it('says converged before any move: ESO synced the only version, every pod started after', async () => {
    const r = await audit(rotatorKubeconfig);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.report?.converged).toBe(true);
    expect(r.report?.clusters[0]?.externalSecrets.map((es) => [es.name, es.sync.state])).toEqual([
      ['db', 'synced'],
    ]);
    expect(consumers(r.report)).toEqual({
      'Deployment/api': 'converged',
      'StatefulSet/worker': 'converged',
      'Deployment/opted-out': 'converged',
    });
  });

  it('reaches the cluster the EKS way with --cluster (DescribeCluster + token), with the same verdicts', async () => {
    // The local control plane registered in moto's EKS, as cli-plan does; the token maps to the
    // orchestrator's group, whose RBAC includes the pod list the audit needs.
    await localEksCluster(endpoint, {
      name: inject('eksClusterName'),
      server: inject('clusterServer'),
      caFile: inject('clusterCaFile'),
    });
    const r = await audit({ cluster: inject('eksClusterName') });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.report?.converged).toBe(true);
    expect(r.report?.clusters.map((c) => [c.cluster, c.error])).toEqual([
      [inject('eksClusterName'), undefined],
    ]);
    expect(consumers(r.report)).toEqual({
      'Deployment/api': 'converged',
      'StatefulSet/worker': 'converged',
      'Deployment/opted-out': 'converged',
    });
  });

  it('follows a move step by step: the ExternalSecret lags, then the pods, then nothing (exit 2, 2, 0)', async () => {
    await fx.aws.secretsManager.send(
      new PutSecretValueCommand({ SecretId: SECRET, SecretString: JSON.stringify({ password: VALUES[1] }) }),
    );
    await registerMove();
    const moved = await audit(rotatorKubeconfig);
    expect(moved.code).toBe(2);
    expect(moved.report?.clusters[0]?.externalSecrets[0]?.sync.state).toBe('stale');
    expect(new Set(Object.values(consumers(moved.report)))).toEqual(new Set(['waiting-for-sync']));

    // ESO syncs (the workflow's force-sync annotation).
    await fx
      .asRotator()
      .annotateExternalSecret(
        { kind: 'ExternalSecret', namespace, name: 'db' },
        { 'external-secrets.io/force-sync': String(Date.now()) },
      );
    const synced = await fx.eventually('the audit to see the sync', async () => {
      const r = await audit(rotatorKubeconfig);
      return r.report?.clusters[0]?.externalSecrets[0]?.sync.state === 'synced' ? r : undefined;
    });
    expect(synced.code).toBe(2);
    expect(consumers(synced.report)).toEqual({
      'Deployment/api': 'lagging',
      'StatefulSet/worker': 'lagging',
      'Deployment/opted-out': 'lagging',
    });
    const text = await audit(rotatorKubeconfig, false);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(
      /LAGS Deployment\/api: 1 of 1 pod\(s\) started before the sync \(api-\w+-\w+\)/,
    );
    expect(text.stdout).toMatch(
      /LAGS StatefulSet\/worker: 1 of 1 pod\(s\) started before the sync \(worker-0\)/,
    );
    expect(text.stdout).toContain(
      '[not restarted by the orchestrator: annotated secret-rotator.io/ignore=true]',
    );
    expect(text.stdout).not.toContain('bystander');

    for (const [kind, name] of [
      ['Deployment', 'api'],
      ['StatefulSet', 'worker'],
      ['Deployment', 'opted-out'],
    ] as const) {
      await restart(kind, name);
    }
    const converged = await fx.eventually(
      'the audit to see every pod restarted',
      async () => {
        const r = await audit(rotatorKubeconfig);
        return r.code === 0 ? r : undefined;
      },
      90_000,
    );
    expect(converged.report?.converged).toBe(true);
    expect(new Set(Object.values(consumers(converged.report)))).toEqual(new Set(['converged']));
  }, 180_000);

  it('lists pods as metadata only: the API server answers no spec (env values) and no status', async () => {
    // The orchestrator's own identity, through the lister's own request (its Accept header).
    const client = new CustomObjectsClient(kubeConfigTransport(kubeConfigFrom(rotatorKubeconfig)));
    type Raw = { kind?: string; items: Record<string, unknown>[] };
    const metadata = (await client.list(CORE_PODS, { namespace, accept: POD_METADATA_ONLY })) as Raw;
    expect(metadata.kind).toBe('PartialObjectMetadataList');
    expect(metadata.items.length).toBeGreaterThan(0);
    for (const item of metadata.items) {
      expect(Object.keys(item).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    }
    // The same list without the header carries every pod's spec: what the audit must not read.
    const whole = (await client.list(CORE_PODS, { namespace })) as Raw;
    expect(whole.items.every((item) => 'spec' in item)).toBe(true);
    const lister = await kubernetesPodLister(kubeConfigTransport(kubeConfigFrom(rotatorKubeconfig))).listPods(
      namespace,
    );
    expect(lister.map((p) => p.name).sort()).toEqual(
      metadata.items.map((i) => (i.metadata as { name: string }).name).sort(),
    );
  });

  it('reports a 403 clearly, exit 1, for the orchestrator role without "list pods" (the rule the audit needs)', async () => {
    const rules = noPodsRules();
    const kubeconfig = await identityWith(rules);
    const r = await audit(kubeconfig, false);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/NOT AUDITED: Kubernetes API call failed: HTTP 403 Forbidden: .*list pods/);
    expect(r.stdout).toContain('some clusters NOT AUDITED');
  }, 60_000);
});

/** infra/kubernetes/rbac.yaml's ClusterRole rules, without the one that grants pods. */
function noPodsRules(): V1PolicyRule[] {
  const manifest = readFileSync(new URL('../../infra/kubernetes/rbac.yaml', import.meta.url), 'utf8');
  const role = (
    loadAllYaml(manifest) as { kind: string; rules?: (V1PolicyRule & { resources: string[] })[] }[]
  ).find((doc) => doc.kind === 'ClusterRole');
  const rules = role?.rules ?? [];
  const kept = rules.filter((rule) => !rule.resources.includes('pods'));
  expect(kept).toHaveLength(rules.length - 1);
  return kept;
}

/** A ServiceAccount bound to `rules` cluster-wide, and a kubeconfig with its token (TokenRequest). */
async function identityWith(rules: V1PolicyRule[]): Promise<string> {
  const name = `audit-no-pods-${run}`;
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  await rbac.createClusterRole({ body: { metadata: { name }, rules } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { expirationSeconds: 600 } },
  });
  const cluster = admin.getCurrentCluster();
  const path = join(mkdtempSync(join(tmpdir(), 'audit-')), 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: { server: cluster?.server, 'certificate-authority': inject('clusterCaFile') },
        },
      ],
      users: [{ name, user: { token: token.status?.token } }],
      contexts: [{ name: 'no-pods', context: { cluster: 'local', user: name } }],
      'current-context': 'no-pods',
    }),
  );
  return path;
}
