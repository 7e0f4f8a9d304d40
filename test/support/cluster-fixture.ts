import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { inject } from 'vitest';
import { awsExternalSecret, awsSecretStore, localAwsCredentialsSecret } from '../../harness/eso-manifests';
import { localClients } from '../../harness/local-aws';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import type { RotatedSecret } from '../../shared/propagation/eso-types';
import type { ObjectRef } from '../../shared/propagation/object-ref';
import { rolloutState } from '../../shared/propagation/rollout-status';
import type { PodSpec, WorkloadKind } from '../../shared/propagation/workload-types';

export function kubeConfigFrom(path: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config;
}

/** Admin access for setting up fixtures; the engine under test runs as the rotator identity. */
export function clusterFixture() {
  const admin = kubeConfigFrom(inject('kubeconfig'));
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const core = admin.makeApiClient(CoreV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  const aws = localClients(inject('motoEndpoint'));
  const asRotator = (options: { pageSize?: number } = {}) =>
    new KubernetesAdapter(kubeConfigFrom(inject('rotatorKubeconfig')), options);

  async function create(object: KubernetesObject & Record<string, unknown>) {
    await objects.create(object);
  }

  /** A namespace with AWS credentials and a SecretStore named `aws` reading Secrets Manager (moto). */
  async function namespaceWithStore(prefix: string): Promise<string> {
    const namespace = `${prefix}-${randomUUID().slice(0, 6)}`;
    await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await create(localAwsCredentialsSecret(namespace));
    await create(awsSecretStore(namespace));
    return namespace;
  }

  async function externalSecret(
    namespace: string,
    name: string,
    key: string,
    spec: Record<string, unknown> = {},
  ) {
    await create(awsExternalSecret(namespace, name, key, spec));
  }

  async function workload(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    podSpec: PodSpec,
    extra: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: object } = {},
  ) {
    const labels = { app: name, ...extra.labels };
    // The API requires an image on every container; kwok runs none of them.
    const withImage = (containers: PodSpec['containers']) =>
      containers?.map((c) => ({ image: `${c.name}:1`, ...c }));
    const template = {
      metadata: { labels },
      spec: {
        ...podSpec,
        containers: withImage(podSpec.containers ?? [{ name: 'app' }]),
        ...(podSpec.initContainers ? { initContainers: withImage(podSpec.initContainers) } : {}),
      },
    };
    await create({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace, annotations: extra.annotations ?? {} },
      spec: {
        ...(kind === 'DaemonSet' ? {} : { replicas: 1 }),
        ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
        selector: { matchLabels: { app: name } },
        template,
        ...extra.spec,
      },
    });
  }

  /** Polls until `check` returns a value, or fails after `timeoutMs`. */
  async function eventually<T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs = 60_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }

  async function externalSecretReady(namespace: string, name: string) {
    return eventually(`ExternalSecret ${namespace}/${name} to sync`, async () => {
      const es = (await custom
        .getNamespacedCustomObject({
          group: 'external-secrets.io',
          version: 'v1',
          namespace,
          plural: 'externalsecrets',
          name,
        })
        .catch((error: unknown) => {
          // A ClusterExternalSecret creates its children a moment later.
          if (error instanceof ApiException && error.code === 404) return undefined;
          throw error;
        })) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      return es?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    });
  }

  async function rolledOut(refs: ObjectRef[]) {
    const adapter = asRotator();
    for (const ref of refs) {
      await eventually(`${ref.kind} ${ref.namespace}/${ref.name} to roll out`, async () =>
        rolloutState(await adapter.getRollout(ref)).state === 'done' ? true : undefined,
      );
    }
  }

  /**
   * Deployments in `namespace` that read Secret `secretName` through envFrom, rolled out; those in
   * `failing` are labelled so kwok fails their pods after a restart (progress deadline 5 s).
   */
  async function consumingDeployments(
    namespace: string,
    secretName: string,
    names: readonly string[],
    failing: readonly string[] = [],
  ) {
    for (const name of names) {
      await workload(
        'Deployment',
        namespace,
        name,
        { containers: [{ name: 'app', envFrom: [{ secretRef: { name: secretName } }] }] },
        failing.includes(name)
          ? { labels: { 'rotator.test/fail-on-restart': 'true' }, spec: { progressDeadlineSeconds: 5 } }
          : {},
      );
    }
    await rolledOut(names.map((name) => ({ kind: 'Deployment', namespace, name })));
  }

  async function secretValue(namespace: string, name: string, key: string): Promise<string | undefined> {
    const secret = await core.readNamespacedSecret({ namespace, name });
    const data = secret.data?.[key];
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
  }

  async function rotatedSecret(secretId: string): Promise<{ secret: RotatedSecret; versionId: string }> {
    const out = await aws.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
    const versionId = Object.entries(out.VersionIdsToStages ?? {}).find(([, s]) =>
      s.includes('AWSCURRENT'),
    )?.[0];
    if (!out.ARN || !out.Name || !versionId) throw new Error(`cannot describe ${secretId}`);
    const tags = Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    return { secret: { name: out.Name, arn: out.ARN, tags }, versionId };
  }

  return {
    admin,
    core,
    aws,
    asRotator,
    create,
    namespaceWithStore,
    externalSecret,
    workload,
    eventually,
    externalSecretReady,
    rolledOut,
    consumingDeployments,
    secretValue,
    rotatedSecret,
  };
}
