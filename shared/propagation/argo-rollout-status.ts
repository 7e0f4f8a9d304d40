/**
 * Whether an Argo Rollout (argoproj.io/v1alpha1) has finished a restart, by Argo Rollouts' own
 * rules (v1.9.0): `kubectl argo rollouts status` waits for the phase GetRolloutPhase returns
 * (pkg/kubectl-argo-rollouts/cmd/status/status.go: Healthy is done, Degraded is failed, anything
 * else goes on), and GetRolloutPhase (utils/rollout/rolloututil.go) trusts the controller's
 * status.phase once it has observed the spec, falling back to CalculateRolloutPhase for a status
 * without a phase. A restart (spec.restartAt) is done when the controller has replaced every older
 * pod and copied restartAt to status.restartedAt (rollout/restart.go, Reconcile → SetRestartedAt);
 * CalculateRolloutPhase reports "rollout is restarting" until then, and so do we.
 */
import type { RolloutState } from './rollout-status';

/** The Rollout spec fields the rules read (the pod template is read elsewhere). */
export interface ArgoRolloutSpec {
  readonly replicas?: number;
  readonly paused?: boolean;
  /** RFC 3339, whole seconds: when pods created earlier are to be replaced. */
  readonly restartAt?: string;
  readonly workloadRef?: { readonly apiVersion?: string; readonly kind?: string; readonly name?: string };
  readonly strategy?: {
    readonly canary?: { readonly trafficRouting?: object };
    readonly blueGreen?: { readonly postPromotionAnalysis?: object };
  };
}

/** The Rollout status fields the rules read, as the controller writes them. */
export interface ArgoRolloutStatus {
  /**
   * Argo writes a number as a string (v0.10 and later); parsed by the adapter, and left out when not
   * a number (v0.9's hashes), which GetRolloutPhase reads as observed, as it does an absent one.
   */
  readonly observedGeneration?: number;
  readonly phase?: string;
  readonly message?: string;
  readonly restartedAt?: string;
  readonly controllerPause?: boolean;
  readonly pauseConditions?: readonly { readonly reason?: string }[];
  readonly conditions?: readonly {
    readonly type: string;
    readonly reason?: string;
    readonly message?: string;
  }[];
  readonly replicas?: number;
  readonly updatedReplicas?: number;
  readonly availableReplicas?: number;
  readonly stableRS?: string;
  readonly currentPodHash?: string;
  readonly workloadObservedGeneration?: string;
  readonly blueGreen?: {
    readonly activeSelector?: string;
    readonly postPromotionAnalysisRunStatus?: { readonly status?: string };
  };
}

export interface ArgoRolloutObservation {
  readonly generation: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly spec: ArgoRolloutSpec;
  readonly status: ArgoRolloutStatus;
}

/** The Rollout annotation the controller keeps the referenced workload's generation in. */
export const WORKLOAD_GENERATION_ANNOTATION = 'rollout.argoproj.io/workload-generation';

/**
 * The restart's state: GetRolloutPhase's phase, read as the kubectl plugin's status command reads
 * it, with the restart itself checked too (status.restartedAt equal to spec.restartAt).
 * @example argoRolloutState({ generation: 2, spec: { restartAt }, status: { observedGeneration: '2', phase: 'Healthy', restartedAt: restartAt } })
 */
export function argoRolloutState(rollout: ArgoRolloutObservation): RolloutState {
  const { phase, message } = rolloutPhase(rollout);
  if (phase === 'Degraded') return { state: 'failed', message: message || 'rollout is degraded' };
  if (phase === 'Paused') return progressing(`rollout is paused${message ? ` (${message})` : ''}`);
  if (phase !== 'Healthy') return progressing(message || `phase ${phase || 'unknown'}`);
  // The controller computed Healthy for the generation it observed: restartAt is in that generation.
  if (restartPending(rollout.spec, rollout.status)) return progressing('rollout is restarting');
  return { state: 'done', message: 'rollout is healthy' };
}

/** GetRolloutPhase (utils/rollout/rolloututil.go). */
export function rolloutPhase(rollout: ArgoRolloutObservation): { phase: string; message: string } {
  const { generation, spec, status } = rollout;
  // isGenerationObserved: an absent or non-numeric value counts as observed, a higher one too.
  if (status.observedGeneration !== undefined && status.observedGeneration < generation) {
    return { phase: 'Progressing', message: 'waiting for rollout spec update to be observed' };
  }
  // IsUnpausing: pause conditions cleared, the controller not yet reacted.
  if (status.controllerPause && (status.pauseConditions?.length ?? 0) === 0) {
    return { phase: 'Progressing', message: 'waiting for rollout to unpause' };
  }
  // isWorkloadGenerationObserved, for a Rollout whose template comes from spec.workloadRef (the
  // controller's TemplateResolvedFromRef is not serialized; workloadRef is what sets it).
  const workloadGeneration = Number(rollout.annotations?.[WORKLOAD_GENERATION_ANNOTATION]);
  const workloadObserved = Number.parseInt(status.workloadObservedGeneration ?? '', 10);
  if (
    spec.workloadRef !== undefined &&
    Number.isInteger(workloadGeneration) &&
    Number.isInteger(workloadObserved) &&
    workloadObserved !== workloadGeneration
  ) {
    return {
      phase: 'Progressing',
      message: 'waiting for rollout spec update to be observed for the reference workload',
    };
  }
  if (status.phase) return { phase: status.phase, message: status.message ?? '' };
  return calculateRolloutPhase(spec, status);
}

/** CalculateRolloutPhase (utils/rollout/rolloututil.go), for a status the controller gave no phase. */
export function calculateRolloutPhase(
  spec: ArgoRolloutSpec,
  status: ArgoRolloutStatus,
): { phase: string; message: string } {
  for (const condition of status.conditions ?? []) {
    if (condition.type === 'InvalidSpec') {
      return { phase: 'Degraded', message: `InvalidSpec: ${condition.message ?? ''}` };
    }
    if (condition.reason === 'RolloutAborted' || condition.reason === 'ProgressDeadlineExceeded') {
      return { phase: 'Degraded', message: `${condition.reason}: ${condition.message ?? ''}` };
    }
  }
  if (spec.paused) return { phase: 'Paused', message: 'manually paused' };
  const pause = status.pauseConditions?.[0];
  if (pause) return { phase: 'Paused', message: pause.reason ?? '' };
  if (restartPending(spec, status)) return { phase: 'Progressing', message: 'rollout is restarting' };
  const replicas = spec.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < replicas) return { phase: 'Progressing', message: 'more replicas need to be updated' };
  if ((status.availableReplicas ?? 0) < updated) {
    return { phase: 'Progressing', message: 'updated replicas are still becoming available' };
  }
  const promoted = Boolean(status.stableRS) && status.stableRS === status.currentPodHash;
  if (spec.strategy?.blueGreen) {
    const active = status.blueGreen?.activeSelector;
    if (!active || active !== status.currentPodHash) {
      return { phase: 'Progressing', message: 'active service cutover pending' };
    }
    if (!promoted) {
      const analysis = status.blueGreen?.postPromotionAnalysisRunStatus?.status;
      const waiting =
        spec.strategy.blueGreen.postPromotionAnalysis !== undefined &&
        !['Successful', 'Failed', 'Error', 'Inconclusive'].includes(analysis ?? '');
      return {
        phase: 'Progressing',
        message: waiting
          ? 'waiting for analysis to complete'
          : 'waiting for post-promotion verification to complete',
      };
    }
  } else if (spec.strategy?.canary) {
    if (!spec.strategy.canary.trafficRouting && (status.replicas ?? 0) > updated) {
      return { phase: 'Progressing', message: 'old replicas are pending termination' };
    }
    if (!promoted) return { phase: 'Progressing', message: 'waiting for all steps to complete' };
  }
  return { phase: 'Healthy', message: '' };
}

/** spec.restartAt set and not yet copied to status.restartedAt (compared as instants, as Go's Equal). */
function restartPending(spec: ArgoRolloutSpec, status: ArgoRolloutStatus): boolean {
  if (spec.restartAt === undefined) return false;
  if (status.restartedAt === undefined) return true;
  return Date.parse(spec.restartAt) !== Date.parse(status.restartedAt);
}

function progressing(message: string): RolloutState {
  return { state: 'progressing', message };
}
