/**
 * Argo Rollouts' status rules (v1.9.0: utils/rollout/rolloututil.go GetRolloutPhase and
 * CalculateRolloutPhase, read as pkg/kubectl-argo-rollouts/cmd/status/status.go reads them), with
 * the restart checked: done only when Healthy and status.restartedAt equals spec.restartAt.
 */
import { describe, expect, it } from 'vitest';
import {
  type ArgoRolloutObservation,
  argoRolloutState,
  calculateRolloutPhase,
  rolloutPhase,
  WORKLOAD_GENERATION_ANNOTATION,
} from '../../shared/propagation/argo-rollout-status';
import { type RolloutObservation, rolloutState } from '../../shared/propagation/rollout-status';

const AT = '2026-12-01T06:00:00Z';

/** A canary Rollout the controller has restarted at AT and reported Healthy for generation 3. */
const healthy: ArgoRolloutObservation = {
  generation: 3,
  spec: { replicas: 2, restartAt: AT, strategy: { canary: {} } },
  status: {
    observedGeneration: 3,
    phase: 'Healthy',
    restartedAt: AT,
    replicas: 2,
    updatedReplicas: 2,
    availableReplicas: 2,
    stableRS: 'abc',
    currentPodHash: 'abc',
  },
};
const withStatus = (status: Partial<ArgoRolloutObservation['status']>): ArgoRolloutObservation => ({
  ...healthy,
  status: { ...healthy.status, ...status },
});

describe('argoRolloutState', () => {
  it.each<[string, ArgoRolloutObservation, string, string?]>([
    ['Healthy, restarted at restartAt', healthy, 'done'],
    [
      'restartAt not yet observed (generation ahead)',
      { ...healthy, generation: 4 },
      'progressing',
      'waiting for rollout spec update to be observed',
    ],
    [
      'the controller still restarting pods',
      withStatus({ phase: 'Progressing', message: 'rollout is restarting', restartedAt: undefined }),
      'progressing',
      'rollout is restarting',
    ],
    // A phase from before restartAt was set, however it came to say Healthy: not this restart.
    [
      'Healthy but restartedAt is an older restart',
      withStatus({ restartedAt: '2026-11-30T06:00:00Z' }),
      'progressing',
      'rollout is restarting',
    ],
    [
      'restartedAt equal as an instant, written differently',
      withStatus({ restartedAt: '2026-12-01T06:00:00.000Z' }),
      'done',
    ],
    [
      'Degraded (progress deadline exceeded)',
      withStatus({
        phase: 'Degraded',
        message: 'ProgressDeadlineExceeded: ReplicaSet "web-1" has timed out progressing.',
      }),
      'failed',
      'ProgressDeadlineExceeded: ReplicaSet "web-1" has timed out progressing.',
    ],
    [
      'Paused (a canary step)',
      withStatus({ phase: 'Paused', message: 'CanaryPauseStep' }),
      'progressing',
      'rollout is paused (CanaryPauseStep)',
    ],
    [
      'unpausing: pause conditions cleared, the controller not yet reacted',
      withStatus({ controllerPause: true, pauseConditions: [] }),
      'progressing',
      'waiting for rollout to unpause',
    ],
    // Argo reads an absent or non-numeric observedGeneration as observed (isGenerationObserved).
    ['no observedGeneration: the phase decides', withStatus({ observedGeneration: undefined }), 'done'],
  ])('%s: %s', (_name, rollout, state, message) => {
    const result = argoRolloutState(rollout);

    expect(result.state).toBe(state);
    if (message) expect(result.message).toBe(message);
  });

  it('waits for the controller to observe the referenced Deployment’s generation (workloadRef)', () => {
    const referenced: ArgoRolloutObservation = {
      ...healthy,
      annotations: { [WORKLOAD_GENERATION_ANNOTATION]: '5' },
      spec: { ...healthy.spec, workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } },
      status: { ...healthy.status, workloadObservedGeneration: '4' },
    };

    expect(rolloutPhase(referenced).message).toBe(
      'waiting for rollout spec update to be observed for the reference workload',
    );
    expect(
      argoRolloutState({ ...referenced, status: { ...referenced.status, workloadObservedGeneration: '5' } })
        .state,
    ).toBe('done');
  });

  it('is what rolloutState answers for kind Rollout', () => {
    const observation: RolloutObservation = {
      kind: 'Rollout',
      ...withStatus({ phase: 'Degraded', message: 'x' }),
    };

    expect(rolloutState(observation)).toEqual({ state: 'failed', message: 'x' });
  });
});

describe('calculateRolloutPhase (a status without a phase)', () => {
  const status = { ...healthy.status, phase: undefined };
  it.each<
    [
      string,
      Partial<ArgoRolloutObservation['spec']>,
      Partial<ArgoRolloutObservation['status']>,
      string,
      string,
    ]
  >([
    ['all updated, available and promoted', {}, {}, 'Healthy', ''],
    [
      'InvalidSpec condition',
      {},
      { conditions: [{ type: 'InvalidSpec', message: 'bad selector' }] },
      'Degraded',
      'InvalidSpec: bad selector',
    ],
    [
      'aborted',
      {},
      { conditions: [{ type: 'Progressing', reason: 'RolloutAborted', message: 'metric failed' }] },
      'Degraded',
      'RolloutAborted: metric failed',
    ],
    ['manually paused', { paused: true }, {}, 'Paused', 'manually paused'],
    [
      'a pause condition',
      {},
      { pauseConditions: [{ reason: 'CanaryPauseStep' }] },
      'Paused',
      'CanaryPauseStep',
    ],
    ['restart pending', {}, { restartedAt: undefined }, 'Progressing', 'rollout is restarting'],
    [
      'fewer updated than desired',
      {},
      { updatedReplicas: 1 },
      'Progressing',
      'more replicas need to be updated',
    ],
    [
      'updated not yet available',
      {},
      { availableReplicas: 1 },
      'Progressing',
      'updated replicas are still becoming available',
    ],
    ['canary: old replicas left', {}, { replicas: 3 }, 'Progressing', 'old replicas are pending termination'],
    ['canary: not promoted', {}, { stableRS: 'old' }, 'Progressing', 'waiting for all steps to complete'],
    [
      'blue-green: active service not cut over',
      { strategy: { blueGreen: {} } },
      { blueGreen: { activeSelector: 'old' } },
      'Progressing',
      'active service cutover pending',
    ],
    [
      'blue-green: post-promotion analysis running',
      { strategy: { blueGreen: { postPromotionAnalysis: {} } } },
      {
        blueGreen: { activeSelector: 'abc', postPromotionAnalysisRunStatus: { status: 'Running' } },
        stableRS: 'old',
      },
      'Progressing',
      'waiting for analysis to complete',
    ],
    [
      'blue-green: cut over and promoted',
      { strategy: { blueGreen: {} } },
      { blueGreen: { activeSelector: 'abc' } },
      'Healthy',
      '',
    ],
  ])('%s: %s', (_name, spec, over, phase, message) => {
    expect(calculateRolloutPhase({ ...healthy.spec, ...spec }, { ...status, ...over })).toEqual({
      phase,
      message,
    });
  });

  it('decides the phase when the controller wrote none', () => {
    const rollout = { ...healthy, status: { ...status, updatedReplicas: 0 } };

    expect(argoRolloutState(rollout)).toEqual({
      state: 'progressing',
      message: 'more replicas need to be updated',
    });
  });
});
