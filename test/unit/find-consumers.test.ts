import { describe, expect, it } from 'vitest';
import { findConsumers, referencesIn } from '../../shared/propagation/find-consumers';
import type { PodSpec, Workload, WorkloadKind } from '../../shared/propagation/workload-types';

const KINDS: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

function workload(kind: WorkloadKind, podSpec: PodSpec, annotations: Record<string, string> = {}): Workload {
  return {
    kind,
    namespace: 'shop',
    name: `${kind.toLowerCase()}-a`,
    annotations,
    podTemplateAnnotations: {},
    podSpec,
  };
}

const container = (extra: object) => ({ name: 'app', ...extra });
const REFERENCE_SHAPES: [string, PodSpec, string][] = [
  [
    'env secretKeyRef',
    { containers: [container({ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db' } } }] })] },
    'env',
  ],
  ['envFrom secretRef', { containers: [container({ envFrom: [{ secretRef: { name: 'db' } }] })] }, 'envFrom'],
  [
    'init container env',
    { initContainers: [container({ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db' } } }] })] },
    'env',
  ],
  [
    'init container envFrom',
    { initContainers: [container({ envFrom: [{ secretRef: { name: 'db' } }] })] },
    'envFrom',
  ],
  ['secret volume', { volumes: [{ name: 'creds', secret: { secretName: 'db' } }] }, 'volume'],
  [
    'projected volume',
    { volumes: [{ name: 'all', projected: { sources: [{ secret: { name: 'db' } }] } }] },
    'projected-volume',
  ],
];

describe('findConsumers', () => {
  for (const kind of KINDS) {
    it.each(REFERENCE_SHAPES)(`finds a ${kind} that uses the secret through %s`, (_shape, podSpec, via) => {
      const plan = findConsumers(new Set(['db']), [workload(kind, podSpec)]);
      expect(plan.consumers).toHaveLength(1);
      expect(plan.consumers[0]?.reasons).toEqual([expect.objectContaining({ secret: 'db', via })]);
    });
  }

  it('ignores workloads that use other secrets, config maps or nothing', () => {
    const plan = findConsumers(new Set(['db']), [
      workload('Deployment', { containers: [container({ envFrom: [{ secretRef: { name: 'other' } }] })] }),
      workload('Deployment', { containers: [container({ env: [{ name: 'X', valueFrom: {} }] })] }),
      workload('Deployment', { volumes: [{ name: 'cfg' }] }),
      workload('Deployment', {}),
    ]);
    expect(plan).toEqual({ consumers: [], skipped: [] });
  });

  it('lists every reference of a workload that uses the secret several ways', () => {
    const podSpec: PodSpec = {
      containers: [
        { name: 'app', envFrom: [{ secretRef: { name: 'db' } }] },
        { name: 'sidecar', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db' } } }] },
      ],
      volumes: [{ name: 'creds', secret: { secretName: 'db' } }],
    };
    const [match] = findConsumers(new Set(['db']), [workload('Deployment', podSpec)]).consumers;
    expect(match?.reasons).toEqual([
      { secret: 'db', via: 'envFrom', where: 'app' },
      { secret: 'db', via: 'env', where: 'sidecar' },
      { secret: 'db', via: 'volume', where: 'creds' },
    ]);
  });

  it('adds a workload that opts in by our annotation without referencing the secret', () => {
    const plan = findConsumers(new Set(['db']), [
      workload('Deployment', {}, { 'secret-rotator.io/secrets': 'x, db' }),
    ]);
    expect(plan.consumers[0]?.reasons).toEqual([{ secret: 'db', via: 'annotation' }]);
  });

  it('honours Reloader’s secret.reloader.stakater.com/reload annotation', () => {
    const plan = findConsumers(new Set(['db']), [
      workload('StatefulSet', {}, { 'secret.reloader.stakater.com/reload': 'db,cache' }),
    ]);
    expect(plan.consumers[0]?.reasons).toEqual([{ secret: 'db', via: 'reloader-annotation' }]);
  });

  it('skips a workload annotated secret-rotator.io/ignore=true and says why', () => {
    const podSpec = { containers: [container({ envFrom: [{ secretRef: { name: 'db' } }] })] };
    const plan = findConsumers(new Set(['db']), [
      workload('DaemonSet', podSpec, { 'secret-rotator.io/ignore': 'true' }),
    ]);
    expect(plan.consumers).toEqual([]);
    expect(plan.skipped[0]?.why).toMatch(/secret-rotator.io\/ignore=true/);
  });

  describe('with requireOptIn', () => {
    const podSpec = { containers: [container({ envFrom: [{ secretRef: { name: 'db' } }] })] };

    it('skips a referencing workload that has no opt-in annotation', () => {
      const plan = findConsumers(new Set(['db']), [workload('Deployment', podSpec)], { requireOptIn: true });
      expect(plan.consumers).toEqual([]);
      expect(plan.skipped[0]?.why).toMatch(/requireOptIn/);
    });

    it.each([
      ['reloader.stakater.com/auto', 'true'],
      ['secret.reloader.stakater.com/auto', 'true'],
      ['secret-rotator.io/secrets', 'db'],
      ['secret.reloader.stakater.com/reload', 'db'],
    ])('keeps a workload annotated %s=%s', (key, value) => {
      const plan = findConsumers(new Set(['db']), [workload('Deployment', podSpec, { [key]: value })], {
        requireOptIn: true,
      });
      expect(plan.consumers).toHaveLength(1);
    });
  });
});

describe('referencesIn', () => {
  it('returns nothing for an empty pod spec', () => {
    expect(referencesIn({})).toEqual([]);
  });
});
