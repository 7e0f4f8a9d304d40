import diagnostics from 'node:diagnostics_channel';
import { describe, expect, inject, it } from 'vitest';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { kubeConfigFrom } from '../support/cluster-fixture';

describe('KubernetesAdapter connections', () => {
  it('reuses its connections across calls instead of opening one per request', async () => {
    const adapter = new KubernetesAdapter(kubeConfigFrom(inject('rotatorKubeconfig')));
    let connections = 0;
    const onConnect = () => {
      connections += 1;
    };
    diagnostics.subscribe('undici:client:connected', onConnect);
    try {
      for (let i = 0; i < 20; i++) await adapter.listExternalSecrets();
    } finally {
      diagnostics.unsubscribe('undici:client:connected', onConnect);
    }
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(2);
  });
});
