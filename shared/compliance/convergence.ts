import type { ExternalSecret } from '../propagation/eso-types';
import type { PropagationPlan } from '../propagation/propagation-plan';
import type { ReplicaVerdict } from '../propagation/replica-sync';
import type { Workload } from '../propagation/workload-types';
import type { PodInfo } from './pod-lister';

/** Whether an ExternalSecret has written the AWSCURRENT version into its Secret, from its status. */
export type SyncState =
  /** Ready and refreshed since AWSCURRENT moved. */
  | 'synced'
  /** Its last refresh is older than the move. */
  | 'stale'
  /** Ready=False: ESO cannot sync it. */
  | 'failing'
  /** CreatedOnce or refreshInterval 0: ESO will never write the new version. */
  | 'not-refreshing'
  /**
   * It reads the secret through a store in a replica region whose replica does not hold the version
   * as AWSCURRENT: a refresh there loaded the old value, whatever its time.
   */
  | 'replica-behind';

export interface SyncAudit {
  readonly state: SyncState;
  readonly refreshTime?: string;
  /**
   * Pods created before this run an older value: the refresh that wrote the new version. It is
   * ESO's last refresh when that can only be the first since the move (one refresh interval
   * reaches back before it), else the move itself (`approximate`: ESO has refreshed again since).
   */
  readonly since?: string;
  readonly approximate?: boolean;
  readonly reason?: string;
  /** The replica regions it reads the secret in (empty or absent: the primary only). */
  readonly replicaRegions?: readonly string[];
}

export type ConsumerState = 'converged' | 'lagging' | 'no-pods' | 'next-run' | 'waiting-for-sync';

export interface ConsumerAudit {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly state: ConsumerState;
  readonly pods: number;
  /** Names of pods older than the sync, at most {@link MAX_NAMED_PODS}. */
  readonly laggingPods: readonly string[];
  readonly laggingCount: number;
  /** Why the propagation leaves it alone (opted out, …): it still runs the Secret's old value. */
  readonly skipped?: string;
}

export interface ExternalSecretAudit {
  readonly namespace: string;
  readonly name: string;
  readonly targetSecret: string;
  readonly sync: SyncAudit;
  readonly consumers: readonly ConsumerAudit[];
}

export const MAX_NAMED_PODS = 10;
const DEFAULT_REFRESH_MS = 3_600_000; // ESO's default refreshInterval

/**
 * Judges convergence in one cluster, from data already read: the planner's ExternalSecrets and
 * consumers, the pods of their namespaces, when AWSCURRENT moved, and what each replica region holds
 * (as the workflow's replica check judges it; a region missing from `replicas` counts as behind).
 * An ExternalSecret reading a replica is synced only once every replica it reads holds the version
 * as AWSCURRENT. Pure: no calls, no values.
 * @example auditConvergence(plan, podsByNamespace, new Date('2026-12-01T10:00:00Z'), new Map())
 */
export function auditConvergence(
  plan: PropagationPlan,
  pods: ReadonlyMap<string, readonly PodInfo[]>,
  movedAt: Date,
  replicas: ReadonlyMap<string, ReplicaVerdict> = new Map(),
): ExternalSecretAudit[] {
  const targets = [...plan.resync, ...plan.notRefreshing];
  return targets.map((target) => {
    const es = target.affected.externalSecret;
    const regions = target.affected.replicaRegions ?? [];
    const sync = withReplicas(
      syncAudit(es, target.affected.refresh !== 'refreshes', movedAt),
      regions,
      replicas,
    );
    const inNamespace = pods.get(es.namespace) ?? [];
    const consumers = [
      ...target.consumers.map((c) => consumerAudit(c.workload, inNamespace, sync)),
      ...target.skipped.map((s) => ({ ...consumerAudit(s.workload, inNamespace, sync), skipped: s.why })),
    ];
    return {
      namespace: es.namespace,
      name: es.name,
      targetSecret: target.affected.targetSecret,
      sync,
      consumers,
    };
  });
}

/** True when anything in the audit lags behind AWSCURRENT. */
export function lags(audits: readonly ExternalSecretAudit[]): boolean {
  return audits.some(
    (a) =>
      a.sync.state !== 'synced' ||
      a.consumers.some((c) => c.state === 'lagging' || c.state === 'waiting-for-sync'),
  );
}

/** A synced (or stale) ExternalSecret reading a replica that lacks the version is `replica-behind`. */
function withReplicas(
  sync: SyncAudit,
  regions: readonly string[],
  replicas: ReadonlyMap<string, ReplicaVerdict>,
): SyncAudit {
  if (regions.length === 0) return sync;
  const behind = regions.flatMap((region) => {
    const verdict = replicas.get(region) ?? { state: 'lagging', detail: 'not looked at' };
    return verdict.state === 'current'
      ? []
      : [`the replica in ${region} lacks the version (${verdict.detail})`];
  });
  if (behind.length === 0 || sync.state === 'failing' || sync.state === 'not-refreshing')
    return { ...sync, replicaRegions: regions };
  return {
    state: 'replica-behind',
    refreshTime: sync.refreshTime,
    reason: behind.join('; '),
    replicaRegions: regions,
  };
}

function syncAudit(es: ExternalSecret, notRefreshing: boolean, movedAt: Date): SyncAudit {
  const status = es.syncStatus ?? {};
  const refreshTime = status.refreshTime;
  if (notRefreshing)
    return {
      state: 'not-refreshing',
      refreshTime,
      reason: 'ESO will not refresh it (CreatedOnce or refreshInterval 0)',
    };
  if (status.ready?.status === 'False') {
    return { state: 'failing', refreshTime, reason: status.ready.reason ?? 'not ready' };
  }
  // ESO writes refreshTime in whole seconds: a refresh in the second of the move counts as after it.
  const refreshed = refreshTime ? Date.parse(refreshTime) : Number.NaN;
  if (status.ready?.status !== 'True' || !(refreshed >= wholeSecond(movedAt.getTime()))) {
    return { state: 'stale', refreshTime, reason: 'no refresh since AWSCURRENT moved' };
  }
  const interval = goDurationMs(es.spec.refreshInterval) ?? DEFAULT_REFRESH_MS;
  const first = refreshed - interval < movedAt.getTime();
  return first
    ? { state: 'synced', refreshTime, since: refreshTime }
    : { state: 'synced', refreshTime, since: movedAt.toISOString(), approximate: true };
}

function consumerAudit(workload: Workload, pods: readonly PodInfo[], sync: SyncAudit): ConsumerAudit {
  const base = { kind: workload.kind, namespace: workload.namespace, name: workload.name };
  if (workload.kind === 'CronJob')
    return { ...base, state: 'next-run', pods: 0, laggingPods: [], laggingCount: 0 };
  const own = pods.filter((pod) => ownedBy(pod, workload));
  const since = sync.since ? Date.parse(sync.since) : undefined;
  // creationTimestamp and refreshTime are whole seconds: a pod created in the sync's second counts
  // as after it (the restart that follows a sync lands there too).
  const lagging =
    since === undefined ? own : own.filter((pod) => pod.createdAt.getTime() < wholeSecond(since));
  const state: ConsumerState =
    own.length === 0
      ? 'no-pods'
      : since === undefined
        ? 'waiting-for-sync'
        : lagging.length > 0
          ? 'lagging'
          : 'converged';
  return {
    ...base,
    state,
    pods: own.length,
    laggingPods: lagging.slice(0, MAX_NAMED_PODS).map((pod) => pod.name),
    laggingCount: lagging.length,
  };
}

/** A pod belongs to a workload through its controller: a ReplicaSet named `<name>-<template hash>` for Deployments and Rollouts. */
function ownedBy(pod: PodInfo, workload: Workload): boolean {
  const owner = pod.owner;
  switch (workload.kind) {
    case 'Deployment':
    case 'Rollout':
      return (
        owner?.kind === 'ReplicaSet' &&
        pod.templateHash !== undefined &&
        owner.name === `${workload.name}-${pod.templateHash}`
      );
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return owner?.kind === workload.kind && owner.name === workload.name;
    case 'Pod':
      return owner === undefined && pod.name === workload.name;
    default:
      return false;
  }
}

function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

const GO_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`1h`, `15m`, `1h30m`, `0`) in ms; undefined when absent or unreadable. */
export function goDurationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((ms, p) => ms + Number(p[1]) * (GO_UNITS[p[2] ?? ''] ?? 0), 0);
}
