import { describe, expect, it } from 'vitest';
import { confirmSync } from '../../shared/propagation/confirm-sync';

const ANNOTATED = new Date('2026-11-23T10:00:00.400Z');
const BEFORE = {
  refreshTime: '2026-11-23T09:00:00Z',
  syncedResourceVersion: '1-aaa',
  ready: { status: 'True', reason: 'SecretSynced' },
};

describe('confirmSync', () => {
  it('confirms a sync with a new syncedResourceVersion, Ready SecretSynced and a fresh refreshTime', () => {
    const now = { ...BEFORE, refreshTime: '2026-11-23T10:00:00Z', syncedResourceVersion: '1-bbb' };
    expect(confirmSync(BEFORE, now, ANNOTATED)).toEqual({ verdict: 'synced' });
  });

  it.each([
    ['the status is unchanged', BEFORE],
    ['only the version changed', { ...BEFORE, syncedResourceVersion: '1-bbb' }],
    ['only the refresh time changed', { ...BEFORE, refreshTime: '2026-11-23T10:00:01Z' }],
    [
      'the refresh predates the annotation',
      { ...BEFORE, refreshTime: '2026-11-23T09:59:59Z', syncedResourceVersion: '1-bbb' },
    ],
    [
      'Ready is not SecretSynced yet',
      { refreshTime: '2026-11-23T10:00:01Z', syncedResourceVersion: '1-bbb', ready: { status: 'Unknown' } },
    ],
    ['there is no status at all', {}],
  ])('waits when %s', (_name, now) => {
    expect(confirmSync(BEFORE, now, ANNOTATED)).toEqual({ verdict: 'waiting' });
  });

  it('reports a SecretSyncedError with ESO’s message', () => {
    const now = {
      ...BEFORE,
      ready: { status: 'False', reason: 'SecretSyncedError', message: 'could not get secret' },
    };
    expect(confirmSync(BEFORE, now, ANNOTATED)).toEqual({
      verdict: 'failed',
      reason: 'could not get secret',
    });
  });

  it('confirms a first sync of an ExternalSecret that had no status', () => {
    const now = { refreshTime: '2026-11-23T10:00:02Z', syncedResourceVersion: '1-x', ready: BEFORE.ready };
    expect(confirmSync({}, now, ANNOTATED)).toEqual({ verdict: 'synced' });
  });
});
