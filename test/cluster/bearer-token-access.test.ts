import { readFileSync } from 'node:fs';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';

const endpoint = {
  name: 'local',
  server: inject('clusterServer'),
  certificateAuthority: readFileSync(inject('clusterCaFile')).toString('base64'),
};

describe('kubeConfigWithToken (the Lambdas’ path: endpoint + CA from DescribeCluster, bearer token)', () => {
  it('reaches the API server as the orchestrator group with the CA verified', async () => {
    const adapter = new KubernetesAdapter(kubeConfigWithToken(endpoint, inject('clusterBearerToken')));
    await expect(adapter.listExternalSecrets()).resolves.toBeInstanceOf(Array);
  });

  it('gets 403 on Secrets with the same token', async () => {
    const core = kubeConfigWithToken(endpoint, inject('clusterBearerToken')).makeApiClient(CoreV1Api);
    const error = await core.listSecretForAllNamespaces().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(403);
  });

  it('gets 401 with a wrong token', async () => {
    const adapter = new KubernetesAdapter(kubeConfigWithToken(endpoint, 'not-a-valid-token'));
    const error = await adapter.listExternalSecrets().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesCallError);
    expect((error as KubernetesCallError).httpStatus).toBe(401);
  });
});
