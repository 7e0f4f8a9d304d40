import type { AwsSecretStore, ExternalSecret, ExternalSecretSyncStatus } from './eso-types';
import type { ObjectRef } from './object-ref';
import type { RolloutObservation } from './rollout-status';
import type { Workload, WorkloadKind } from './workload-types';

export type { ExternalSecretSyncStatus };

/** The Kubernetes calls propagation makes, and no others. Lists are paginated by the adapter. */
export interface ClusterPort {
  listExternalSecrets(): Promise<ExternalSecret[]>;
  listSecretStores(): Promise<AwsSecretStore[]>;
  /** Workloads with their rollout status, of every kind or only `kinds`. */
  listWorkloads(namespace: string, kinds?: readonly WorkloadKind[]): Promise<Workload[]>;
  /** Merge-patches annotations onto an ExternalSecret's metadata. */
  annotateExternalSecret(ref: ObjectRef, annotations: Record<string, string>): Promise<void>;
  /** Merge-patches annotations onto a ClusterExternalSecret's metadata. */
  annotateClusterExternalSecret(name: string, annotations: Record<string, string>): Promise<void>;
  getExternalSecretSync(ref: ObjectRef): Promise<ExternalSecretSyncStatus>;
  /** Merge-patches a workload (the restart patch), retrying on 409 conflicts. */
  patchWorkload(workload: ObjectRef, patch: object): Promise<void>;
  getRollout(workload: ObjectRef): Promise<RolloutObservation>;
  /**
   * A Namespace's annotations (one GET; the restart step reads `secret-rotator.io/restart-window`),
   * `undefined` when the Namespace does not exist.
   */
  getNamespaceAnnotations(namespace: string): Promise<Record<string, string> | undefined>;
  /** Rollout state of every workload of one kind in a namespace (one paginated list). */
  listRollouts(namespace: string, kind: WorkloadKind): Promise<Map<string, RolloutObservation>>;
}
