import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithLimit } from '../concurrency';
import type { ClusterPort } from '../kubernetes/cluster-port';
import {
  apiConcurrencyOf,
  type ProgressEvent,
  type PropagateOptions,
  type PropagationReport,
} from './propagation-report';
import { type RolloutState, rolloutState } from './rollout-status';
import type { ObjectRef, WorkloadKind } from './workload-types';

export async function verifyRollouts(
  cluster: ClusterPort,
  refs: readonly ObjectRef[],
  options: PropagateOptions,
  report: PropagationReport,
  onProgress: (event: ProgressEvent) => void,
): Promise<void> {
  let pending = [...refs];
  const started = Date.now();
  while (pending.length > 0) {
    const states = await observeRollouts(cluster, pending, apiConcurrencyOf(options));
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
