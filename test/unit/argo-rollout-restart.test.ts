import { describe, expect, it } from 'vitest';
import {
  argoRestartPatch,
  lastRestart,
  markerAnnotations,
  nextWholeSecond,
} from '../../shared/propagation/argo-rollout-restart';
import { KUBECTL_RESTARTED_AT, restartedMarkerKey } from '../../shared/propagation/markers';
import type { Workload } from '../../shared/propagation/workload-types';

const MARKER = restartedMarkerKey('prod/app/db');
const templatePatch = (annotations: Record<string, unknown>) => ({
  spec: { template: { metadata: { annotations } } },
});

describe('argoRestartPatch', () => {
  it('moves restartedAt to spec.restartAt at the next whole second and the markers to the Rollout’s metadata', () => {
    const patch = argoRestartPatch(
      templatePatch({ [KUBECTL_RESTARTED_AT]: '2026-12-01T06:00:00.987Z', [MARKER]: 'v-1#2' }),
    );

    expect(patch).toEqual({
      metadata: { annotations: { [MARKER]: 'v-1#2' } },
      spec: { restartAt: '2026-12-01T06:00:01Z' },
    });
    // Nothing of the pod template: that would be a new revision.
    expect(JSON.stringify(patch)).not.toContain('template');
  });

  it.each<[string, object]>([
    ['no restartedAt', templatePatch({ [MARKER]: 'v-1#2' })],
    ['a restartedAt that is no time', templatePatch({ [KUBECTL_RESTARTED_AT]: 'soon' })],
    [
      'a marker that is no string',
      templatePatch({ [KUBECTL_RESTARTED_AT]: '2026-12-01T06:00:00Z', [MARKER]: 1 }),
    ],
    ['another spec field', { spec: { replicas: 0, template: { metadata: { annotations: {} } } } }],
    [
      'a pod template spec',
      { spec: { template: { metadata: { annotations: {} }, spec: { containers: [] } } } },
    ],
    ['pod template labels', { spec: { template: { metadata: { annotations: {}, labels: { a: 'b' } } } } }],
    ['top-level metadata', { metadata: { labels: { a: 'b' } } }],
    ['annotations that are no object', templatePatch(null as never)],
  ])('refuses %s with a TypeError (only restart patches are translated)', (_name, patch) => {
    expect(() => argoRestartPatch(patch)).toThrow(TypeError);
  });
});

describe('nextWholeSecond', () => {
  it.each([
    [Date.parse('2026-12-01T06:00:00.000Z'), '2026-12-01T06:00:01Z'],
    [Date.parse('2026-12-01T06:00:00.999Z'), '2026-12-01T06:00:01Z'],
    [Date.parse('2026-12-31T23:59:59.500Z'), '2027-01-01T00:00:00Z'],
  ])('%s → %s (Go’s time.RFC3339, as the kubectl plugin writes restartAt)', (ms, iso) => {
    expect(nextWholeSecond(ms)).toBe(iso);
  });

  it('is after every creationTimestamp (whole seconds) the API server can give a pod created up to that instant', () => {
    // The controller replaces a pod only when its creationTimestamp is before restartAt
    // (rollout/restart.go); a pod created 1 ms before the patch, in the same second, must be.
    for (const ms of [Date.parse('2026-12-01T06:00:00.000Z'), Date.parse('2026-12-01T06:00:00.999Z')]) {
      const created = Math.floor(ms / 1000) * 1000;
      expect(Date.parse(nextWholeSecond(ms))).toBeGreaterThan(created);
    }
  });
});

describe('where markers and the last restart are read', () => {
  const base: Workload = {
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web',
    annotations: { [MARKER]: 'on-metadata' },
    podTemplateAnnotations: { [MARKER]: 'on-template', [KUBECTL_RESTARTED_AT]: '2026-12-01T05:00:00Z' },
    podSpec: {},
  };
  const rollout: Workload = {
    ...base,
    kind: 'Rollout',
    rollout: { kind: 'Rollout', generation: 1, spec: { restartAt: '2026-12-01T06:00:00Z' }, status: {} },
  };

  it('a Rollout: its metadata and spec.restartAt', () => {
    expect(markerAnnotations(rollout)[MARKER]).toBe('on-metadata');
    expect(lastRestart(rollout)).toBe(Date.parse('2026-12-01T06:00:00Z'));
  });

  it('the other kinds: the pod template and kubectl’s restartedAt', () => {
    expect(markerAnnotations(base)[MARKER]).toBe('on-template');
    expect(lastRestart(base)).toBe(Date.parse('2026-12-01T05:00:00Z'));
  });

  it('a Rollout never restarted: no last restart', () => {
    expect(lastRestart({ ...rollout, rollout: undefined })).toBeNaN();
  });
});
