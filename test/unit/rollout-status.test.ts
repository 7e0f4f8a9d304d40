import { describe, expect, it } from 'vitest';
import { type RolloutObservation, rolloutState } from '../../shared/propagation/rollout-status';

const deployment = (
  status: RolloutObservation['status'],
  generation = 2,
  replicas = 3,
): RolloutObservation => ({
  kind: 'Deployment',
  generation,
  spec: { replicas },
  status,
});

describe('rolloutState for a Deployment', () => {
  it.each<[string, RolloutObservation, string]>([
    ['spec not yet observed', deployment({ observedGeneration: 1 }), 'progressing'],
    [
      'too few updated replicas',
      deployment({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 }),
      'progressing',
    ],
    [
      'old replicas still terminating',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }),
      'progressing',
    ],
    [
      'updated replicas not yet available',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }),
      'progressing',
    ],
    [
      'progress deadline exceeded',
      deployment({
        observedGeneration: 2,
        updatedReplicas: 1,
        conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }],
      }),
      'failed',
    ],
    [
      'complete',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
      'done',
    ],
    ['complete at zero replicas', deployment({ observedGeneration: 2 }, 2, 0), 'done'],
  ])('%s → %s', (_name, observation, expected) => {
    expect(rolloutState(observation).state).toBe(expected);
  });

  it('explains what it waits for', () => {
    expect(rolloutState(deployment({ observedGeneration: 2, updatedReplicas: 1 })).message).toBe(
      '1 out of 3 new replicas have been updated',
    );
  });
});

describe('rolloutState for a StatefulSet', () => {
  const sts = (
    status: RolloutObservation['status'],
    spec: RolloutObservation['spec'] = { replicas: 3 },
  ): RolloutObservation => ({ kind: 'StatefulSet', generation: 2, spec, status });

  it.each<[string, RolloutObservation, string]>([
    ['never observed', sts({}), 'progressing'],
    ['spec not yet observed', sts({ observedGeneration: 1 }), 'progressing'],
    ['pods not ready', sts({ observedGeneration: 2, readyReplicas: 2 }), 'progressing'],
    [
      'revisions differ',
      sts({ observedGeneration: 2, readyReplicas: 3, currentRevision: 'a', updateRevision: 'b' }),
      'progressing',
    ],
    [
      'complete',
      sts({ observedGeneration: 2, readyReplicas: 3, currentRevision: 'b', updateRevision: 'b' }),
      'done',
    ],
    [
      'partitioned, not yet updated',
      sts(
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 },
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
      ),
      'progressing',
    ],
    [
      'partitioned, complete',
      sts(
        {
          observedGeneration: 2,
          readyReplicas: 3,
          updatedReplicas: 2,
          currentRevision: 'a',
          updateRevision: 'b',
        },
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
      ),
      'done',
    ],
    [
      'OnDelete strategy',
      sts({ observedGeneration: 2 }, { replicas: 3, updateStrategy: { type: 'OnDelete' } }),
      'failed',
    ],
  ])('%s → %s', (_name, observation, expected) => {
    expect(rolloutState(observation).state).toBe(expected);
  });
});

describe('rolloutState for a DaemonSet', () => {
  const ds = (status: RolloutObservation['status'], type?: string): RolloutObservation => ({
    kind: 'DaemonSet',
    generation: 4,
    spec: { updateStrategy: type ? { type } : undefined },
    status,
  });

  it.each<[string, RolloutObservation, string]>([
    ['spec not yet observed', ds({ observedGeneration: 3 }), 'progressing'],
    [
      'pods not updated',
      ds({ observedGeneration: 4, desiredNumberScheduled: 3, updatedNumberScheduled: 2 }),
      'progressing',
    ],
    [
      'pods not available',
      ds({ observedGeneration: 4, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }),
      'progressing',
    ],
    [
      'complete',
      ds({ observedGeneration: 4, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }),
      'done',
    ],
    ['OnDelete strategy', ds({ observedGeneration: 4 }, 'OnDelete'), 'failed'],
  ])('%s → %s', (_name, observation, expected) => {
    expect(rolloutState(observation).state).toBe(expected);
  });
});
