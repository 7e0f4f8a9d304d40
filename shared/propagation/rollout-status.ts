import { type ArgoRolloutSpec, type ArgoRolloutStatus, argoRolloutState } from './argo-rollout-status';
import type { RolloutKind } from './workload-types';

/**
 * The status fields kubectl's rollout status reads (apps/v1), and for an Argo Rollout those its
 * status rules read (argo-rollout-status.ts).
 */
export interface RolloutObservation {
  readonly kind: RolloutKind;
  readonly generation: number;
  /** Argo Rollouts only: the Rollout's metadata annotations (the referenced workload's generation). */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly spec: ArgoRolloutSpec & {
    readonly replicas?: number;
    readonly updateStrategy?: {
      readonly type?: string;
      readonly rollingUpdate?: { readonly partition?: number };
    };
  };
  readonly status: ArgoRolloutStatus & {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly readyReplicas?: number;
    readonly availableReplicas?: number;
    readonly currentRevision?: string;
    readonly updateRevision?: string;
    readonly desiredNumberScheduled?: number;
    readonly updatedNumberScheduled?: number;
    readonly numberAvailable?: number;
    readonly conditions?: readonly { readonly type: string; readonly reason?: string }[];
  };
}

export type RolloutState =
  | { readonly state: 'done'; readonly message: string }
  | { readonly state: 'progressing'; readonly message: string }
  | { readonly state: 'failed'; readonly message: string };

/**
 * Whether a rollout has finished, by the rules of `kubectl rollout status`
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), or for an Argo Rollout of
 * `kubectl argo rollouts status` (argo-rollout-status.ts), one decision per call.
 */
export function rolloutState(observation: RolloutObservation): RolloutState {
  switch (observation.kind) {
    case 'Deployment':
      return deploymentState(observation);
    case 'StatefulSet':
      return statefulSetState(observation);
    case 'DaemonSet':
      return daemonSetState(observation);
    case 'Rollout':
      return argoRolloutState(observation);
  }
}

function deploymentState({ generation, spec, status }: RolloutObservation): RolloutState {
  if (generation > (status.observedGeneration ?? 0)) {
    return progressing('waiting for the deployment spec update to be observed');
  }
  if (status.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) {
    return { state: 'failed', message: 'deployment exceeded its progress deadline' };
  }
  const updated = status.updatedReplicas ?? 0;
  if (spec.replicas !== undefined && updated < spec.replicas) {
    return progressing(`${updated} out of ${spec.replicas} new replicas have been updated`);
  }
  if ((status.replicas ?? 0) > updated) {
    return progressing(`${(status.replicas ?? 0) - updated} old replicas are pending termination`);
  }
  if ((status.availableReplicas ?? 0) < updated) {
    return progressing(`${status.availableReplicas ?? 0} of ${updated} updated replicas are available`);
  }
  return { state: 'done', message: 'successfully rolled out' };
}

function statefulSetState({ generation, spec, status }: RolloutObservation): RolloutState {
  if (spec.updateStrategy?.type !== undefined && spec.updateStrategy.type !== 'RollingUpdate') {
    return { state: 'failed', message: `update strategy ${spec.updateStrategy.type} does not roll out pods` };
  }
  if (!status.observedGeneration || generation > status.observedGeneration) {
    return progressing('waiting for the statefulset spec update to be observed');
  }
  if (spec.replicas !== undefined && (status.readyReplicas ?? 0) < spec.replicas) {
    return progressing(`${status.readyReplicas ?? 0} of ${spec.replicas} pods are ready`);
  }
  const partition = spec.updateStrategy?.rollingUpdate?.partition;
  if (partition !== undefined && spec.replicas !== undefined && partition > 0) {
    const expected = spec.replicas - partition;
    if ((status.updatedReplicas ?? 0) < expected) {
      return progressing(
        `${status.updatedReplicas ?? 0} of ${expected} pods updated (partition ${partition})`,
      );
    }
    return { state: 'done', message: `partitioned roll out complete: ${expected} new pods` };
  }
  if (status.updateRevision !== status.currentRevision) {
    return progressing(`${status.updatedReplicas ?? 0} pods at revision ${status.updateRevision}`);
  }
  return { state: 'done', message: 'rolling update complete' };
}

function daemonSetState({ generation, spec, status }: RolloutObservation): RolloutState {
  if (spec.updateStrategy?.type !== undefined && spec.updateStrategy.type !== 'RollingUpdate') {
    return { state: 'failed', message: `update strategy ${spec.updateStrategy.type} does not roll out pods` };
  }
  if (generation > (status.observedGeneration ?? 0)) {
    return progressing('waiting for the daemon set spec update to be observed');
  }
  const desired = status.desiredNumberScheduled ?? 0;
  if ((status.updatedNumberScheduled ?? 0) < desired) {
    return progressing(`${status.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated`);
  }
  if ((status.numberAvailable ?? 0) < desired) {
    return progressing(`${status.numberAvailable ?? 0} of ${desired} updated pods are available`);
  }
  return { state: 'done', message: 'successfully rolled out' };
}

/**
 * Whether no pod of an older template is left and at least one pod of the current one is
 * available: what a restart delivers, whatever availability the workload has lost since. Read past
 * the rollout deadline only, where `rolloutState` alone cannot tell a rollout that never finished
 * from one that finished and then lost pods (an HPA scale-up, an eviction, a node drained).
 */
export function templateRolledOut({ kind, generation, spec, status }: RolloutObservation): boolean {
  if (generation > (status.observedGeneration ?? 0)) return false;
  switch (kind) {
    case 'Deployment': {
      const updated = status.updatedReplicas ?? 0;
      return (status.replicas ?? 0) <= updated && (status.availableReplicas ?? 0) > 0;
    }
    case 'StatefulSet':
      // The controller makes currentRevision the updateRevision only once every replica is updated
      // and ready (completeRollingUpdate, k8s.io/kubernetes v1.36 stateful_set_utils.go).
      // It keeps that after pods crash, so one must still be ready.
      return (
        (spec.updateStrategy?.rollingUpdate?.partition ?? 0) === 0 &&
        status.updateRevision !== undefined &&
        status.currentRevision === status.updateRevision &&
        (status.readyReplicas ?? 0) > 0
      );
    case 'DaemonSet':
      return (
        (status.updatedNumberScheduled ?? 0) >= (status.desiredNumberScheduled ?? 0) &&
        (status.numberAvailable ?? 0) > 0
      );
    case 'Rollout':
      return false;
  }
}

function progressing(message: string): RolloutState {
  return { state: 'progressing', message };
}
