import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { KubernetesCallError } from '../../shared/errors';
import { bearerTokenTransport } from '../../shared/kubernetes/bearer-token-transport';
import { kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';

/** A CA the local API server's certificate was not signed by (PEM, base64 as DescribeCluster gives it). */
function otherCaBase64(): string {
  const dir = mkdtempSync(join(tmpdir(), 'other-ca-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=other-ca',
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.crt'),
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(join(dir, 'ca.crt')).toString('base64');
}

const endpoint = {
  name: 'local',
  server: inject('clusterServer'),
  certificateAuthority: readFileSync(inject('clusterCaFile')).toString('base64'),
};

describe('bearerTokenTransport (the Lambdas’ path: endpoint + CA from DescribeCluster, bearer token)', () => {
  it('reaches the API server as the orchestrator group with the CA verified', async () => {
    const token = inject('clusterBearerToken');
    const adapter = new KubernetesAdapter(bearerTokenTransport(endpoint, async () => token));
    await expect(adapter.listExternalSecrets()).resolves.toBeInstanceOf(Array);
  });

  it('refuses the API server when told to trust another CA', async () => {
    const untrusted = { ...endpoint, certificateAuthority: otherCaBase64() };
    const token = inject('clusterBearerToken');
    const adapter = new KubernetesAdapter(bearerTokenTransport(untrusted, async () => token));
    await expect(adapter.listExternalSecrets()).rejects.toThrow(/certificate/i);
  });

  it('gets 403 on Secrets with the same token', async () => {
    const core = kubeConfigWithToken(endpoint, inject('clusterBearerToken')).makeApiClient(CoreV1Api);
    const error = await core.listSecretForAllNamespaces().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(403);
  });

  it('gets 401 with a wrong token', async () => {
    const adapter = new KubernetesAdapter(bearerTokenTransport(endpoint, async () => 'not-a-valid-token'));
    const error = await adapter.listExternalSecrets().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesCallError);
    expect((error as KubernetesCallError).httpStatus).toBe(401);
  });
});
