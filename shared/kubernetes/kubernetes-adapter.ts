import type { KubeConfig, V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { KubernetesCallError } from '../errors';
import type { AwsSecretStore, ExternalSecret, ExternalSecretSpec } from '../propagation/eso-types';
import type { RolloutObservation } from '../propagation/rollout-status';
import type { PodSpec, Workload, WorkloadKind } from '../propagation/workload-types';
import type { ClusterPort, ExternalSecretSyncStatus } from './cluster-port';
import { CustomObjectsClient, type ResourceType } from './custom-objects-client';
import { kubeConfigTransport } from './kubeconfig-transport';
import type { KubernetesTransport } from './kubernetes-transport';
import type { ObjectRef } from './object-ref';
import { listAll, PAGE_SIZE } from './paginate';

export const FIELD_MANAGER = 'secret-rotation-orchestrator';
const ESO_GROUP = 'external-secrets.io';
const CONFLICT_RETRIES = 5;

type AppsObject = V1Deployment | V1StatefulSet | V1DaemonSet;
interface RawObject {
  metadata?: {
    namespace?: string;
    name?: string;
    generation?: number;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/**
 * {@link ClusterPort} over plain JSON: paginated lists, merge patches with a field manager, 409s
 * retried. Reaches the cluster through a transport (EKS: bearer-token-transport.ts) or a KubeConfig
 * (kubeconfig files); errors are {@link KubernetesCallError}s.
 */
export class KubernetesAdapter implements ClusterPort {
  private readonly custom: CustomObjectsClient;
  private esoVersion: Promise<string> | undefined;
  private readonly pageSize: number;

  constructor(cluster: KubernetesTransport | KubeConfig, options: { readonly pageSize?: number } = {}) {
    this.custom = new CustomObjectsClient('send' in cluster ? cluster : kubeConfigTransport(cluster));
    this.pageSize = options.pageSize ?? PAGE_SIZE;
  }

  async listExternalSecrets(): Promise<ExternalSecret[]> {
    const version = await this.externalSecretsVersion();
    const items = await this.listEso(version, 'externalsecrets');
    return items.map((item) => toExternalSecret(item, `${ESO_GROUP}/${version}`));
  }

  async listSecretStores(): Promise<AwsSecretStore[]> {
    const version = await this.externalSecretsVersion();
    const namespaced = await this.listEso(version, 'secretstores');
    const cluster = await this.listEso(version, 'clustersecretstores');
    return [
      ...namespaced.flatMap((item) => toAwsStore(item, 'SecretStore')),
      ...cluster.flatMap((item) => toAwsStore(item, 'ClusterSecretStore')),
    ];
  }

  async listWorkloads(
    namespace: string,
    kinds: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'],
  ): Promise<Workload[]> {
    const lists = await Promise.all(kinds.map((kind) => this.listApps(namespace, kind)));
    return lists.flatMap((items, index) =>
      items.map((item) => toWorkload(kinds[index] as WorkloadKind, item)),
    );
  }

  async annotateExternalSecret(ref: ObjectRef, annotations: Record<string, string>): Promise<void> {
    const type = esoResource(await this.externalSecretsVersion(), 'externalsecrets');
    await this.custom.mergePatch(type, ref.name, ref.namespace, { metadata: { annotations } }, FIELD_MANAGER);
  }

  async annotateClusterExternalSecret(name: string, annotations: Record<string, string>): Promise<void> {
    const type = esoResource(await this.externalSecretsVersion(), 'clusterexternalsecrets');
    await this.custom.mergePatch(type, name, undefined, { metadata: { annotations } }, FIELD_MANAGER);
  }

  async getExternalSecretSync(ref: ObjectRef): Promise<ExternalSecretSyncStatus> {
    const type = esoResource(await this.externalSecretsVersion(), 'externalsecrets');
    const object = (await this.custom.get(type, ref.name, ref.namespace)) as RawObject;
    return toSyncStatus(object);
  }

  async patchWorkload(workload: ObjectRef, patch: object): Promise<void> {
    const type = appsResource(workload.kind as WorkloadKind);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.custom.mergePatch(type, workload.name, workload.namespace, patch, FIELD_MANAGER);
        return;
      } catch (error) {
        if (
          !(error instanceof KubernetesCallError && error.httpStatus === 409) ||
          attempt >= CONFLICT_RETRIES
        )
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  async getRollout(workload: ObjectRef): Promise<RolloutObservation> {
    const kind = workload.kind as WorkloadKind;
    const object = (await this.custom.get(
      appsResource(kind),
      workload.name,
      workload.namespace,
    )) as AppsObject;
    return toRollout(kind, object);
  }

  async listRollouts(namespace: string, kind: WorkloadKind): Promise<Map<string, RolloutObservation>> {
    const items = await this.listApps(namespace, kind);
    return new Map(items.map((item) => [item.metadata?.name ?? '', toRollout(kind, item)]));
  }

  /**
   * Workloads of one kind in a namespace as plain JSON, not through the typed AppsV1Api: the typed
   * client runs every object through its ObjectSerializer, which cost seconds of CPU per
   * propagation at 5,000 workloads (bench/propagation.ts).
   */
  private listApps(namespace: string, kind: WorkloadKind): Promise<AppsObject[]> {
    return this.listPages<AppsObject>(appsResource(kind), namespace);
  }

  /** external-secrets.io/v1 where the cluster serves it, else v1beta1 (older ESO releases). */
  private externalSecretsVersion(): Promise<string> {
    this.esoVersion ??= this.custom.list(esoResource('v1', 'externalsecrets'), { limit: 1 }).then(
      () => 'v1',
      (error: unknown) => {
        if (error instanceof KubernetesCallError && error.httpStatus === 404) return 'v1beta1';
        this.esoVersion = undefined;
        throw error;
      },
    );
    return this.esoVersion;
  }

  private listEso(version: string, plural: string): Promise<RawObject[]> {
    return this.listPages<RawObject>(esoResource(version, plural));
  }

  private listPages<T>(type: ResourceType, namespace?: string): Promise<T[]> {
    return listAll(async (cont) => {
      const page = await this.custom.list<T>(type, { namespace, limit: this.pageSize, continue: cont });
      return { items: page.items, metadata: { _continue: page.metadata?.continue } };
    });
  }
}

function toExternalSecret(item: RawObject, apiVersion: string): ExternalSecret {
  const owner = item.metadata?.ownerReferences?.find((ref) => ref.kind === 'ClusterExternalSecret');
  return {
    namespace: item.metadata?.namespace ?? '',
    name: item.metadata?.name ?? '',
    apiVersion,
    generation: item.metadata?.generation ?? 0,
    spec: (item.spec ?? {}) as ExternalSecretSpec,
    syncStatus: toSyncStatus(item),
    ...(owner ? { ownerClusterExternalSecret: owner.name } : {}),
  };
}

function toSyncStatus(item: RawObject): ExternalSecretSyncStatus {
  const status = (item.status ?? {}) as {
    refreshTime?: string;
    syncedResourceVersion?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
  const ready = status.conditions?.find((condition) => condition.type === 'Ready');
  return { refreshTime: status.refreshTime, syncedResourceVersion: status.syncedResourceVersion, ready };
}

function toAwsStore(item: RawObject, kind: AwsSecretStore['kind']): AwsSecretStore[] {
  const aws = (
    item.spec?.provider as { aws?: { service?: string; region?: string; prefix?: string } } | undefined
  )?.aws;
  if (!aws?.service || !aws.region) return [];
  return [
    {
      kind,
      namespace: kind === 'SecretStore' ? (item.metadata?.namespace ?? '') : '',
      name: item.metadata?.name ?? '',
      service: aws.service,
      region: aws.region,
      ...(aws.prefix ? { prefix: aws.prefix } : {}),
    },
  ];
}

function esoResource(version: string, plural: string): ResourceType {
  return { group: ESO_GROUP, version, plural };
}

function appsResource(kind: WorkloadKind): ResourceType {
  const plural =
    kind === 'Deployment' ? 'deployments' : kind === 'StatefulSet' ? 'statefulsets' : 'daemonsets';
  return { group: 'apps', version: 'v1', plural };
}

function toRollout(kind: WorkloadKind, object: AppsObject): RolloutObservation {
  return {
    kind,
    generation: object.metadata?.generation ?? 0,
    spec: object.spec as RolloutObservation['spec'],
    status: (object.status ?? {}) as RolloutObservation['status'],
  };
}

function toWorkload(kind: WorkloadKind, object: AppsObject): Workload {
  const template = object.spec?.template;
  return {
    kind,
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    annotations: object.metadata?.annotations ?? {},
    podTemplateAnnotations: template?.metadata?.annotations ?? {},
    podSpec: (template?.spec ?? {}) as PodSpec,
    paused: kind === 'Deployment' ? (object as V1Deployment).spec?.paused === true : false,
    rollout: toRollout(kind, object),
  };
}
