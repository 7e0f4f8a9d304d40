import { setTimeout as sleep } from 'node:timers/promises';
import { type KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import type { ObjectRef } from '../shared/propagation/object-ref';
import { rolloutState } from '../shared/propagation/rollout-status';
import { awsExternalSecret, awsSecretStore, localAwsCredentialsSecret } from './eso-manifests';

const SECRET = 'payments-api';
const env = { name: 'PAYMENTS_API_PASSWORD', valueFrom: { secretKeyRef: { name: SECRET, key: 'password' } } };
const container = (extra: object = {}) => ({ name: 'app', image: 'shop/app:1', ...extra });

/** The sample workloads: one per way of consuming a Secret, plus one that uses none. */
export const SAMPLE_WORKLOADS = [
  {
    kind: 'Deployment',
    name: 'api',
    how: 'env secretKeyRef',
    podSpec: { containers: [container({ env: [env] })] },
  },
  {
    kind: 'StatefulSet',
    name: 'worker',
    how: 'envFrom secretRef',
    podSpec: { containers: [container({ envFrom: [{ secretRef: { name: SECRET } }] })] },
  },
  {
    kind: 'DaemonSet',
    name: 'log-shipper',
    how: 'secret volume',
    podSpec: { containers: [container()], volumes: [{ name: 'creds', secret: { secretName: SECRET } }] },
  },
  {
    kind: 'Deployment',
    name: 'reports',
    how: 'projected volume',
    podSpec: {
      containers: [container()],
      volumes: [{ name: 'all', projected: { sources: [{ secret: { name: SECRET } }] } }],
    },
  },
  { kind: 'Deployment', name: 'static-site', how: 'no reference', podSpec: { containers: [container()] } },
] as const;

/**
 * Creates namespace `shop` with a SecretStore on the local AWS, an ExternalSecret `payments-api` for
 * `remoteKey`, and the sample workloads; waits until ESO has synced and every workload is rolled out.
 */
export async function deploySampleApp(admin: KubeConfig, engine: KubernetesAdapter, remoteKey: string) {
  const namespace = 'shop';
  const create = await namespaceWithStore(admin, namespace);
  await create(awsExternalSecret(namespace, SECRET, remoteKey, { target: { name: SECRET } }));
  for (const workload of SAMPLE_WORKLOADS) {
    await create({
      apiVersion: 'apps/v1',
      kind: workload.kind,
      metadata: { name: workload.name, namespace },
      spec: {
        ...(workload.kind === 'DaemonSet' ? {} : { replicas: 2 }),
        ...(workload.kind === 'StatefulSet' ? { serviceName: workload.name } : {}),
        selector: { matchLabels: { app: workload.name } },
        template: { metadata: { labels: { app: workload.name } }, spec: workload.podSpec },
      },
    });
  }
  const refs: ObjectRef[] = SAMPLE_WORKLOADS.map((w) => ({ kind: w.kind, namespace, name: w.name }));
  await syncedAndRolledOut(engine, namespace, refs);
  return { namespace, refs };
}

/** The database sample app's Deployment and how it reads its credential. */
export const DATABASE_WORKLOAD = {
  kind: 'Deployment',
  name: 'orders-api',
  how: 'PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD from Secret orders-db',
} as const;

/**
 * Creates namespace `orders` with a SecretStore on the local AWS, an ExternalSecret `orders-db`
 * copying the connection fields of database secret `remoteKey` (AWS's JSON shape) into Secret
 * `orders-db`, and Deployment `orders-api` reading them as libpq's PG* variables; waits until ESO
 * has synced and the Deployment is rolled out.
 */
export async function deployDatabaseApp(admin: KubeConfig, engine: KubernetesAdapter, remoteKey: string) {
  const namespace = 'orders';
  const secret = 'orders-db';
  const create = await namespaceWithStore(admin, namespace);
  const fields = {
    PGHOST: 'host',
    PGPORT: 'port',
    PGDATABASE: 'dbname',
    PGUSER: 'username',
    PGPASSWORD: 'password',
  };
  await create(
    awsExternalSecret(namespace, secret, remoteKey, {
      target: { name: secret },
      data: Object.values(fields).map((key) => ({
        secretKey: key,
        remoteRef: { key: remoteKey, property: key },
      })),
    }),
  );
  const env = Object.entries(fields).map(([name, key]) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key } },
  }));
  const { kind, name } = DATABASE_WORKLOAD;
  await create({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container({ env })] } },
    },
  });
  const refs: ObjectRef[] = [{ kind, namespace, name }];
  await syncedAndRolledOut(engine, namespace, refs);
  return { namespace, secret, refs };
}

/** Creates `namespace` with the local AWS credentials and SecretStore `aws`; returns a creator for more. */
async function namespaceWithStore(admin: KubeConfig, namespace: string) {
  const objects = KubernetesObjectApi.makeApiClient(admin);
  const create = (object: Record<string, unknown>) => objects.create(object as never);
  await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await create(localAwsCredentialsSecret(namespace));
  await create(awsSecretStore(namespace));
  return create;
}

async function syncedAndRolledOut(engine: KubernetesAdapter, namespace: string, refs: readonly ObjectRef[]) {
  await until(`ESO to sync the ExternalSecret in ${namespace}`, async () => {
    const [es] = (await engine.listExternalSecrets()).filter((e) => e.namespace === namespace);
    return es?.syncStatus?.ready?.status === 'True';
  });
  await until(`the workloads in ${namespace} to roll out`, async () => {
    const states = await Promise.all(
      refs.map(async (ref) => rolloutState(await engine.getRollout(ref)).state),
    );
    return states.every((state) => state === 'done');
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
