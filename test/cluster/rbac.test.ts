import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterFixture, kubeConfigFrom } from '../support/cluster-fixture';

const fx = clusterFixture();
const rotator = kubeConfigFrom(inject('rotatorKubeconfig'));
const core = rotator.makeApiClient(CoreV1Api);
const apps = rotator.makeApiClient(AppsV1Api);
const custom = rotator.makeApiClient(CustomObjectsApi);
const batch = rotator.makeApiClient(BatchV1Api);
let namespace: string;

beforeAll(async () => {
  namespace = await fx.namespaceWithStore('rbac');
  await fx.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'config', namespace },
    data: { a: 'b' },
  });
  await fx.workload('Deployment', namespace, 'app', {});
});

async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

const es = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' };
const merge = { body: { metadata: { annotations: { x: 'y' } } } };

describe('the orchestrator identity (infra/kubernetes/rbac.yaml) in the real apiserver', () => {
  it.each<[string, () => Promise<unknown>]>([
    ['read a Secret', () => core.readNamespacedSecret({ namespace, name: 'aws-credentials' })],
    ['list Secrets in a namespace', () => core.listNamespacedSecret({ namespace })],
    ['list Secrets cluster-wide', () => core.listSecretForAllNamespaces()],
    ['patch a ConfigMap', () => core.patchNamespacedConfigMap({ namespace, name: 'config', ...merge })],
    ['delete a Deployment', () => apps.deleteNamespacedDeployment({ namespace, name: 'app' })],
    [
      'create a Deployment',
      () => apps.createNamespacedDeployment({ namespace, body: { metadata: { name: 'x' } } }),
    ],
    ['delete an ExternalSecret', () => custom.deleteNamespacedCustomObject({ ...es, namespace, name: 'x' })],
    ['create an ExternalSecret', () => custom.createNamespacedCustomObject({ ...es, namespace, body: {} })],
    ['read a Pod', () => core.readNamespacedPod({ namespace, name: 'x' })],
    ['delete Pods', () => core.deleteCollectionNamespacedPod({ namespace })],
    ['read a Pod’s log', () => core.readNamespacedPodLog({ namespace, name: 'x' })],
    ['patch a CronJob', () => batch.patchNamespacedCronJob({ namespace, name: 'x', ...merge })],
    ['delete Jobs', () => batch.deleteCollectionNamespacedJob({ namespace })],
    // Namespaces: get only (restart windows).
    ['list Namespaces', () => core.listNamespace()],
    ['patch a Namespace', () => core.patchNamespace({ name: namespace, ...merge })],
    [
      'update a Namespace',
      () => core.replaceNamespace({ name: namespace, body: { metadata: { name: namespace } } }),
    ],
    ['delete a Namespace', () => core.deleteNamespace({ name: namespace })],
    ['create a Namespace', () => core.createNamespace({ body: { metadata: { name: `${namespace}-x` } } })],
  ])('is forbidden to %s (403)', async (_name, call) => {
    expect(await statusOf(call)).toBe(403);
  });

  it.each<[string, () => Promise<unknown>]>([
    ['list ExternalSecrets cluster-wide', () => custom.listClusterCustomObject({ ...es })],
    ['list SecretStores', () => custom.listClusterCustomObject({ ...es, plural: 'secretstores' })],
    ['list Deployments', () => apps.listNamespacedDeployment({ namespace })],
    ['read a Deployment', () => apps.readNamespacedDeployment({ namespace, name: 'app' })],
    // Consumers without a rollout (reported as next-pod): list only.
    ['list Pods', () => core.listNamespacedPod({ namespace })],
    ['list CronJobs', () => batch.listNamespacedCronJob({ namespace })],
    ['list Jobs', () => batch.listNamespacedJob({ namespace })],
    // Restart windows: a Namespace's annotation.
    ['read a Namespace', () => core.readNamespace({ name: namespace })],
  ])('is allowed to %s', async (_name, call) => {
    expect(await statusOf(call)).toBe(200);
  });
});
