import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithLimit } from '../concurrency';
import type { ClusterPort } from '../kubernetes/cluster-port';
import { confirmSync } from './confirm-sync';
import { ANNOTATIONS } from './consumer-annotations';
import { planRestarts } from './plan-restarts';
import type { ExternalSecretTarget, PropagationPlan } from './propagation-plan';
import { type RolloutState, rolloutState } from './rollout-status';
import type { ObjectRef, Workload, WorkloadKind } from './workload-types';

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

const ES_KIND = 'ExternalSecret';
const DEFAULT_API_CONCURRENCY = 32;

/**
 * Carries a planned secret version through one cluster: annotate every refreshable ExternalSecret,
 * wait until ESO confirms each sync, then restart the consumers of confirmed ones in waves and
 * wait for each wave's rollouts. A failed sync means no restarts for its consumers; a failed
 * rollout stops later waves.
 */
export async function propagate(
  cluster: ClusterPort,
  plan: PropagationPlan,
  options: PropagateOptions,
  onProgress: (event: ProgressEvent) => void = () => {},
): Promise<PropagationReport> {
  const now = options.now ?? (() => new Date());
  const report: PropagationReport = {
    synced: [],
    syncFailed: [],
    notRefreshing: plan.notRefreshing.map((t) => esRef(t)),
    restarted: [],
    alreadyRestarted: [],
    refused: [],
    rolloutFailed: [],
    notStarted: [],
    outcome: 'succeeded',
    timings: { resyncMs: 0, confirmMs: 0, restartMs: 0, verifyMs: 0 },
  };
  const clock = phaseClock(report.timings);
  const apiConcurrency = options.apiConcurrency ?? DEFAULT_API_CONCURRENCY;
  const annotatedAt = now();
  const marker = `${plan.versionId}@${annotatedAt.toISOString()}`;
  await requestResync(cluster, plan.resync, { [ANNOTATIONS.forceSync]: marker }, apiConcurrency);
  clock.lap('resyncMs');
  onProgress({ type: 'resync-requested', count: plan.resync.length });

  const confirmed = await confirmSyncs(cluster, plan.resync, annotatedAt, options, report, onProgress);
  clock.lap('confirmMs');
  const restartPlan = planRestarts(
    confirmed.flatMap((t) => t.consumers),
    { secretName: plan.secret.name, versionId: plan.versionId },
    { concurrency: options.concurrency, now: now() },
  );
  report.alreadyRestarted.push(...restartPlan.alreadyRestarted.map(workloadRef));
  report.refused.push(...restartPlan.refused.map((r) => ({ ref: workloadRef(r.workload), reason: r.why })));

  for (const [index, wave] of restartPlan.waves.entries()) {
    const refs = wave.map((r) => workloadRef(r.workload));
    if (report.rolloutFailed.length > 0) {
      report.notStarted.push(...refs);
      continue;
    }
    onProgress({ type: 'wave-started', wave: index + 1, waves: restartPlan.waves.length, workloads: refs });
    clock.lap('restartMs');
    await mapWithLimit(wave, apiConcurrency, (r) => cluster.patchWorkload(workloadRef(r.workload), r.patch));
    report.restarted.push(...refs);
    clock.lap('restartMs');
    await verifyRollouts(cluster, refs, options, report, onProgress);
    clock.lap('verifyMs');
  }
  const failed = report.syncFailed.length + report.rolloutFailed.length + report.refused.length > 0;
  return { ...report, outcome: failed ? 'failed' : 'succeeded' };
}

async function confirmSyncs(
  cluster: ClusterPort,
  targets: readonly ExternalSecretTarget[],
  annotatedAt: Date,
  options: PropagateOptions,
  report: PropagationReport,
  onProgress: (event: ProgressEvent) => void,
): Promise<ExternalSecretTarget[]> {
  const confirmed: ExternalSecretTarget[] = [];
  let pending = [...targets];
  const started = Date.now();
  while (pending.length > 0) {
    const statuses = await mapWithLimit(pending, options.apiConcurrency ?? DEFAULT_API_CONCURRENCY, (t) =>
      cluster.getExternalSecretSync(esRef(t)),
    );
    const still: ExternalSecretTarget[] = [];
    pending.forEach((target, index) => {
      const verdict = confirmSync(
        target.affected.externalSecret.syncStatus ?? {},
        statuses[index] ?? {},
        annotatedAt,
      );
      if (verdict.verdict === 'synced') {
        confirmed.push(target);
        report.synced.push(esRef(target));
        onProgress({ type: 'sync-confirmed', ref: esRef(target) });
      } else if (verdict.verdict === 'failed') {
        report.syncFailed.push({ ref: esRef(target), reason: verdict.reason });
        onProgress({ type: 'sync-failed', ref: esRef(target), reason: verdict.reason });
      } else still.push(target);
    });
    pending = still;
    if (pending.length === 0) break;
    const elapsedMs = Date.now() - started;
    if (elapsedMs > options.syncTimeoutMs) {
      for (const target of pending) {
        const reason = `ESO did not confirm a sync within ${Math.round(options.syncTimeoutMs / 1000)} s`;
        report.syncFailed.push({ ref: esRef(target), reason });
        onProgress({ type: 'sync-failed', ref: esRef(target), reason });
      }
      break;
    }
    onProgress({ type: 'waiting', what: 'ESO syncs', pending: pending.length, elapsedMs });
    await sleep(options.pollIntervalMs);
  }
  return confirmed;
}

async function verifyRollouts(
  cluster: ClusterPort,
  refs: readonly ObjectRef[],
  options: PropagateOptions,
  report: PropagationReport,
  onProgress: (event: ProgressEvent) => void,
): Promise<void> {
  let pending = [...refs];
  const started = Date.now();
  while (pending.length > 0) {
    const states = await observeRollouts(cluster, pending, options.apiConcurrency ?? DEFAULT_API_CONCURRENCY);
    const still: ObjectRef[] = [];
    pending.forEach((ref, index) => {
      const state = states[index];
      if (state?.state === 'done') onProgress({ type: 'rollout-done', ref });
      else if (state?.state === 'failed') {
        report.rolloutFailed.push({ ref, reason: state.message });
        onProgress({ type: 'rollout-failed', ref, reason: state.message });
      } else still.push(ref);
    });
    pending = still;
    if (pending.length === 0) return;
    const elapsedMs = Date.now() - started;
    if (elapsedMs > options.rolloutTimeoutMs) {
      for (const ref of pending) {
        const reason = `rollout not complete within ${Math.round(options.rolloutTimeoutMs / 1000)} s`;
        report.rolloutFailed.push({ ref, reason });
        onProgress({ type: 'rollout-failed', ref, reason });
      }
      return;
    }
    onProgress({ type: 'waiting', what: 'rollouts', pending: pending.length, elapsedMs });
    await sleep(options.pollIntervalMs);
  }
}

/**
 * Annotates each plain ExternalSecret, and each owning ClusterExternalSecret once: its controller
 * copies the force-sync annotation to its children and would strip one written on them directly.
 */
async function requestResync(
  cluster: ClusterPort,
  targets: readonly ExternalSecretTarget[],
  annotations: Record<string, string>,
  concurrency: number,
): Promise<void> {
  const owners = new Set<string>();
  const plain: ExternalSecretTarget[] = [];
  for (const target of targets) {
    const owner = target.affected.externalSecret.ownerClusterExternalSecret;
    if (owner) owners.add(owner);
    else plain.push(target);
  }
  await mapWithLimit([...owners], concurrency, (name) =>
    cluster.annotateClusterExternalSecret(name, annotations),
  );
  await mapWithLimit(plain, concurrency, (t) => cluster.annotateExternalSecret(esRef(t), annotations));
}

/** Adds the time since the previous lap to one phase. */
function phaseClock(timings: PropagationReport['timings']) {
  let last = performance.now();
  return {
    lap(phase: keyof PropagationReport['timings']) {
      const t = performance.now();
      timings[phase] += t - last;
      last = t;
    },
  };
}

/**
 * Rollout states of `refs`, in order, from one list per namespace and kind rather than a read per
 * workload, so polling costs grow with namespaces, not with restarted workloads.
 */
async function observeRollouts(cluster: ClusterPort, refs: readonly ObjectRef[], concurrency: number) {
  const key = (namespace: string, kind: string) => `${namespace}/${kind}`;
  const groups = [...new Map(refs.map((ref) => [key(ref.namespace, ref.kind), ref])).values()];
  const lists = await mapWithLimit(groups, concurrency, async (ref) => {
    const observed = await cluster.listRollouts(ref.namespace, ref.kind as WorkloadKind);
    return [key(ref.namespace, ref.kind), observed] as const;
  });
  const byGroup = new Map(lists);
  return refs.map((ref): RolloutState => {
    const observed = byGroup.get(key(ref.namespace, ref.kind))?.get(ref.name);
    return observed ? rolloutState(observed) : { state: 'failed', message: 'the workload no longer exists' };
  });
}

function esRef(target: ExternalSecretTarget): ObjectRef {
  const es = target.affected.externalSecret;
  return { kind: ES_KIND, namespace: es.namespace, name: es.name };
}

function workloadRef(workload: Workload): ObjectRef {
  return { kind: workload.kind, namespace: workload.namespace, name: workload.name };
}
