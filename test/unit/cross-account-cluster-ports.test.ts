/**
 * eksClusterPorts for clusters with a role of their own (another account or region): the role is
 * assumed (with its external id) before DescribeCluster, both DescribeCluster and the token use the
 * assumed credentials in the cluster's region, the credentials are kept until 15 minutes before they
 * expire, and a refusal is an AwsCallError that is not kept. A local HTTPS server stands in for the
 * API server; STS and EKS are answered in memory.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AwsCallError, toAwsCallError } from '../../shared/errors';
import type { AssumeRole, AssumeRoleRequest } from '../../shared/kubernetes/assume-role';
import { eksClusterPorts } from '../../shared/kubernetes/eks-cluster-ports';
import { type HttpsApiServer, startHttpsApiServer } from '../support/https-api-server';

const HOME = { accessKeyId: 'AKIDHOME', secretAccessKey: 'home' };
const SIGNED_AT = new Date('2026-11-23T10:00:00Z');
const ROLE = 'arn:aws:iam::210987654321:role/rotator-access';
let api: HttpsApiServer;

beforeAll(async () => {
  api = await startHttpsApiServer(() => [200, JSON.stringify({ items: [], metadata: {} })]);
}, 60_000);
afterAll(() => api.close());

function world(options: { expectedExternalId?: string; lifetimeMs?: number } = {}) {
  let now = SIGNED_AT;
  let issued = 0;
  const assumeRole = vi.fn<AssumeRole>(async (request: AssumeRoleRequest) => {
    if (options.expectedExternalId && request.externalId !== options.expectedExternalId) {
      const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
      throw toAwsCallError('AssumeRole', request.roleArn, denied);
    }
    issued += 1;
    return {
      accessKeyId: `ASIA${issued}`,
      secretAccessKey: `assumed-${issued}`,
      sessionToken: `token-${issued}`,
      expiration: new Date(now.getTime() + (options.lifetimeMs ?? 60 * 60_000)),
    };
  });
  const described: { region: string; accessKeyId: string }[] = [];
  const eksClient = (region: string, credentials: AwsCredentialIdentityProvider) =>
    ({
      send: async () => {
        described.push({ region, accessKeyId: (await credentials()).accessKeyId });
        return {
          cluster: {
            endpoint: api.endpoint.server,
            certificateAuthority: { data: api.endpoint.certificateAuthority },
          },
        };
      },
    }) as unknown as EKSClient;
  const homeSend = vi.fn(async () => ({
    cluster: {
      endpoint: api.endpoint.server,
      certificateAuthority: { data: api.endpoint.certificateAuthority },
    },
  }));
  const home = { send: homeSend, config: { region: async () => 'us-east-1', credentials: async () => HOME } };
  const clusterFor = eksClusterPorts(home as unknown as EKSClient, () => now, {
    access: { remote: { roleArn: ROLE, externalId: 'ext-42', region: 'eu-west-1' } },
    assumeRole,
    eksClient,
  });
  return {
    clusterFor,
    assumeRole,
    described,
    homeSend,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

const presigned = (authorization: string | undefined) =>
  new URL(Buffer.from((authorization ?? '').replace('Bearer k8s-aws-v1.', ''), 'base64url').toString());
const list = async (clusterFor: ReturnType<typeof eksClusterPorts>, name = 'remote') =>
  (await clusterFor(name)).listRollouts('apps', 'Deployment');

describe('eksClusterPorts: a cluster with a role of its own', () => {
  it('assumes the role with its external id, then describes and signs with those credentials in its region', async () => {
    const w = world({ expectedExternalId: 'ext-42' });
    api.seen.length = 0;

    await list(w.clusterFor);

    expect(w.assumeRole).toHaveBeenCalledWith({ roleArn: ROLE, externalId: 'ext-42' });
    expect(w.described).toEqual([{ region: 'eu-west-1', accessKeyId: 'ASIA1' }]);
    expect(w.homeSend).not.toHaveBeenCalled();
    const url = presigned(api.seen[0]?.authorization);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIA1\/\d{8}\/eu-west-1\/sts\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('token-1');
  });

  it('never assumes a role for a cluster named without one', async () => {
    const w = world();
    api.seen.length = 0;

    await list(w.clusterFor, 'local');

    expect(w.assumeRole).not.toHaveBeenCalled();
    expect(w.homeSend).toHaveBeenCalledTimes(1);
    expect(presigned(api.seen[0]?.authorization).searchParams.get('X-Amz-Credential')).toMatch(/^AKIDHOME\//);
  });

  it('keeps the credentials until 15 minutes before they expire, then assumes the role again', async () => {
    const w = world();
    api.seen.length = 0;

    await list(w.clusterFor);
    w.advance(44 * 60_000); // the token is renewed; the credentials, with 16 min left, are kept
    await list(w.clusterFor);
    w.advance(14 * 60_000); // the token is renewed again; 2 min left: the role is assumed again
    await list(w.clusterFor);

    expect(w.assumeRole).toHaveBeenCalledTimes(2);
    const keys = api.seen.map(
      (r) => presigned(r.authorization).searchParams.get('X-Amz-Credential')?.split('/')[0],
    );
    expect(keys).toEqual(['ASIA1', 'ASIA1', 'ASIA2']);
  });

  it('fails with the AssumeRole AwsCallError on a wrong external id, contacts no cluster, and keeps nothing', async () => {
    const w = world({ expectedExternalId: 'another-id' });
    api.seen.length = 0;

    const failure = await w.clusterFor('remote').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(AwsCallError);
    expect(failure).toMatchObject({ operation: 'AssumeRole', awsErrorName: 'AccessDenied', httpStatus: 403 });
    expect((failure as Error).message).toContain(ROLE);
    expect(w.described).toEqual([]);
    expect(api.seen).toEqual([]);
    await expect(w.clusterFor('remote')).rejects.toBeInstanceOf(AwsCallError);
    expect(w.assumeRole).toHaveBeenCalledTimes(2);
  });
});
