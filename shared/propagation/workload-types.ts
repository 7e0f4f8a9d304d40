/**
 * The parts of Kubernetes workloads the planner reads. Shapes follow the core/v1, apps/v1, batch/v1
 * and Argo Rollouts' argoproj.io/v1alpha1 API; every field is optional because the API omits empty ones.
 */
import type { RolloutObservation } from './rollout-status';

/** The apps/v1 kinds that roll out a new pod template: restarted and verified by kubectl's rules. */
export type AppsKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/**
 * Kinds that are restarted and verified: the apps/v1 ones, and Argo Rollouts' Rollout (restarted
 * with spec.restartAt, verified by its own status rules: argo-rollout-status.ts).
 */
export type RolloutKind = AppsKind | 'Rollout';

/**
 * Every kind of consumer. CronJobs, Jobs and bare Pods (no controlling owner) are reported as
 * picking the value up on their next pod: never restarted, never counted as verified rollouts.
 */
export type WorkloadKind = RolloutKind | 'CronJob' | 'Job' | 'Pod';

export const APPS_KINDS: readonly AppsKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
export const ROLLOUT_KINDS: readonly RolloutKind[] = [...APPS_KINDS, 'Rollout'];
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [...ROLLOUT_KINDS, 'CronJob', 'Job', 'Pod'];

export function isRolloutKind(kind: string): kind is RolloutKind {
  return (ROLLOUT_KINDS as readonly string[]).includes(kind);
}

interface SecretKeySelector {
  readonly name?: string;
}

export interface ContainerSpec {
  readonly name: string;
  readonly env?: readonly {
    readonly name: string;
    readonly valueFrom?: { readonly secretKeyRef?: SecretKeySelector };
  }[];
  readonly envFrom?: readonly { readonly secretRef?: SecretKeySelector }[];
}

export interface VolumeSpec {
  readonly name: string;
  readonly secret?: { readonly secretName?: string };
  readonly projected?: { readonly sources?: readonly { readonly secret?: SecretKeySelector }[] };
}

export interface PodSpec {
  readonly containers?: readonly ContainerSpec[];
  readonly initContainers?: readonly ContainerSpec[];
  readonly volumes?: readonly VolumeSpec[];
}

export interface Workload {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly podTemplateAnnotations: Readonly<Record<string, string>>;
  readonly podSpec: PodSpec;
  readonly paused?: boolean;
  /** CronJobs only: `spec.suspend`. */
  readonly suspended?: boolean;
  /** Its rollout status, when read from a list (the adapter fills it in; rollout kinds only). */
  readonly rollout?: RolloutObservation;
  /**
   * A Deployment whose pod template an Argo Rollout runs (the Rollout's `spec.workloadRef`): the
   * Rollout's name. Never restarted itself: a change to its template starts a new Rollout revision.
   */
  readonly templateOfRollout?: string;
  /**
   * An Argo Rollout whose pod template is a Deployment's (`spec.workloadRef`): that Deployment's
   * name. Its podSpec and podTemplateAnnotations are the Deployment's once linked.
   */
  readonly workloadRef?: string;
}
