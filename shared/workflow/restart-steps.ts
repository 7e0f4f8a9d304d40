/**
 * The workflow's per-workload steps: restart (kubectl's restart patch plus our marker) and watch
 * the rollout. One Restarts Map iteration runs them for one workload.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { RolloutFailedError } from '../errors';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import { KUBECTL_RESTARTED_AT, restartMarker } from '../propagation/plan-restarts';
import { rolloutState } from '../propagation/rollout-status';
import * as z from '../schema';
import type { ClusterStepDeps } from './cluster-steps';
import { parseStepInput } from './parse-step-input';
import { type RestartItem, restartItemSchema } from './workflow-state';

/**
 * Restart one workload the way `kubectl rollout restart` does, plus our secret@version marker. The
 * restartedAt value is the plan's time, so a retried patch writes the same pod template and starts
 * no second rollout.
 */
export async function restartStep(raw: unknown, deps: ClusterStepDeps): Promise<{ deadline: string }> {
  const input = parseStepInput(restartItemSchema, raw, 'restart');
  const cluster = await deps.clusterFor(input.cluster);
  await cluster.patchWorkload(input.workload, restartPatch(input));
  return { deadline: new Date(deps.now().getTime() + deps.rolloutTimeoutMs).toISOString() };
}

export function restartPatch(item: RestartItem) {
  const annotations = {
    [KUBECTL_RESTARTED_AT]: item.restartedAt,
    [ANNOTATIONS.restartedFor]: restartMarker(item.secretName, item.versionId),
  };
  return { spec: { template: { metadata: { annotations } } } };
}

const checkRolloutInputSchema = z.extend(restartItemSchema, { restart: z.object({ deadline: z.string() }) });

/**
 * Watches a restarted workload by kubectl's rollout-status rules for up to the poll budget:
 * `done`, `progressing` (the state machine waits and asks again), or a RolloutFailedError (failed,
 * or not done by the deadline), which stops the restarts not yet begun.
 */
export async function checkRolloutStep(
  raw: unknown,
  deps: ClusterStepDeps,
): Promise<{ state: 'done' | 'progressing'; message: string }> {
  const input = parseStepInput(checkRolloutInputSchema, raw, 'check-rollout');
  const cluster = await deps.clusterFor(input.cluster);
  const ref = `${input.workload.kind}/${input.workload.namespace}/${input.workload.name}`;
  const sleep = deps.sleep ?? ((ms: number) => delay(ms));
  const lookUntil = Date.now() + (deps.rolloutPollBudgetMs ?? 0);
  for (;;) {
    const state = rolloutState(await cluster.getRollout(input.workload));
    if (state.state === 'failed') throw new RolloutFailedError(`${ref}: ${state.message}`);
    if (state.state === 'done') return { state: state.state, message: state.message };
    if (deps.now().getTime() > Date.parse(input.restart.deadline)) {
      throw new RolloutFailedError(
        `${ref}: rollout not complete by ${input.restart.deadline} (${state.message})`,
      );
    }
    const interval = deps.rolloutPollIntervalMs ?? 5000;
    if (Date.now() + interval > lookUntil) return { state: state.state, message: state.message };
    await sleep(interval);
  }
}
