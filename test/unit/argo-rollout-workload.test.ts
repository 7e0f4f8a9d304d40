/**
 * An Argo Rollout as a consumer: read from the API's JSON, linked to the Deployment its workloadRef
 * names, and judged for one AWSCURRENT move by its marker on metadata and its status rules.
 */
import { describe, expect, it } from 'vitest';
import {
  type ArgoRolloutObject,
  argoRolloutWorkload,
  linkWorkloadRefs,
  toArgoRollout,
} from '../../shared/propagation/argo-rollout-workload';
import { consumerState } from '../../shared/propagation/consumer-state';
import { findConsumers } from '../../shared/propagation/find-consumers';
import { KUBECTL_RESTARTED_AT, restartedMarkerKey } from '../../shared/propagation/markers';
import type { Workload } from '../../shared/propagation/workload-types';

const SECRET = 'prod/app/db';
const MOVE = {
  secretName: SECRET,
  moveId: 'v-2#3',
  rolloutTimeoutMs: 60_000,
  now: new Date('2026-12-01T06:00:30Z'),
};
const reads = { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-secret' } }] }] };

function rolloutObject(over: { spec?: object; status?: object; annotations?: Record<string, string> } = {}) {
  return {
    metadata: { namespace: 'shop', name: 'web', generation: 3, annotations: over.annotations ?? {} },
    spec: { replicas: 2, strategy: { canary: {} }, template: { spec: reads }, ...over.spec },
    status: {
      observedGeneration: '3',
      phase: 'Healthy',
      updatedReplicas: 2,
      availableReplicas: 2,
      ...over.status,
    },
  } as ArgoRolloutObject;
}

describe('argoRolloutWorkload', () => {
  it('reads Argo’s string observedGeneration as a number, and the pod template', () => {
    const workload = argoRolloutWorkload(rolloutObject());

    expect(workload).toMatchObject({
      kind: 'Rollout',
      namespace: 'shop',
      name: 'web',
      podSpec: reads,
      paused: false,
    });
    expect(workload.rollout?.status.observedGeneration).toBe(3);
  });

  it.each([
    ['a v0.9 hash', 'b5f6c8d9'],
    ['an empty string', ''],
  ])(
    'leaves out an observedGeneration that is %s (Argo reads it as observed)',
    (_name, observedGeneration) => {
      expect(toArgoRollout(rolloutObject({ status: { observedGeneration } })).status).not.toHaveProperty(
        'observedGeneration',
      );
    },
  );

  it.each([
    ['spec.paused', { spec: { paused: true } }],
    [
      'a pause condition (a canary step waiting)',
      { status: { pauseConditions: [{ reason: 'CanaryPauseStep' }] } },
    ],
  ])('is paused by %s', (_name, over) => {
    expect(argoRolloutWorkload(rolloutObject(over)).paused).toBe(true);
  });
});

describe('linkWorkloadRefs', () => {
  const deployment: Workload = {
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web-template',
    annotations: {},
    podTemplateAnnotations: { team: 'a' },
    podSpec: reads,
  };
  const referencing = argoRolloutWorkload(
    rolloutObject({
      spec: {
        template: undefined,
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-template' },
      },
    }),
  );

  it('gives the Rollout the Deployment’s template and marks the Deployment as the Rollout’s', () => {
    const [rollout, template] = linkWorkloadRefs([referencing, deployment]);

    expect(rollout).toMatchObject({ kind: 'Rollout', workloadRef: 'web-template', podSpec: reads });
    expect(rollout?.podTemplateAnnotations).toEqual({ team: 'a' });
    expect(template?.templateOfRollout).toBe('web');
  });

  it('finds the Deployment among those listed only for the link, without returning them', () => {
    const linked = linkWorkloadRefs([referencing], [deployment]);

    expect(linked).toHaveLength(1);
    expect(linked[0]?.podSpec).toEqual(reads);
  });

  it('makes the Rollout, not the Deployment, the one restarted', () => {
    const linked = linkWorkloadRefs([referencing, deployment]);
    const { consumers } = findConsumers(new Set(['db-secret']), linked);

    const states = consumers.map((c) => [c.workload.kind, consumerState(c.workload, MOVE).state]);
    expect(states).toEqual([
      ['Rollout', 'pending'],
      ['Deployment', 'next-pod'],
    ]);
  });

  it('leaves a workloadRef to another kind unlinked (no pod spec to match)', () => {
    const other = argoRolloutWorkload(
      rolloutObject({ spec: { template: undefined, workloadRef: { kind: 'PodTemplate', name: 'x' } } }),
    );

    expect(other.workloadRef).toBeUndefined();
    expect(findConsumers(new Set(['db-secret']), linkWorkloadRefs([other])).consumers).toEqual([]);
  });
});

describe('consumerState of a Rollout', () => {
  const marker = { [restartedMarkerKey(SECRET)]: MOVE.moveId };
  const restarted = (status: object, restartAt = '2026-12-01T06:00:00Z') =>
    argoRolloutWorkload(rolloutObject({ annotations: marker, spec: { restartAt }, status }));

  it.each<[string, Workload, string]>([
    ['no marker: to be restarted', argoRolloutWorkload(rolloutObject()), 'pending'],
    [
      'our marker on the pod template only (never where a Rollout keeps it): to be restarted',
      argoRolloutWorkload(
        rolloutObject({ spec: { template: { metadata: { annotations: marker }, spec: reads } } }),
      ),
      'pending',
    ],
    [
      'marker on metadata, Healthy and restartedAt = restartAt: verified',
      restarted({ restartedAt: '2026-12-01T06:00:00Z' }),
      'verified',
    ],
    [
      'marker, the controller still restarting',
      restarted({ phase: 'Progressing', message: 'rollout is restarting' }),
      'in-flight',
    ],
    [
      'marker, Healthy from before restartAt',
      restarted({ restartedAt: '2026-11-30T06:00:00Z' }),
      'in-flight',
    ],
    ['marker, Degraded: failed', restarted({ phase: 'Degraded', message: 'RolloutAborted: x' }), 'failed'],
    [
      'marker, still restarting past the rollout timeout (counted from restartAt): failed',
      restarted({ phase: 'Progressing', message: 'rollout is restarting' }, '2026-12-01T05:59:00Z'),
      'failed',
    ],
    [
      'paused, not yet restarted: refused',
      argoRolloutWorkload(rolloutObject({ spec: { paused: true } })),
      'refused',
    ],
  ])('%s', (_name, workload, state) => {
    expect(consumerState(workload, MOVE).state).toBe(state);
  });

  it('says why a paused Rollout is refused, by its kind', () => {
    const state = consumerState(argoRolloutWorkload(rolloutObject({ spec: { paused: true } })), MOVE);

    expect(state).toEqual({
      state: 'refused',
      reason: 'the Rollout is paused; resume it to let the restart roll out',
    });
  });

  it('ignores kubectl’s restartedAt on a Rollout’s template for the timeout', () => {
    const workload = restarted({ phase: 'Progressing', message: 'rollout is restarting' });
    const templated = {
      ...workload,
      podTemplateAnnotations: { [KUBECTL_RESTARTED_AT]: '2026-11-01T00:00:00Z' },
    };

    expect(consumerState(templated, MOVE).state).toBe('in-flight');
  });
});
