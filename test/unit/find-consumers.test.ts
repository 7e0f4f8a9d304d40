import { describe, expect, it } from 'vitest';
import { reloaderListMatcher, targetSecretAnnotations } from '../../shared/propagation/consumer-annotations';
import { findConsumers, referencesIn } from '../../shared/propagation/find-consumers';
import type { PodSpec, Workload, WorkloadKind } from '../../shared/propagation/workload-types';

const KINDS: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

function workload(
  kind: WorkloadKind,
  podSpec: PodSpec,
  annotations: Record<string, string> = {},
  podTemplateAnnotations: Record<string, string> = {},
): Workload {
  return {
    kind,
    namespace: 'shop',
    name: `${kind.toLowerCase()}-a`,
    annotations,
    podTemplateAnnotations,
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

describe('findConsumers, Reloader’s annotations (as Reloader v1.4 ShouldReload reads them)', () => {
  const reads = (...names: string[]): PodSpec => ({
    containers: [container({ envFrom: names.map((name) => ({ secretRef: { name } })) })],
  });
  const secretAnnotations = (annotations: Record<string, string>, secret = 'db') =>
    new Map([[secret, annotations]]);
  const chosen = (plan: ReturnType<typeof findConsumers>) => plan.consumers.map((c) => c.workload.name);

  describe('auto "false" opts a referencing workload out', () => {
    it.each([
      ['reloader.stakater.com/auto', 'false'],
      ['secret.reloader.stakater.com/auto', 'false'],
      // Go's strconv.ParseBool: anything set that is not one of its true spellings is not true.
      ['reloader.stakater.com/auto', 'False'],
      ['reloader.stakater.com/auto', '0'],
      ['reloader.stakater.com/auto', 'yes'],
    ])('skips a workload annotated %s=%s and says why', (key, value) => {
      const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'), { [key]: value })]);
      expect(plan.consumers).toEqual([]);
      expect(plan.skipped[0]?.why).toBe(`annotated ${key}=${value}`);
    });

    it('reads it from the pod template when the workload’s metadata has none of Reloader’s keys', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), {}, { 'reloader.stakater.com/auto': 'false' }),
      ]);
      expect(plan.consumers).toEqual([]);
      expect(plan.skipped[0]?.why).toBe('annotated reloader.stakater.com/auto=false');
    });

    it('ignores the pod template’s when the metadata has one of reload, search, auto, secret…/auto', () => {
      const plan = findConsumers(new Set(['db']), [
        workload(
          'Deployment',
          reads('db'),
          { 'secret.reloader.stakater.com/reload': 'other' },
          { 'reloader.stakater.com/auto': 'false' },
        ),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('treats an empty value as unset', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), { 'reloader.stakater.com/auto': '' }),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('is overridden by the other auto being true (either is enough)', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), {
          'reloader.stakater.com/auto': 'false',
          'secret.reloader.stakater.com/auto': 'true',
        }),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it.each([
      ['secret.reloader.stakater.com/reload', 'db'],
      ['secret-rotator.io/secrets', 'db'],
    ])('is overridden by %s naming the Secret', (key, value) => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), { 'reloader.stakater.com/auto': 'false', [key]: value }),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('leaves a sibling without the annotation a consumer', () => {
      const optedOut = { ...workload('Deployment', reads('db'), { 'reloader.stakater.com/auto': 'false' }) };
      const sibling = { ...workload('Deployment', reads('db')), name: 'sibling' };
      const plan = findConsumers(new Set(['db']), [optedOut, sibling]);
      expect(chosen(plan)).toEqual(['sibling']);
      expect(plan.skipped.map((s) => s.workload.name)).toEqual(['deployment-a']);
    });
  });

  describe('reloader.stakater.com/ignore, read on the Secret (never on the workload)', () => {
    it.each([
      ['references it', {}],
      ['auto "true"', { 'reloader.stakater.com/auto': 'true' }],
      ['names it in Reloader’s reload list', { 'secret.reloader.stakater.com/reload': 'db' }],
      ['is in search mode', { 'reloader.stakater.com/search': 'true' }],
    ])(
      'skips a workload that %s when the Secret is annotated ignore=true, and says why',
      (_what, annotations) => {
        const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'), annotations)], {
          secretAnnotations: secretAnnotations({
            'reloader.stakater.com/ignore': 'true',
            'reloader.stakater.com/match': 'true',
          }),
        });
        expect(plan.consumers).toEqual([]);
        expect(plan.skipped[0]?.why).toBe('Secret db is annotated reloader.stakater.com/ignore=true');
      },
    );

    it('still restarts a workload that names the Secret in our own annotation', () => {
      const plan = findConsumers(
        new Set(['db']),
        [workload('Deployment', {}, { 'secret-rotator.io/secrets': 'db' })],
        { secretAnnotations: secretAnnotations({ 'reloader.stakater.com/ignore': 'true' }) },
      );
      expect(plan.consumers[0]?.reasons).toEqual([{ secret: 'db', via: 'annotation' }]);
    });

    it('takes only "true" (Reloader compares the string)', () => {
      const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'))], {
        secretAnnotations: secretAnnotations({ 'reloader.stakater.com/ignore': 'True' }),
      });
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('has no effect on the workload itself', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), { 'reloader.stakater.com/ignore': 'true' }),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('skips only the ignored Secret of a workload that reads two', () => {
      const plan = findConsumers(new Set(['db', 'cache']), [workload('Deployment', reads('db', 'cache'))], {
        secretAnnotations: secretAnnotations({ 'reloader.stakater.com/ignore': 'true' }),
      });
      expect(plan.consumers[0]?.reasons).toEqual([{ secret: 'cache', via: 'envFrom', where: 'app' }]);
    });
  });

  describe('secrets.exclude.reloader.stakater.com/reload on the workload', () => {
    it('skips a workload that excludes the Secret', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), {
          'secrets.exclude.reloader.stakater.com/reload': 'cache, db',
          'reloader.stakater.com/auto': 'true',
        }),
      ]);
      expect(plan.consumers).toEqual([]);
      expect(plan.skipped[0]?.why).toBe('annotated secrets.exclude.reloader.stakater.com/reload with db');
    });

    it('is read from the metadata only, and names exact Secrets', () => {
      const plan = findConsumers(new Set(['db']), [
        workload(
          'Deployment',
          reads('db'),
          { 'secrets.exclude.reloader.stakater.com/reload': 'd.' },
          { 'secrets.exclude.reloader.stakater.com/reload': 'db' },
        ),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });
  });

  describe('search and match', () => {
    const search = { 'reloader.stakater.com/search': 'true' };
    const match = secretAnnotations({ 'reloader.stakater.com/match': 'true' });

    it.each([false, true])(
      'restarts a search-mode workload for a Secret annotated match (requireOptIn %s)',
      (requireOptIn) => {
        const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'), search)], {
          requireOptIn,
          secretAnnotations: match,
        });
        expect(plan.consumers[0]?.reasons).toEqual([{ secret: 'db', via: 'envFrom', where: 'app' }]);
      },
    );

    it.each([false, true])(
      'skips a search-mode workload for a Secret not annotated match (requireOptIn %s)',
      (requireOptIn) => {
        const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'), search)], {
          requireOptIn,
          secretAnnotations: secretAnnotations({ 'reloader.stakater.com/match': 'false' }),
        });
        expect(plan.consumers).toEqual([]);
        expect(plan.skipped[0]?.why).toBe(
          'annotated reloader.stakater.com/search=true and Secret db is not annotated reloader.stakater.com/match=true',
        );
      },
    );

    it('restarts a search-mode workload that is also auto "true" without match (auto wins)', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('db'), { ...search, 'reloader.stakater.com/auto': 'true' }),
      ]);
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('reads search from the pod template when the metadata has none of Reloader’s keys', () => {
      const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'), {}, search)], {
        secretAnnotations: new Map(),
      });
      expect(plan.consumers).toEqual([]);
    });

    it.each([
      [false, ['deployment-a']],
      [true, []],
    ])(
      'judges search mode as if absent when the Secrets’ annotations are unknown (requireOptIn %s)',
      (requireOptIn, expected) => {
        const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('db'), search)], {
          requireOptIn,
        });
        expect(chosen(plan)).toEqual(expected);
      },
    );

    it('never adds a workload that does not reference the Secret', () => {
      const plan = findConsumers(new Set(['db']), [workload('Deployment', reads('other'), search)], {
        secretAnnotations: match,
      });
      expect(plan).toEqual({ consumers: [], skipped: [] });
    });
  });

  describe('auto "true" and the reload list', () => {
    it('never adds an auto "true" workload that does not reference the Secret', () => {
      const plan = findConsumers(new Set(['db']), [
        workload('Deployment', reads('other'), { 'reloader.stakater.com/auto': 'true' }),
      ]);
      expect(plan).toEqual({ consumers: [], skipped: [] });
    });

    it.each(['true', 'True', '1', 't'])('takes auto=%s as opting in under requireOptIn', (value) => {
      const plan = findConsumers(
        new Set(['db']),
        [workload('Deployment', reads('db'), { 'reloader.stakater.com/auto': value })],
        { requireOptIn: true },
      );
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('takes opt-in annotations from the pod template under requireOptIn', () => {
      const plan = findConsumers(
        new Set(['db']),
        [workload('Deployment', reads('db'), {}, { 'secret.reloader.stakater.com/auto': 'true' })],
        { requireOptIn: true },
      );
      expect(chosen(plan)).toEqual(['deployment-a']);
    });

    it('matches each item of the reload list as an anchored regular expression, as Reloader does', () => {
      const names = new Set(['db-main', 'db', 'cache', 'x(']);
      const plan = findConsumers(names, [
        workload('Deployment', {}, { 'secret.reloader.stakater.com/reload': 'db-.*, x(' }),
      ]);
      expect(plan.consumers[0]?.reasons).toEqual([
        { secret: 'db-main', via: 'reloader-annotation' },
        { secret: 'x(', via: 'reloader-annotation' },
      ]);
    });
  });
});

describe('reloaderListMatcher', () => {
  it.each([
    ['db', 'db', true],
    ['db', 'db-main', false],
    ['db-.*', 'db-main', true],
    ['other, db', 'db', true],
    // Go's "^" + item + "$" without a group: "a|b" means starts with a, or ends with b.
    ['a|b', 'a-anything', true],
    ['a|b', 'anything-b', true],
    ['', 'db', false],
    ['[', '[', true],
  ])('%s names %s: %s', (value, secret, expected) => {
    expect(reloaderListMatcher(value)(secret)).toBe(expected);
  });
});

describe('targetSecretAnnotations', () => {
  it('reads the annotations ESO writes on the Secret from the target template', () => {
    const spec = {
      target: {
        name: 'db',
        template: { metadata: { annotations: { 'reloader.stakater.com/match': 'true', n: 1 } } },
      },
    };
    expect(targetSecretAnnotations(spec)).toEqual({ 'reloader.stakater.com/match': 'true' });
  });

  it.each([[undefined], [{}], [{ target: { name: 'db' } }], [{ target: { template: { metadata: {} } } }]])(
    'returns none when there is no template annotation (%j)',
    (spec) => {
      expect(targetSecretAnnotations(spec)).toEqual({});
    },
  );
});

describe('referencesIn', () => {
  it('returns nothing for an empty pod spec', () => {
    expect(referencesIn({})).toEqual([]);
  });
});
