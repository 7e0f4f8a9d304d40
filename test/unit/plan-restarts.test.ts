import { describe, expect, it } from 'vitest';
import type { ConsumerMatch } from '../../shared/propagation/find-consumers';
import { KUBECTL_RESTARTED_AT, planRestarts, restartMarker } from '../../shared/propagation/plan-restarts';
import type { Workload, WorkloadKind } from '../../shared/propagation/workload-types';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const VERSION = { secretName: 'prod/app-team/db', versionId: 'v-2' };

function consumer(
  name: string,
  extra: Partial<Workload> = {},
  kind: WorkloadKind = 'Deployment',
): ConsumerMatch {
  const workload: Workload = {
    kind,
    namespace: 'shop',
    name,
    annotations: {},
    podTemplateAnnotations: {},
    podSpec: {},
    ...extra,
  };
  return { workload, reasons: [{ secret: 'db', via: 'envFrom' }] };
}

describe('planRestarts', () => {
  it('writes the kubectl restartedAt annotation and the secret version marker', () => {
    const plan = planRestarts([consumer('api')], VERSION, { concurrency: 5, now: NOW });
    expect(plan.waves).toHaveLength(1);
    expect(plan.waves[0]?.[0]?.patch).toEqual({
      spec: {
        template: {
          metadata: {
            annotations: {
              [KUBECTL_RESTARTED_AT]: '2026-11-23T10:00:00.000Z',
              'secret-rotator.io/restarted-for': 'prod/app-team/db@v-2',
            },
          },
        },
      },
    });
  });

  it('splits restarts into waves of at most the concurrency cap, in order', () => {
    const consumers = ['a', 'b', 'c', 'd', 'e'].map((name) => consumer(name));
    const plan = planRestarts(consumers, VERSION, { concurrency: 2, now: NOW });
    expect(plan.waves.map((wave) => wave.map((r) => r.workload.name))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e'],
    ]);
  });

  it('leaves alone a workload already restarted for this secret version', () => {
    const done = consumer('api', {
      podTemplateAnnotations: { 'secret-rotator.io/restarted-for': restartMarker('prod/app-team/db', 'v-2') },
    });
    const older = consumer('worker', {
      podTemplateAnnotations: { 'secret-rotator.io/restarted-for': restartMarker('prod/app-team/db', 'v-1') },
    });
    const plan = planRestarts([done, older], VERSION, { concurrency: 5, now: NOW });
    expect(plan.alreadyRestarted.map((w) => w.name)).toEqual(['api']);
    expect(plan.waves.flat().map((r) => r.workload.name)).toEqual(['worker']);
  });

  it('refuses a paused Deployment and says how to proceed', () => {
    const plan = planRestarts([consumer('api', { paused: true })], VERSION, { concurrency: 5, now: NOW });
    expect(plan.waves).toEqual([]);
    expect(plan.refused[0]?.why).toMatch(/paused; resume it/);
  });

  it('restarts a workload once even when several ExternalSecrets lead to it', () => {
    const plan = planRestarts(
      [consumer('api'), consumer('api'), consumer('api', {}, 'StatefulSet')],
      VERSION,
      {
        concurrency: 5,
        now: NOW,
      },
    );
    expect(plan.waves.flat().map((r) => `${r.workload.kind}/${r.workload.name}`)).toEqual([
      'Deployment/api',
      'StatefulSet/api',
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a concurrency of %s', (concurrency) => {
    expect(() => planRestarts([], VERSION, { concurrency, now: NOW })).toThrow(RangeError);
  });
});
