import { ANNOTATIONS, listAnnotation, RELOADER_ANNOTATIONS } from './consumer-annotations';
import type { ContainerSpec, PodSpec, Workload } from './workload-types';

export type ConsumerVia =
  | 'env'
  | 'envFrom'
  | 'volume'
  | 'projected-volume'
  | 'annotation'
  | 'reloader-annotation';

/** Why a workload was chosen: which Kubernetes Secret it uses, and how. */
export interface ConsumerReason {
  readonly secret: string;
  readonly via: ConsumerVia;
  /** The container or volume that holds the reference. */
  readonly where?: string;
}

export interface ConsumerMatch {
  readonly workload: Workload;
  readonly reasons: readonly ConsumerReason[];
}

export interface ConsumerSkip {
  readonly workload: Workload;
  readonly why: string;
}

export interface ConsumerPlan {
  readonly consumers: readonly ConsumerMatch[];
  readonly skipped: readonly ConsumerSkip[];
}

export interface FindConsumersOptions {
  /** Only workloads that opt in by annotation (ours or Reloader's) are restarted. Default false. */
  readonly requireOptIn?: boolean;
}

/**
 * The workloads in one namespace that consume any of `secretNames` (Kubernetes Secrets written by
 * the affected ExternalSecrets), with the reasons each was chosen, and those deliberately skipped.
 * @example findConsumers(new Set(['db-creds']), workloadsInNamespace)
 */
export function findConsumers(
  secretNames: ReadonlySet<string>,
  workloads: readonly Workload[],
  options: FindConsumersOptions = {},
): ConsumerPlan {
  const consumers: ConsumerMatch[] = [];
  const skipped: ConsumerSkip[] = [];
  for (const workload of workloads) {
    const references = referencesIn(workload.podSpec).filter((reason) => secretNames.has(reason.secret));
    const annotated = annotationReasons(workload, secretNames);
    const reasons = [...references, ...annotated];
    if (reasons.length === 0) continue;
    if (workload.annotations[ANNOTATIONS.ignore] === 'true') {
      skipped.push({ workload, why: `annotated ${ANNOTATIONS.ignore}=true` });
    } else if (options.requireOptIn && annotated.length === 0 && !reloaderAuto(workload)) {
      skipped.push({ workload, why: 'references the secret but has no opt-in annotation (requireOptIn)' });
    } else {
      consumers.push({ workload, reasons });
    }
  }
  return { consumers, skipped };
}

/** Every Kubernetes Secret a pod spec references, in containers, init containers and volumes. */
export function referencesIn(podSpec: PodSpec): ConsumerReason[] {
  const containers = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
  const reasons = containers.flatMap(containerReferences);
  for (const volume of podSpec.volumes ?? []) {
    if (volume.secret?.secretName) {
      reasons.push({ secret: volume.secret.secretName, via: 'volume', where: volume.name });
    }
    for (const source of volume.projected?.sources ?? []) {
      if (source.secret?.name)
        reasons.push({ secret: source.secret.name, via: 'projected-volume', where: volume.name });
    }
  }
  return reasons;
}

function containerReferences(container: ContainerSpec): ConsumerReason[] {
  const reasons: ConsumerReason[] = [];
  for (const env of container.env ?? []) {
    const name = env.valueFrom?.secretKeyRef?.name;
    if (name) reasons.push({ secret: name, via: 'env', where: container.name });
  }
  for (const source of container.envFrom ?? []) {
    const name = source.secretRef?.name;
    if (name) reasons.push({ secret: name, via: 'envFrom', where: container.name });
  }
  return reasons;
}

function annotationReasons(workload: Workload, secretNames: ReadonlySet<string>): ConsumerReason[] {
  const ours = listAnnotation(workload.annotations[ANNOTATIONS.secrets])
    .filter((name) => secretNames.has(name))
    .map((secret): ConsumerReason => ({ secret, via: 'annotation' }));
  const reloader = listAnnotation(workload.annotations[RELOADER_ANNOTATIONS.secretReload])
    .filter((name) => secretNames.has(name))
    .map((secret): ConsumerReason => ({ secret, via: 'reloader-annotation' }));
  return [...ours, ...reloader];
}

function reloaderAuto(workload: Workload): boolean {
  return (
    workload.annotations[RELOADER_ANNOTATIONS.auto] === 'true' ||
    workload.annotations[RELOADER_ANNOTATIONS.secretAuto] === 'true'
  );
}
