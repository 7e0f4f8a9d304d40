import {
  CustomObjectsClient,
  METADATA_ONLY_LIST,
  type ResourceType,
} from '../kubernetes/custom-objects-client';
import type { KubernetesTransport } from '../kubernetes/kubernetes-transport';
import { listAll, PAGE_SIZE } from '../kubernetes/paginate';

/** What the audit reads of a pod: who owns it and when it was created. Never its spec or env. */
export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly createdAt: Date;
  /** The controller that owns it (ReplicaSet, StatefulSet, DaemonSet, Job), if any. */
  readonly owner?: { readonly kind: string; readonly name: string };
  /** `pod-template-hash` (Deployments) or `rollouts-pod-template-hash` (Argo Rollouts). */
  readonly templateHash?: string;
  /** Being deleted: an old pod on its way out. */
  readonly terminating: boolean;
}

/** The one call the audit makes that the propagation engine does not: list a namespace's live pods. */
export interface PodLister {
  listPods(namespace: string): Promise<PodInfo[]>;
}

export const CORE_PODS: ResourceType = { group: '', version: 'v1', plural: 'pods' };
/**
 * Metadata only: the API server answers a PartialObjectMetadataList (names, owners, labels, times),
 * never a pod's spec (whose env[].value literals can hold credentials) or status.
 */
export const POD_METADATA_ONLY = METADATA_ONLY_LIST;
const LIVE_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

interface RawPod {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly creationTimestamp?: string;
    readonly deletionTimestamp?: string;
    readonly labels?: Record<string, string>;
    readonly ownerReferences?: readonly { kind?: string; name?: string; controller?: boolean }[];
  };
}

/**
 * Live pods over a cluster's transport, paginated, metadata only ({@link POD_METADATA_ONLY}; needs
 * `list` on pods: the orchestrator's ClusterRole grants it). A refusal is a KubernetesCallError with the HTTP status (403).
 * @example await kubernetesPodLister(transport).listPods('shop')
 */
export function kubernetesPodLister(transport: KubernetesTransport, pageSize = PAGE_SIZE): PodLister {
  const client = new CustomObjectsClient(transport);
  return {
    async listPods(namespace) {
      const items = await listAll(async (cont) => {
        const page = await client.list<RawPod>(CORE_PODS, {
          namespace,
          limit: pageSize,
          continue: cont,
          fieldSelector: LIVE_PODS,
          accept: POD_METADATA_ONLY,
        });
        return { items: page.items, metadata: { _continue: page.metadata?.continue } };
      });
      return items.map(toPodInfo);
    },
  };
}

function toPodInfo(pod: RawPod): PodInfo {
  const meta = pod.metadata ?? {};
  const owner = meta.ownerReferences?.find((ref) => ref.controller === true);
  const hash = meta.labels?.['pod-template-hash'] ?? meta.labels?.['rollouts-pod-template-hash'];
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    createdAt: new Date(meta.creationTimestamp ?? 0),
    ...(owner?.kind && owner.name ? { owner: { kind: owner.kind, name: owner.name } } : {}),
    ...(hash ? { templateHash: hash } : {}),
    terminating: meta.deletionTimestamp !== undefined,
  };
}
