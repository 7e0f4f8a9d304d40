import { mapWithLimit } from '../concurrency';
import { describeError } from '../errors';
import type { ClusterPort } from '../kubernetes/cluster-port';
import { ANNOTATIONS } from './consumer-annotations';
import { planRestarts } from './plan-restarts';
import type { PropagationPlan } from './propagation-plan';
import {
  apiConcurrencyOf,
  esRef,
  type ProgressEvent,
  type PropagateOptions,
  type PropagationReport,
  workloadRef,
} from './propagation-report';
import { confirmSyncs, requestResync, withoutStaleConsumers } from './resync';
import { verifyRollouts } from './rollout-verification';
import type { ObjectRef } from './workload-types';

export type { ProgressEvent, PropagateOptions, PropagationReport } from './propagation-report';

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
  const apiConcurrency = apiConcurrencyOf(options);
  const annotatedAt = now();
  const marker = `${plan.versionId}@${annotatedAt.toISOString()}`;
  await requestResync(cluster, plan.resync, { [ANNOTATIONS.forceSync]: marker }, apiConcurrency);
  clock.lap('resyncMs');
  onProgress({ type: 'resync-requested', count: plan.resync.length });

  const confirmed = await confirmSyncs(cluster, plan.resync, annotatedAt, options, report, onProgress);
  clock.lap('confirmMs');
  const { safe, unsafe } = withoutStaleConsumers(
    confirmed,
    plan.resync.filter((t) => !confirmed.includes(t)),
  );
  report.refused.push(...unsafe);
  const restartPlan = planRestarts(
    safe,
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
    const patched = await mapWithLimit(wave, apiConcurrency, async (r) => {
      const ref = workloadRef(r.workload);
      try {
        await cluster.patchWorkload(ref, r.patch);
        return ref;
      } catch (error) {
        const reason = `restart patch failed: ${describeError(error).message ?? 'unknown error'}`;
        report.rolloutFailed.push({ ref, reason });
        onProgress({ type: 'rollout-failed', ref, reason });
        return undefined;
      }
    });
    const started = patched.filter((ref): ref is ObjectRef => ref !== undefined);
    report.restarted.push(...started);
    clock.lap('restartMs');
    await verifyRollouts(cluster, started, options, report, onProgress);
    clock.lap('verifyMs');
  }
  const failed = report.syncFailed.length + report.rolloutFailed.length + report.refused.length > 0;
  return { ...report, outcome: failed ? 'failed' : 'succeeded' };
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
