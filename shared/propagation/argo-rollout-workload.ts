/**
 * An Argo Rollout (argoproj.io/v1alpha1) as a consumer: its pod template is its own
 * (`spec.template`) or a Deployment's (`spec.workloadRef`, Argo's way to migrate a Deployment
 * without copying its template). With workloadRef, the Rollout is the consumer (found through the
 * Deployment's template, restarted with restartAt) and the Deployment is marked as its template,
 * never restarted itself: a change to that template is a new Rollout revision, a second rollout.
 * Only Deployments are followed; a workloadRef to another kind leaves the Rollout with no pod spec
 * (found by annotation only).
 */
import type { RolloutObservation } from './rollout-status';
import type { PodSpec, Workload } from './workload-types';

export const ARGO_ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

/** A Rollout as the API serves it, the parts read here. */
export interface ArgoRolloutObject {
  readonly metadata?: {
    readonly namespace?: string;
    readonly name?: string;
    readonly generation?: number;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: RolloutObservation['spec'] & {
    readonly template?: {
      readonly metadata?: { annotations?: Record<string, string> };
      readonly spec?: unknown;
    };
  };
  readonly status?: Omit<RolloutObservation['status'], 'observedGeneration'> & {
    readonly observedGeneration?: string | number;
  };
}

/** The status the rules read (argo-rollout-status.ts); Argo's string observedGeneration parsed. */
export function toArgoRollout(object: ArgoRolloutObject): RolloutObservation {
  const { template: _template, ...spec } = object.spec ?? {};
  const { observedGeneration, ...status } = object.status ?? {};
  const observed = typeof observedGeneration === 'number' ? observedGeneration : Number(observedGeneration);
  return {
    kind: 'Rollout',
    generation: object.metadata?.generation ?? 0,
    annotations: object.metadata?.annotations ?? {},
    spec,
    // Absent or not a number (v0.9's hashes): left out, which the rules read as observed, as Argo does.
    status:
      observedGeneration !== '' && Number.isInteger(observed)
        ? { ...status, observedGeneration: observed }
        : status,
  };
}

/**
 * The Rollout as a workload. Paused when `spec.paused` or while a pause condition holds (a canary
 * step or analysis waiting for promotion): a restart would replace the pods, but the Rollout is not
 * Healthy again before someone promotes it, so it is refused up front, as a paused Deployment is.
 */
export function argoRolloutWorkload(object: ArgoRolloutObject): Workload {
  const ref = object.spec?.workloadRef;
  const template = object.spec?.template;
  const rollout = toArgoRollout(object);
  return {
    kind: 'Rollout',
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    annotations: object.metadata?.annotations ?? {},
    podTemplateAnnotations: template?.metadata?.annotations ?? {},
    podSpec: (template?.spec ?? {}) as PodSpec,
    paused: object.spec?.paused === true || (object.status?.pauseConditions?.length ?? 0) > 0,
    rollout,
    ...(ref?.kind === 'Deployment' && ref.name ? { workloadRef: ref.name } : {}),
  };
}

/**
 * Links Rollouts to the Deployments their workloadRef names, in one namespace: each such Rollout
 * takes the Deployment's pod spec and template annotations, and each such Deployment in `workloads`
 * is marked `templateOfRollout`. `moreDeployments` are looked in too, not returned.
 */
export function linkWorkloadRefs(
  workloads: readonly Workload[],
  moreDeployments: readonly Workload[] = [],
): Workload[] {
  const refs = new Map<string, string>();
  for (const w of workloads) if (w.workloadRef !== undefined) refs.set(w.workloadRef, w.name);
  if (refs.size === 0) return [...workloads];
  const deployments = new Map(
    [...moreDeployments, ...workloads].filter((w) => w.kind === 'Deployment').map((w) => [w.name, w]),
  );
  return workloads.map((w) => {
    if (w.workloadRef !== undefined) {
      const deployment = deployments.get(w.workloadRef);
      return deployment
        ? { ...w, podSpec: deployment.podSpec, podTemplateAnnotations: deployment.podTemplateAnnotations }
        : w;
    }
    const rollout = w.kind === 'Deployment' ? refs.get(w.name) : undefined;
    return rollout === undefined ? w : { ...w, templateOfRollout: rollout };
  });
}
