import { awsExternalSecret, awsSecretStore, localAwsCredentialsSecret } from '../../harness/eso-manifests';
import { envFromDeployment } from '../../harness/workload-manifests';

/** The shape of bench/reloader.ts's workloads. */
export interface WorkloadShape {
  readonly namespaces: number;
  /** ExternalSecrets of the rotated AWS secret, spread over the namespaces (at least one each). */
  readonly secrets: number;
  /** Deployments at 1 replica consuming those Secrets, spread over the namespaces. */
  readonly consumers: number;
  /** Deployments at 0 replicas consuming another ExternalSecret's Secret. */
  readonly bystanders: number;
  readonly refreshInterval: string;
}

export const ROLE_LABEL = 'bench.rotator/role';
export const CONSUMERS = `${ROLE_LABEL}=consumer`;
const NAMESPACE_PREFIX = 'rl-bench-';

export const namespaceOf = (i: number) => `${NAMESPACE_PREFIX}${i}`;

/** Whether a Secret (`namespace/name`) is one that the rotated AWS secret is written to. */
export function isRotatedSecret(key: string): boolean {
  const [namespace = '', name = ''] = key.split('/');
  return namespace.startsWith(NAMESPACE_PREFIX) && /^db-\d+-secret$/.test(name);
}

/** ExternalSecrets in namespace `n` fed by the rotated secret (round robin, `secrets` ≥ `namespaces`). */
function rotatedIn(shape: WorkloadShape, n: number): number {
  return Math.floor((shape.secrets - 1 - n) / shape.namespaces) + 1;
}

/** Every object the benchmark creates, in creation order; `rotated` and `other` are AWS secret names. */
export function benchObjects(shape: WorkloadShape, rotated: string, other: string): object[] {
  const objects: object[] = [];
  for (let n = 0; n < shape.namespaces; n++) {
    const namespace = namespaceOf(n);
    objects.push(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      localAwsCredentialsSecret(namespace),
      awsSecretStore(namespace),
      externalSecret(namespace, 'other', other, shape.refreshInterval),
    );
    for (let s = 0; s < rotatedIn(shape, n); s++) {
      objects.push(externalSecret(namespace, `db-${s}`, rotated, shape.refreshInterval));
    }
  }
  for (let j = 0; j < shape.consumers; j++) {
    const n = j % shape.namespaces;
    const k = Math.floor(j / shape.namespaces);
    objects.push(
      deployment(namespaceOf(n), `app-${k}`, `db-${k % rotatedIn(shape, n)}-secret`, 'consumer', 1),
    );
  }
  for (let j = 0; j < shape.bystanders; j++) {
    const n = j % shape.namespaces;
    objects.push(
      deployment(
        namespaceOf(n),
        `bystander-${Math.floor(j / shape.namespaces)}`,
        'other-secret',
        'bystander',
        0,
      ),
    );
  }
  return objects;
}

/** Consumer Deployments by namespace and name, as the tracker keys them. */
export function consumerRefs(shape: WorkloadShape): { namespace: string; name: string }[] {
  return Array.from({ length: shape.consumers }, (_, j) => ({
    namespace: namespaceOf(j % shape.namespaces),
    name: `app-${Math.floor(j / shape.namespaces)}`,
  }));
}

function externalSecret(namespace: string, name: string, key: string, refreshInterval: string) {
  return awsExternalSecret(namespace, name, key, { refreshInterval });
}

function deployment(namespace: string, name: string, secret: string, role: string, replicas: number) {
  return envFromDeployment(namespace, name, secret, { replicas, labels: { [ROLE_LABEL]: role } });
}
