import { describe, expect, it } from 'vitest';
import { refKey } from '../../shared/propagation/object-ref';

describe('refKey', () => {
  it.each([
    [{ kind: 'Deployment', namespace: 'shop', name: 'api' }, 'Deployment/shop/api'],
    [{ kind: 'ExternalSecret', namespace: 'shop', name: 'db' }, 'ExternalSecret/shop/db'],
  ])('writes %o as %s', (ref, key) => {
    expect(refKey(ref)).toBe(key);
  });

  it('tells objects of different kinds with one name apart', () => {
    expect(refKey({ kind: 'StatefulSet', namespace: 'a', name: 'x' })).not.toBe(
      refKey({ kind: 'DaemonSet', namespace: 'a', name: 'x' }),
    );
  });
});
