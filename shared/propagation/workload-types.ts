/**
 * The parts of Kubernetes workloads the planner reads. Shapes follow the core/v1 and apps/v1 API;
 * every field is optional because the API omits empty ones.
 */
import type { RolloutObservation } from './rollout-status';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

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
  /** Its rollout status, when read from a list (the adapter fills it in). */
  readonly rollout?: RolloutObservation;
}
