/**
 * The API server's objects as the propagation sees them: workloads with their pod templates and
 * rollout status, ExternalSecrets with their sync status, AWS stores. Pure mappers from plain JSON,
 * no calls (the adapter, kubernetes-adapter.ts, reads and writes).
 */
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { ExternalSecretSyncStatus } from '../propagation/cluster-port';
import type { AwsSecretStore, ExternalSecret, ExternalSecretSpec } from '../propagation/eso-types';
import type { RolloutObservation } from '../propagation/rollout-status';
import type { AppsKind, PodSpec, Workload, WorkloadKind } from '../propagation/workload-types';

export type AppsObject = V1Deployment | V1StatefulSet | V1DaemonSet;
export interface RawObject {
  metadata?: {
    namespace?: string;
    name?: string;
    generation?: number;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export function toExternalSecret(item: RawObject, apiVersion: string): ExternalSecret {
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

export function toSyncStatus(item: RawObject): ExternalSecretSyncStatus {
  const status = (item.status ?? {}) as {
    refreshTime?: string;
    syncedResourceVersion?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
  const ready = status.conditions?.find((condition) => condition.type === 'Ready');
  return { refreshTime: status.refreshTime, syncedResourceVersion: status.syncedResourceVersion, ready };
}

export function toAwsStore(item: RawObject, kind: AwsSecretStore['kind']): AwsSecretStore[] {
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

export function controlled(item: RawObject): boolean {
  return item.metadata?.ownerReferences?.some((ref) => ref.controller === true) ?? false;
}

export function finishedJob(item: RawObject): boolean {
  const conditions = (item.status?.conditions ?? []) as { type?: string; status?: string }[];
  return conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** A workload that has no rollout: its pod spec and annotations, from wherever its kind keeps them. */
function templateWorkload(
  kind: WorkloadKind,
  item: RawObject,
  template: { metadata?: { annotations?: Record<string, string> }; spec?: unknown } | undefined,
): Workload {
  return {
    kind,
    namespace: item.metadata?.namespace ?? '',
    name: item.metadata?.name ?? '',
    annotations: item.metadata?.annotations ?? {},
    podTemplateAnnotations: template?.metadata?.annotations ?? {},
    podSpec: (template?.spec ?? {}) as PodSpec,
  };
}

type PodTemplate = { metadata?: { annotations?: Record<string, string> }; spec?: unknown };

export function cronJobWorkload(item: RawObject): Workload {
  const spec = item.spec as
    | { suspend?: boolean; jobTemplate?: { spec?: { template?: PodTemplate } } }
    | undefined;
  return {
    ...templateWorkload('CronJob', item, spec?.jobTemplate?.spec?.template),
    suspended: spec?.suspend === true,
  };
}

export function jobWorkload(item: RawObject): Workload {
  return templateWorkload('Job', item, (item.spec as { template?: PodTemplate } | undefined)?.template);
}

export function podWorkload(item: RawObject): Workload {
  return templateWorkload('Pod', item, { metadata: item.metadata, spec: item.spec });
}

export function toRollout(kind: AppsKind, object: AppsObject): RolloutObservation {
  return {
    kind,
    generation: object.metadata?.generation ?? 0,
    spec: object.spec as RolloutObservation['spec'],
    status: (object.status ?? {}) as RolloutObservation['status'],
  };
}

export function toWorkload(kind: AppsKind, object: AppsObject): Workload {
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
