import type { ExternalSecretTarget } from './propagation-plan';
import type { ObjectRef, Workload } from './workload-types';

export interface PropagateOptions {
  /** Workloads restarted at once (one wave). */
  readonly concurrency: number;
  readonly syncTimeoutMs: number;
  readonly rolloutTimeoutMs: number;
  readonly pollIntervalMs: number;
  /** Kubernetes API calls in flight at once. @default 32 */
  readonly apiConcurrency?: number;
  readonly now?: () => Date;
}

export type ProgressEvent =
  | { readonly type: 'resync-requested'; readonly count: number }
  | { readonly type: 'sync-confirmed'; readonly ref: ObjectRef }
  | { readonly type: 'sync-failed'; readonly ref: ObjectRef; readonly reason: string }
  | {
      readonly type: 'wave-started';
      readonly wave: number;
      readonly waves: number;
      readonly workloads: ObjectRef[];
    }
  | { readonly type: 'rollout-done'; readonly ref: ObjectRef }
  | { readonly type: 'rollout-failed'; readonly ref: ObjectRef; readonly reason: string }
  | { readonly type: 'waiting'; readonly what: string; readonly pending: number; readonly elapsedMs: number };

export interface PropagationReport {
  readonly synced: ObjectRef[];
  readonly syncFailed: { ref: ObjectRef; reason: string }[];
  readonly notRefreshing: ObjectRef[];
  readonly restarted: ObjectRef[];
  readonly alreadyRestarted: ObjectRef[];
  readonly refused: { ref: ObjectRef; reason: string }[];
  readonly rolloutFailed: { ref: ObjectRef; reason: string }[];
  /** Workloads of waves that never started because an earlier wave failed. */
  readonly notStarted: ObjectRef[];
  readonly outcome: 'succeeded' | 'failed';
  /** Wall time per phase: the engine's own work (resync, restart) apart from waiting on ESO and rollouts. */
  readonly timings: { resyncMs: number; confirmMs: number; restartMs: number; verifyMs: number };
}

/** Kubernetes API calls in flight at once, unless the options say otherwise. */
export const DEFAULT_API_CONCURRENCY = 32;

export function apiConcurrencyOf(options: PropagateOptions): number {
  return options.apiConcurrency ?? DEFAULT_API_CONCURRENCY;
}

export function esRef(target: ExternalSecretTarget): ObjectRef {
  const es = target.affected.externalSecret;
  return { kind: 'ExternalSecret', namespace: es.namespace, name: es.name };
}

export function workloadRef(workload: Workload): ObjectRef {
  return { kind: workload.kind, namespace: workload.namespace, name: workload.name };
}
