/**
 * eksClusterPorts against a local HTTPS server standing in for an EKS API server, with DescribeCluster
 * answered in memory: what is kept per cluster (endpoint, connection pool) and what is renewed
 * (the token, signed for the EKS client's region).
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AwsCallError } from '../../shared/errors';
import { eksClusterPorts } from '../../shared/kubernetes/eks-cluster-ports';
import { type HttpsApiServer, startHttpsApiServer } from '../support/https-api-server';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const SIGNED_AT = new Date('2026-11-23T10:00:00Z');
let api: HttpsApiServer;

beforeAll(async () => {
  api = await startHttpsApiServer(() => [200, JSON.stringify({ items: [], metadata: {} })]);
}, 60_000);

afterAll(async () => {
  await api.close();
});

/** An EKS client whose DescribeCluster describes the local server; `failFirst` throttles once. */
function fakeEks(region: string, failFirst = false) {
  const send = vi.fn(async () => {
    if (failFirst && send.mock.calls.length === 1) {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    return {
      cluster: {
        endpoint: api.endpoint.server,
        certificateAuthority: { data: api.endpoint.certificateAuthority },
      },
    };
  });
  const eks = { send, config: { region: async () => region, credentials: async () => CREDENTIALS } };
  return { eks: eks as unknown as EKSClient, send };
}

/** The presigned STS URL inside a bearer token. */
const presignedUrl = (authorization: string | undefined) =>
  new URL(Buffer.from((authorization ?? '').replace('Bearer k8s-aws-v1.', ''), 'base64url').toString());

const listOnce = async (clusterFor: ReturnType<typeof eksClusterPorts>) =>
  (await clusterFor('prod')).listRollouts('apps', 'Deployment');

describe('eksClusterPorts', () => {
  it('signs tokens for the EKS client’s region and the cluster’s name', async () => {
    const { eks } = fakeEks('eu-central-2');
    api.seen.length = 0;

    await listOnce(eksClusterPorts(eks, () => SIGNED_AT));

    const url = presignedUrl(api.seen[0]?.authorization);
    expect(url.host).toBe('sts.eu-central-2.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toContain('/eu-central-2/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('describes each cluster once and keeps one connection pool for it across calls', async () => {
    const { eks, send } = fakeEks('eu-west-1');
    const clusterFor = eksClusterPorts(eks, () => SIGNED_AT);
    const before = api.tlsConnections();

    for (let i = 0; i < 6; i++) await listOnce(clusterFor);

    expect(send).toHaveBeenCalledTimes(1);
    // undici's pool may open a second connection while the first drains; a pool per call would be 6.
    expect(api.tlsConnections() - before).toBeGreaterThan(0);
    expect(api.tlsConnections() - before).toBeLessThanOrEqual(2);
  });

  it('keeps a token until a minute before it expires, then signs a new one', async () => {
    const { eks } = fakeEks('eu-west-1');
    let now = SIGNED_AT;
    const clusterFor = eksClusterPorts(eks, () => now);
    api.seen.length = 0;

    await listOnce(clusterFor);
    now = new Date(SIGNED_AT.getTime() + 12 * 60_000);
    await listOnce(clusterFor);
    now = new Date(SIGNED_AT.getTime() + 13 * 60_000 + 1);
    await listOnce(clusterFor);

    const signedAt = api.seen.map((r) => presignedUrl(r.authorization).searchParams.get('X-Amz-Date'));
    expect(signedAt).toEqual(['20261123T100000Z', '20261123T100000Z', '20261123T101300Z']);
  });

  it('does not keep a failed DescribeCluster: the next call describes the cluster again', async () => {
    const { eks, send } = fakeEks('eu-west-1', true);
    const clusterFor = eksClusterPorts(eks, () => SIGNED_AT);

    await expect(clusterFor('prod')).rejects.toBeInstanceOf(AwsCallError);
    await expect(listOnce(clusterFor)).resolves.toEqual(new Map());
    expect(send).toHaveBeenCalledTimes(2);
  });
});
