import { randomUUID } from 'node:crypto';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localEksCluster } from '../../harness/local-eks';
import type { PodSpec, WorkloadKind } from '../../shared/propagation/workload-types';
import { type CliRun, runRotator } from '../support/cli-process';
import { clusterFixture, kubeConfigFrom } from '../support/cluster-fixture';
import { findLeakedValues } from '../support/output-capture';

const fx = clusterFixture();
const endpoint = inject('motoEndpoint');
const run = randomUUID().slice(0, 6);
const PREFIX = `cli-plan-${run}/`;
const SECRET = `${PREFIX}db`;
const VALUE = `plan-test-password-${randomUUID()}`;
const env = (secret: string) => ({
  name: 'P',
  valueFrom: { secretKeyRef: { name: secret, key: 'password' } },
});
const envFrom = (secret: string): PodSpec => ({
  containers: [{ name: 'app', envFrom: [{ secretRef: { name: secret } }] }],
});

/** Consumers of db-secret (one per way of using it), an opted-out one, a consumer of a CreatedOnce copy, a bystander. */
const WORKLOADS: [WorkloadKind, string, PodSpec, Record<string, string>?][] = [
  ['Deployment', 'env-user', { containers: [{ name: 'app', env: [env('db-secret')] }] }],
  ['StatefulSet', 'envfrom-user', envFrom('db-secret')],
  ['DaemonSet', 'volume-user', { volumes: [{ name: 'creds', secret: { secretName: 'db-secret' } }] }],
  ['Deployment', 'opted-out', envFrom('db-secret'), { 'secret-rotator.io/ignore': 'true' }],
  ['Deployment', 'once-user', envFrom('once-secret')],
  ['Deployment', 'bystander', {}],
];
const OUTPUT: string[] = [];
let namespace: string;

async function plan(args: string[]): Promise<CliRun> {
  const result = await runRotator(['plan', SECRET, '--prefix', PREFIX, ...args], { endpoint });
  OUTPUT.push(result.stdout, result.stderr);
  return result;
}

/** resourceVersion of every ExternalSecret and workload in the namespace: any write changes one. */
async function resourceVersions(): Promise<Record<string, string>> {
  const admin = kubeConfigFrom(inject('kubeconfig'));
  const apps = admin.makeApiClient(AppsV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  const versions: Record<string, string> = {};
  const add = (kind: string, items: { metadata?: { name?: string; resourceVersion?: string } }[]) => {
    for (const item of items)
      versions[`${kind}/${item.metadata?.name}`] = item.metadata?.resourceVersion ?? '';
  };
  add('Deployment', (await apps.listNamespacedDeployment({ namespace })).items);
  add('StatefulSet', (await apps.listNamespacedStatefulSet({ namespace })).items);
  add('DaemonSet', (await apps.listNamespacedDaemonSet({ namespace })).items);
  const es = (await custom.listNamespacedCustomObject({
    group: 'external-secrets.io',
    version: 'v1',
    namespace,
    plural: 'externalsecrets',
  })) as { items: { metadata?: { name?: string; resourceVersion?: string } }[] };
  add('ExternalSecret', es.items);
  return versions;
}

beforeAll(async () => {
  await fx.aws.secretsManager.send(
    new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify({ password: VALUE }) }),
  );
  namespace = await fx.namespaceWithStore('cli-plan');
  await fx.externalSecret(namespace, 'db', SECRET);
  await fx.externalSecret(namespace, 'once', SECRET, { refreshPolicy: 'CreatedOnce' });
  await fx.externalSecretReady(namespace, 'db');
  await fx.externalSecretReady(namespace, 'once');
  for (const [kind, name, podSpec, annotations] of WORKLOADS) {
    await fx.workload(kind, namespace, name, podSpec, { annotations });
  }
  await fx.rolledOut(WORKLOADS.map(([kind, name]) => ({ kind, namespace, name })));
  await localEksCluster(endpoint, {
    name: inject('eksClusterName'),
    server: inject('clusterServer'),
    caFile: inject('clusterCaFile'),
  });
});

afterAll(() => {
  expect(findLeakedValues(OUTPUT.join('\n'), [VALUE])).toEqual([]);
});

describe('rotator plan against the real local cluster and ESO', () => {
  it('shows the ExternalSecrets and workloads a rotation would touch, with reasons, and writes nothing', async () => {
    const before = await resourceVersions();
    const kubeconfig = inject('rotatorKubeconfig');
    const r = await plan(['--kubeconfig', kubeconfig]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').map((line) => line.trimEnd());
    const section = (start: string) => lines.slice(lines.findIndex((l) => l.startsWith(start)));
    expect(lines[0]).toMatch(
      new RegExp(`^Plan for ${SECRET} \\(AWSCURRENT \\w{8}\\).*Dry run: nothing was written\\.$`),
    );
    expect(lines).toContain(`cluster ${kubeConfigFrom(kubeconfig).getCurrentContext()}`);
    const db = section(`  ExternalSecret ${namespace}/db → Secret db-secret: resync`);
    expect(db[1]).toBe(`    because data[password].remoteRef.key=${SECRET} via SecretStore/aws`);
    const choices = db.slice(2, 6).map((l) => l.replace(/\s+/g, ' ').trim());
    expect(choices.sort()).toEqual([
      'restart DaemonSet/volume-user uses Secret db-secret via volume in creds',
      'restart Deployment/env-user uses Secret db-secret via env in app',
      'restart StatefulSet/envfrom-user uses Secret db-secret via envFrom in app',
      'skip Deployment/opted-out annotated secret-rotator.io/ignore=true',
    ]);
    const once = section(
      `  ExternalSecret ${namespace}/once → Secret once-secret: not refreshed by ESO (created-once)`,
    );
    expect(once[2]?.replace(/\s+/g, ' ')).toMatch(
      /^ skip Deployment\/once-user ESO will not refresh ExternalSecret/,
    );
    expect(r.stdout).not.toContain('bystander');
    expect(r.stdout).toMatch(/total: 1 ExternalSecret\(s\) to resync, 3 workload\(s\) to restart, 2 skipped/);
    expect(await resourceVersions()).toEqual(before);
  });

  it('reaches the cluster the EKS way with --cluster (DescribeCluster + token) and prints JSON', async () => {
    const before = await resourceVersions();
    const r = await plan(['--cluster', inject('eksClusterName'), '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      secret: { name: string };
      clusters: {
        cluster: string;
        error?: string;
        externalSecrets: { name: string; restart: { name: string }[] }[];
      }[];
    };
    expect(json.secret.name).toBe(SECRET);
    expect(json.clusters.map((c) => [c.cluster, c.error])).toEqual([[inject('eksClusterName'), undefined]]);
    const db = json.clusters[0]?.externalSecrets.find((es) => es.name === 'db');
    expect(db?.restart.map((w) => w.name).sort()).toEqual(['env-user', 'envfrom-user', 'volume-user']);
    expect(await resourceVersions()).toEqual(before);
  });

  it('reports a cluster it cannot reach and exits 1, still writing nothing', async () => {
    const r = await plan(['--cluster', `missing-${run}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `cluster missing-${run}\\n {2}could not plan: DescribeCluster on "missing-${run}" failed: ResourceNotFoundException`,
      ),
    );
  });
});
