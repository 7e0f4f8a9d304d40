import { describe, expect, it } from 'vitest';
import { confirmSync } from '../../shared/propagation/confirm-sync';

const BEFORE = {
  refreshTime: '2026-11-23T09:00:00Z',
  syncedResourceVersion: '1-aaa',
  ready: { status: 'True', reason: 'SecretSynced' },
};

describe('confirmSync', () => {
  it('confirms a sync with a new syncedResourceVersion and Ready SecretSynced', () => {
    const now = { ...BEFORE, refreshTime: '2026-11-23T10:00:00Z', syncedResourceVersion: '1-bbb' };
    expect(confirmSync(BEFORE, now)).toEqual({ verdict: 'synced' });
  });

  it('compares no clocks: a sync whose refreshTime (the ESO pod’s clock) reads before our annotation is confirmed', () => {
    // The step annotated at 10:00:00.400 by Lambda's clock; ESO's node runs 2 s behind (review M7).
    const now = { ...BEFORE, refreshTime: '2026-11-23T09:59:58Z', syncedResourceVersion: '1-bbb' };
    expect(confirmSync(BEFORE, now)).toEqual({ verdict: 'synced' });
  });

  it.each([
    ['the status is unchanged', BEFORE],
    ['only the version changed, Ready still absent', { syncedResourceVersion: '1-bbb' }],
    ['only the refresh time changed', { ...BEFORE, refreshTime: '2026-11-23T10:00:01Z' }],
    [
      'Ready is another reason (SecretDeleted)',
      { ...BEFORE, syncedResourceVersion: '1-bbb', ready: { status: 'True', reason: 'SecretDeleted' } },
    ],
    [
      'Ready is not SecretSynced yet',
      { refreshTime: '2026-11-23T10:00:01Z', syncedResourceVersion: '1-bbb', ready: { status: 'Unknown' } },
    ],
    ['there is no status at all', {}],
  ])('waits when %s', (_name, now) => {
    expect(confirmSync(BEFORE, now)).toEqual({ verdict: 'waiting' });
  });

  it('reports a SecretSyncedError with ESO’s message', () => {
    const now = {
      ...BEFORE,
      ready: { status: 'False', reason: 'SecretSyncedError', message: 'could not get secret' },
    };
    expect(confirmSync(BEFORE, now)).toEqual({
      verdict: 'failed',
      reason: 'could not get secret',
    });
  });

  it('confirms a first sync of an ExternalSecret that had no status', () => {
    const now = { refreshTime: '2026-11-23T10:00:02Z', syncedResourceVersion: '1-x', ready: BEFORE.ready };
    expect(confirmSync({}, now)).toEqual({ verdict: 'synced' });
  });
});
