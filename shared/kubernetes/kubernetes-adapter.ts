import type { KubeConfig } from '@kubernetes/client-node';
import { fullJitterDelay } from '../concurrency';
import { KubernetesCallError } from '../errors';
import { argoRestartPatch } from '../propagation/argo-rollout-restart';
import {
  ARGO_ROLLOUTS,
  type ArgoRolloutObject,
  argoRolloutWorkload,
  linkWorkloadRefs,
  toArgoRollout,
} from '../propagation/argo-rollout-workload';
import type { ClusterPort, ExternalSecretSyncStatus } from '../propagation/cluster-port';
import type { AwsSecretStore, ExternalSecret } from '../propagation/eso-types';
import type { ObjectRef } from '../propagation/object-ref';
import type { RolloutObservation } from '../propagation/rollout-status';
import {
  type AppsKind,
  isRolloutKind,
  type RolloutKind,
  WORKLOAD_KINDS,
  type Workload,
  type WorkloadKind,
} from '../propagation/workload-types';
import { CustomObjectsClient, METADATA_ONLY_LIST, type ResourceType } from './custom-objects-client';
import { kubeConfigTransport } from './kubeconfig-transport';
import {
  type AppsObject,
  controlled,
  cronJobWorkload,
  finishedJob,
  jobWorkload,
  podWorkload,
  type RawObject,
  toAwsStore,
  toExternalSecret,
  toRollout,
  toSyncStatus,
  toWorkload,
} from './kubernetes-objects';
import type { KubernetesTransport } from './kubernetes-transport';
import { listAll, PAGE_SIZE } from './paginate';

export const FIELD_MANAGER = 'secret-rotation-orchestrator';
const ESO_GROUP = 'external-secrets.io';
const CONFLICT_RETRIES = 5;

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
    kinds: readonly WorkloadKind[] = WORKLOAD_KINDS,
  ): Promise<Workload[]> {
    const lists = await Promise.all(kinds.map((kind) => this.listKind(namespace, kind)));
    const workloads = lists.flat();
    // A Rollout's template may live in a Deployment (spec.workloadRef): read from it, and the
    // Deployment marked as the Rollout's. Listed here when the Deployments were not asked for.
    const needDeployments =
      !kinds.includes('Deployment') && workloads.some((w) => w.workloadRef !== undefined);
    const deployments = needDeployments ? await this.listKind(namespace, 'Deployment') : [];
    return linkWorkloadRefs(workloads, deployments);
  }

  private async listKind(namespace: string, kind: WorkloadKind): Promise<Workload[]> {
    if (kind === 'Rollout') {
      return (await this.listArgoRollouts(namespace)).map(argoRolloutWorkload);
    }
    if (isRolloutKind(kind)) {
      return (await this.listApps(namespace, kind)).map((item) => toWorkload(kind, item));
    }
    if (kind === 'CronJob') {
      const items = await this.listPages<RawObject>(BATCH_CRONJOBS, namespace);
      return items.map(cronJobWorkload);
    }
    if (kind === 'Job') {
      // A CronJob's Jobs are the CronJob's business (reported once, as the CronJob); a finished
      // Job holds no value any more.
      const items = await this.listUncontrolled(BATCH_JOBS, namespace);
      return items.filter((item) => !finishedJob(item)).map(jobWorkload);
    }
    // Pods with a controller are the controller's; finished ones hold no value any more.
    return (await this.listUncontrolled(CORE_PODS, namespace, LIVE_PODS)).map(podWorkload);
  }

  /**
   * The objects of a kind in a namespace that no controller owns. Nearly every Pod and Job has one
   * (a ReplicaSet, a StatefulSet, a CronJob…), and those are their controller's business: their
   * metadata is listed first (no spec, no status: Pods are the largest and most numerous objects
   * the propagation reads), and the whole objects only in a namespace where one has no controller.
   */
  private async listUncontrolled(type: ResourceType, namespace: string, fieldSelector?: string) {
    const metadata = await this.listPages<RawObject>(type, namespace, fieldSelector, METADATA_ONLY_LIST);
    if (metadata.every(controlled)) return [];
    const items = await this.listPages<RawObject>(type, namespace, fieldSelector);
    return items.filter((item) => !controlled(item));
  }

  async annotateExternalSecret(ref: ObjectRef, annotations: Record<string, string>): Promise<void> {
    const type = esoResource(await this.externalSecretsVersion(), 'externalsecrets');
    await this.mergePatch(type, ref.name, ref.namespace, { metadata: { annotations } });
  }

  async annotateClusterExternalSecret(name: string, annotations: Record<string, string>): Promise<void> {
    const type = esoResource(await this.externalSecretsVersion(), 'clusterexternalsecrets');
    await this.mergePatch(type, name, undefined, { metadata: { annotations } });
  }

  async getExternalSecretSync(ref: ObjectRef): Promise<ExternalSecretSyncStatus> {
    const type = esoResource(await this.externalSecretsVersion(), 'externalsecrets');
    const object = (await this.custom.get(type, ref.name, ref.namespace)) as RawObject;
    return toSyncStatus(object);
  }

  /**
   * An Argo Rollout takes the restart as spec.restartAt with our markers on its metadata
   * (argoRestartPatch), so that a restart never starts a new Rollout revision.
   */
  async patchWorkload(workload: ObjectRef, patch: object): Promise<void> {
    const kind = rolloutKind(workload.kind);
    const type = kind === 'Rollout' ? ARGO_ROLLOUTS : appsResource(kind);
    const body = kind === 'Rollout' ? argoRestartPatch(patch) : patch;
    await this.mergePatch(type, workload.name, workload.namespace, body);
  }

  /**
   * A merge patch under our field manager, sent again after a 409 (the API server's own update
   * retries lost to other writers): the patch holds absolute values and no resourceVersion, so a
   * second send is safe. Past CONFLICT_RETRIES the 409 goes to the step's caller, whose Retry
   * (asRetryable) sends it once more later.
   */
  private async mergePatch(type: ResourceType, name: string, namespace: string | undefined, body: object) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.custom.mergePatch(type, name, namespace, body, FIELD_MANAGER);
        return;
      } catch (error) {
        if (
          !(error instanceof KubernetesCallError && error.httpStatus === 409) ||
          attempt >= CONFLICT_RETRIES
        ) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, fullJitterDelay(attempt, 100, 1_600)));
      }
    }
  }

  async getRollout(workload: ObjectRef): Promise<RolloutObservation> {
    const kind = rolloutKind(workload.kind);
    if (kind === 'Rollout') {
      const object = await this.custom.get(ARGO_ROLLOUTS, workload.name, workload.namespace);
      return toArgoRollout(object as ArgoRolloutObject);
    }
    const object = (await this.custom.get(
      appsResource(kind),
      workload.name,
      workload.namespace,
    )) as AppsObject;
    return toRollout(kind, object);
  }

  async listRollouts(namespace: string, kind: RolloutKind): Promise<Map<string, RolloutObservation>> {
    if (kind === 'Rollout') {
      const rollouts = await this.listArgoRollouts(namespace);
      return new Map(rollouts.map((item) => [item.metadata?.name ?? '', toArgoRollout(item)]));
    }
    const items = await this.listApps(namespace, kind);
    return new Map(items.map((item) => [item.metadata?.name ?? '', toRollout(kind, item)]));
  }

  /**
   * One GET of the Namespace (not a cluster-wide LIST: a propagation touches a few namespaces of
   * many, and RBAC then needs `get` on namespaces only). A 404 is a Namespace deleted since the plan.
   */
  async getNamespaceAnnotations(namespace: string): Promise<Record<string, string> | undefined> {
    try {
      const object = (await this.custom.get(CORE_NAMESPACES, namespace)) as RawObject;
      return object.metadata?.annotations ?? {};
    } catch (error) {
      if (error instanceof KubernetesCallError && error.httpStatus === 404) return undefined;
      throw error;
    }
  }

  /**
   * Workloads of one kind in a namespace as plain JSON, not through the typed AppsV1Api: the typed
   * client runs every object through its ObjectSerializer, which cost seconds of CPU per
   * propagation at 5,000 workloads (bench/propagation.ts).
   */
  private listApps(namespace: string, kind: AppsKind): Promise<AppsObject[]> {
    return this.listPages<AppsObject>(appsResource(kind), namespace);
  }

  /** Argo Rollouts in a namespace; none where the cluster does not serve the CRD (a 404). */
  private async listArgoRollouts(namespace: string): Promise<ArgoRolloutObject[]> {
    try {
      return await this.listPages<ArgoRolloutObject>(ARGO_ROLLOUTS, namespace);
    } catch (error) {
      if (error instanceof KubernetesCallError && error.httpStatus === 404) return [];
      throw error;
    }
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

  private listPages<T>(
    type: ResourceType,
    namespace?: string,
    fieldSelector?: string,
    accept?: string,
  ): Promise<T[]> {
    return listAll(async (cont) => {
      const page = await this.custom.list<T>(type, {
        namespace,
        limit: this.pageSize,
        continue: cont,
        fieldSelector,
        accept,
      });
      return { items: page.items, metadata: { _continue: page.metadata?.continue } };
    });
  }
}

function esoResource(version: string, plural: string): ResourceType {
  return { group: ESO_GROUP, version, plural };
}

const BATCH_CRONJOBS: ResourceType = { group: 'batch', version: 'v1', plural: 'cronjobs' };
const BATCH_JOBS: ResourceType = { group: 'batch', version: 'v1', plural: 'jobs' };
const CORE_PODS: ResourceType = { group: '', version: 'v1', plural: 'pods' };
const CORE_NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces' };
const LIVE_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

/** Only rollout kinds are ever patched or watched; anything else reaching here is a bug. */
function rolloutKind(kind: string): RolloutKind {
  if (!isRolloutKind(kind)) throw new TypeError(`${kind} has no rollout to restart or watch`);
  return kind;
}

function appsResource(kind: AppsKind): ResourceType {
  const plural =
    kind === 'Deployment' ? 'deployments' : kind === 'StatefulSet' ? 'statefulsets' : 'daemonsets';
  return { group: 'apps', version: 'v1', plural };
}
