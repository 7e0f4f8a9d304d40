import { describe, expect, it } from 'vitest';
import { consumerState } from '../../shared/propagation/consumer-state';
import { KUBECTL_RESTARTED_AT, markerSlug, restartedMarkerKey } from '../../shared/propagation/markers';
import type { RolloutObservation } from '../../shared/propagation/rollout-status';
import type { Workload } from '../../shared/propagation/workload-types';

const SECRET = 'prod/app-team/db';
const MOVE = {
  secretName: SECRET,
  moveId: 'v-2#3',
  rolloutTimeoutMs: 600_000,
  now: new Date('2026-11-30T10:10:00Z'),
};

const rolledOut: RolloutObservation = {
  kind: 'Deployment',
  generation: 2,
  spec: { replicas: 1 },
  status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
};
const progressing: RolloutObservation = { ...rolledOut, status: { ...rolledOut.status, updatedReplicas: 0 } };
const deadlineExceeded: RolloutObservation = {
  ...rolledOut,
  status: { ...rolledOut.status, conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] },
};

function workload(over: Partial<Workload> = {}): Workload {
  return {
    kind: 'Deployment',
    namespace: 'shop',
    name: 'api',
    annotations: {},
    podTemplateAnnotations: {},
    podSpec: {},
    rollout: rolledOut,
    ...over,
  };
}
const restartedAt = (iso: string, moveId = MOVE.moveId) => ({
  [restartedMarkerKey(SECRET)]: moveId,
  [KUBECTL_RESTARTED_AT]: iso,
});

describe('consumerState', () => {
  it.each([
    ['no marker: to be restarted', workload(), 'pending'],
    [
      'an older move’s marker: to be restarted',
      workload({ podTemplateAnnotations: restartedAt('2026-11-30T10:00:00Z', 'v-2#1') }),
      'pending',
    ],
    // Fault row P: AWSCURRENT moved again while this move restarted; the newer move owns it.
    [
      'a newer move’s marker: left to that move (never restarted back)',
      workload({
        podTemplateAnnotations: restartedAt('2026-11-30T10:00:00Z', 'v-3#4'),
        rollout: progressing,
      }),
      'next-pod',
    ],
    [
      'a newer move’s marker with a two-digit sequence (compared as numbers)',
      workload({ podTemplateAnnotations: restartedAt('2026-11-30T10:00:00Z', 'v-3#10') }),
      'next-pod',
    ],
    [
      'the move’s marker, rollout complete: verified',
      workload({ podTemplateAnnotations: restartedAt('2026-11-30T10:05:00Z') }),
      'verified',
    ],
    [
      'the move’s marker, still rolling out: in flight',
      workload({ podTemplateAnnotations: restartedAt('2026-11-30T10:05:00Z'), rollout: progressing }),
      'in-flight',
    ],
    [
      'the move’s marker, rolling out past the deadline: failed',
      workload({ podTemplateAnnotations: restartedAt('2026-11-30T09:00:00Z'), rollout: progressing }),
      'failed',
    ],
    [
      'the move’s marker, progress deadline exceeded: failed (never counted done)',
      workload({ podTemplateAnnotations: restartedAt('2026-11-30T10:05:00Z'), rollout: deadlineExceeded }),
      'failed',
    ],
    ['a paused Deployment: refused', workload({ paused: true }), 'refused'],
    [
      'an OnDelete StatefulSet: picks the value up on its next pod',
      workload({
        kind: 'StatefulSet',
        rollout: { ...rolledOut, kind: 'StatefulSet', spec: { updateStrategy: { type: 'OnDelete' } } },
      }),
      'next-pod',
    ],
  ])('%s', (_name, w, expected) => {
    expect(consumerState(w, MOVE).state).toBe(expected);
  });

  // Review 56, finding 1: every call re-reads every consumer, so a workload verified early in a long
  // propagation (or before a restart-window wait) is looked at again past its deadline.
  describe('past the rollout deadline', () => {
    const late = restartedAt('2026-11-30T09:00:00Z');
    const statefulSet = (status: RolloutObservation['status'], replicas = 3): Workload =>
      workload({
        kind: 'StatefulSet',
        podTemplateAnnotations: late,
        rollout: {
          kind: 'StatefulSet',
          generation: 2,
          spec: { replicas },
          status: { observedGeneration: 2, ...status },
        },
      });
    const deployment = (status: RolloutObservation['status'], replicas = 3): Workload =>
      workload({
        podTemplateAnnotations: late,
        rollout: {
          kind: 'Deployment',
          generation: 2,
          spec: { replicas },
          status: { observedGeneration: 2, ...status },
        },
      });
    it.each([
      [
        'every pod on the restarted template, one lost since (an eviction): verified',
        deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
        'verified',
      ],
      [
        'scaled up since (an HPA), the new pods still starting: verified',
        deployment({ replicas: 5, updatedReplicas: 5, availableReplicas: 3 }, 5),
        'verified',
      ],
      [
        'every pod on the restarted template, none available: failed (the template does not come up)',
        deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 0 }, 1),
        'failed',
      ],
      [
        'pods of the older template still running: failed (the rollout is stuck)',
        deployment({ replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
        'failed',
      ],
      [
        'a StatefulSet whose controller completed the update, a pod not ready since: verified',
        statefulSet({
          readyReplicas: 2,
          updatedReplicas: 3,
          currentRevision: 'db-2',
          updateRevision: 'db-2',
        }),
        'verified',
      ],
      [
        'a StatefulSet still updating: failed',
        statefulSet({
          readyReplicas: 3,
          updatedReplicas: 1,
          currentRevision: 'db-1',
          updateRevision: 'db-2',
        }),
        'failed',
      ],
      [
        'a DaemonSet on every node, a pod on a new node starting: verified',
        workload({
          kind: 'DaemonSet',
          podTemplateAnnotations: late,
          rollout: {
            kind: 'DaemonSet',
            generation: 2,
            spec: {},
            status: {
              observedGeneration: 2,
              desiredNumberScheduled: 4,
              updatedNumberScheduled: 4,
              numberAvailable: 3,
            },
          },
        }),
        'verified',
      ],
      [
        'a StatefulSet updated, then every pod crashed (none ready): failed',
        statefulSet(
          { readyReplicas: 0, updatedReplicas: 1, currentRevision: 'db-2', updateRevision: 'db-2' },
          1,
        ),
        'failed',
      ],
    ])('once the canary rolled out, %s', (_name, w, expected) => {
      expect(consumerState(w, { ...MOVE, canaryVerified: true }).state).toBe(expected);
    });

    // Review 57: new pods briefly ready, then crash-looping, look like pods lost since; until the
    // canary rolled out that must fail, or a new value that breaks the app would pass the canary.
    it('before the canary rolled out, every pod on the restarted template but not all available: failed', () => {
      const crashing = deployment({ replicas: 3, updatedReplicas: 3, availableReplicas: 1 });
      expect(consumerState(crashing, MOVE).state).toBe('failed');
      expect(consumerState(crashing, { ...MOVE, canaryVerified: false }).state).toBe('failed');
    });
  });

  // Review 56, finding 6: restarted while RollingUpdate, switched to OnDelete by its owner since.
  it.each(['StatefulSet', 'DaemonSet'] as const)(
    'an OnDelete %s carrying this move’s marker picks the value up on its next pod (not a failed rollout)',
    (kind) => {
      const w = workload({
        kind,
        podTemplateAnnotations: restartedAt('2026-11-30T10:05:00Z'),
        rollout: { ...rolledOut, kind, spec: { updateStrategy: { type: 'OnDelete' } } },
      });
      expect(consumerState(w, MOVE)).toEqual({
        state: 'next-pod',
        reason: 'update strategy OnDelete: picks the new value up on its next pod',
      });
    },
  );

  it('refuses a workload that also reads a Secret whose ExternalSecret did not resync', () => {
    expect(consumerState(workload(), MOVE, 'legacy-secret')).toEqual({
      state: 'refused',
      reason: 'also uses Secret legacy-secret, whose ExternalSecret did not confirm a sync',
    });
  });
});

describe('restartedMarkerKey', () => {
  it('is a valid annotation key for any secret name, readable and distinct per secret', () => {
    const names = [
      SECRET,
      `prod/${'very-long-name/'.repeat(20)}db`,
      'Prod/App_Team/DB!',
      '///',
      'prod-app-team-db',
    ];
    const keys = names.map(restartedMarkerKey);
    for (const key of keys) {
      const [prefix, name] = key.split('/');
      expect(prefix).toBe('restarted.secret-rotator.io');
      expect(name).toMatch(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/);
    }
    expect(new Set(keys).size).toBe(names.length);
    expect(markerSlug(SECRET)).toMatch(/^prod-app-team-db-[0-9a-f]{8}$/);
  });
});
