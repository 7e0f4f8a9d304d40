import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EKSClient } from '@aws-sdk/client-eks';
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BundleHost } from '../../harness/bundle-host';
import { localAwsEnvironment } from '../../harness/local-aws';
import { localEksCluster } from '../../harness/local-eks';
import { DEPLOY_TIME_PLACEHOLDERS, synthLocalStack } from '../../harness/local-stack';
import { LOCAL_AWS } from '../../harness/moto-server';
import { createSecret } from '../../harness/rotation-fixture';
import { canonicalPrincipalArn, kubernetesUserFor } from '../../scripts/cluster/eks-access-entries';
import { KubernetesCallError } from '../../shared/errors';
import { describeEksCluster, kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';
import { createEksToken } from '../../shared/kubernetes/eks-token';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';
import { NOTIFY_ANNOTATION } from '../../shared/notifications/namespace-routes';
import { clusterFixture } from '../support/cluster-fixture';

const CLUSTER = inject('eksClusterName');
const motoEndpoint = inject('motoEndpoint');
const eks = new EKSClient({
  endpoint: motoEndpoint,
  region: LOCAL_AWS.region,
  credentials: LOCAL_AWS.credentials,
});

/** A kubeconfig built the Lambdas' way: DescribeCluster (moto) for endpoint and CA, then the token. */
async function eksKubeConfig(token: string) {
  return kubeConfigWithToken(await describeEksCluster(eks, CLUSTER), token);
}

async function token(overrides: Partial<Parameters<typeof createEksToken>[0]> = {}): Promise<string> {
  const created = await createEksToken({
    clusterName: CLUSTER,
    region: LOCAL_AWS.region,
    credentials: LOCAL_AWS.credentials,
    ...overrides,
  });
  return created.token;
}

/** The HTTP status a Kubernetes call ends with (200 when it succeeds). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => 200,
    (error: unknown) => {
      if (error instanceof ApiException) return error.code;
      if (error instanceof KubernetesCallError) return error.httpStatus;
      throw error;
    },
  );
}

beforeAll(async () => {
  await localEksCluster(motoEndpoint, {
    name: CLUSTER,
    server: inject('clusterServer'),
    caFile: inject('clusterCaFile'),
  });
});

afterAll(() => eks.destroy());

describe('the local cluster through EKS access (moto DescribeCluster, token webhook, moto STS)', () => {
  it('DescribeCluster in moto returns the local API server and its CA', async () => {
    const endpoint = await describeEksCluster(eks, CLUSTER);
    expect(endpoint.server).toBe(inject('clusterServer'));
    expect(Buffer.from(endpoint.certificateAuthority, 'base64').toString()).toBe(
      readFileSync(inject('clusterCaFile'), 'utf8'),
    );
  });

  it('maps a token of the local credentials to the moto identity in the orchestrator group', async () => {
    const auth = (await eksKubeConfig(await token())).makeApiClient(AuthenticationV1Api);
    const review = await auth.createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status?.userInfo?.username).toBe(inject('eksPrincipalArn'));
    expect(review.status?.userInfo?.groups).toContain('secret-rotation-orchestrator');
  });

  it('lets KubernetesAdapter list ExternalSecrets with that token', async () => {
    const adapter = new KubernetesAdapter(await eksKubeConfig(await token()));
    await expect(adapter.listExternalSecrets()).resolves.toBeInstanceOf(Array);
  });

  it('gets 403 on Secrets with that token: RBAC still applies', async () => {
    const core = (await eksKubeConfig(await token())).makeApiClient(CoreV1Api);
    expect(await statusOf(core.listSecretForAllNamespaces())).toBe(403);
  });

  it.each([
    ['signed for another cluster', () => token({ clusterName: `${CLUSTER}-other` })],
    ['signed 16 minutes ago (expired)', () => token({ now: new Date(Date.now() - 16 * 60_000) })],
    [
      'signed with the wrong secret key',
      () => token({ credentials: { ...LOCAL_AWS.credentials, secretAccessKey: 'wrong' } }),
    ],
    [
      'of an access key STS does not know',
      () => token({ credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } }),
    ],
    ['that is garbage after the prefix', async () => 'k8s-aws-v1.bm90IGEgdXJs'],
    ['that is not an EKS token', async () => 'not-a-valid-token'],
  ])('gets 401 with a token %s', async (_, makeToken) => {
    const adapter = new KubernetesAdapter(await eksKubeConfig(await makeToken()));
    expect(await statusOf(adapter.listExternalSecrets())).toBe(401);
  });
});

describe('access entries (EKS maps an assumed-role session through its role)', () => {
  const entries = [{ principalArn: 'arn:aws:iam::123456789012:role/ops/propagation', groups: ['g'] }];

  it.each([
    ['arn:aws:sts::123456789012:assumed-role/propagation/fn', 'arn:aws:iam::123456789012:role/propagation'],
    ['arn:aws:iam::123456789012:role/ops/propagation', 'arn:aws:iam::123456789012:role/propagation'],
    ['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:user/alice'],
    ['arn:aws:sts::123456789012:user/moto', 'arn:aws:sts::123456789012:user/moto'],
  ])('canonicalizes %s to %s', (arn, canonical) => {
    expect(canonicalPrincipalArn(arn)).toBe(canonical);
  });

  it('maps a session of the role to the entry, named by its session ARN', () => {
    const identity = {
      arn: 'arn:aws:sts::123456789012:assumed-role/propagation/fn',
      account: '123456789012',
      userId: 'AROAEXAMPLE:fn',
    };
    expect(kubernetesUserFor(identity, 'ASIAEXAMPLE', entries)).toMatchObject({
      username: identity.arn,
      groups: ['g'],
      extra: { sessionName: ['fn'], canonicalArn: ['arn:aws:iam::123456789012:role/propagation'] },
    });
  });

  it('maps nothing for another role or account', () => {
    for (const arn of [
      'arn:aws:sts::123456789012:assumed-role/other/fn',
      'arn:aws:sts::210987654321:assumed-role/propagation/fn',
    ]) {
      expect(kubernetesUserFor({ arn, account: '1', userId: 'A:fn' }, 'ASIA', entries)).toBeUndefined();
    }
  });
});

describe('the bundled propagation step function against the local cluster, the EKS way', () => {
  const fx = clusterFixture();
  const prefix = `eks-auth/${randomUUID().slice(0, 6)}/`;
  let host: BundleHost;

  beforeAll(async () => {
    const step = synthLocalStack({ managedPrefixes: [prefix], propagation: { clusterNames: [CLUSTER] } })
      .bundles.step;
    if (!step) throw new Error('no bundled propagation step function');
    expect(step.environment.ROTATOR_CLUSTERS).toBe(CLUSTER);
    host = new BundleHost(step.directory, 'propagation-step', {
      PATH: process.env.PATH ?? '',
      ...DEPLOY_TIME_PLACEHOLDERS,
      ...step.environment,
      ...localAwsEnvironment(motoEndpoint),
    });
  }, 120_000);
  afterAll(() => host?.stop());

  it('plans in the cluster it found by DescribeCluster, authenticated by its EKS token, with the Namespace’s notification route', async () => {
    // Prepare
    const secretId = `${prefix}db`;
    await createSecret(fx.aws, secretId, JSON.stringify({ password: `eks-auth-${randomUUID()}` }));
    const { secret } = await fx.rotatedSecret(secretId);
    const namespace = await fx.namespaceWithStore('eks-auth');
    // The Namespace's owners ask for their route (read by the plan with rbac.yaml's get on namespaces).
    await KubernetesObjectApi.makeApiClient(fx.admin).patch(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace, annotations: { [NOTIFY_ANNOTATION]: 'eks-team' } },
      },
      undefined,
      undefined,
      'notify-route-test',
      undefined,
      PatchStrategy.MergePatch,
    );
    await fx.externalSecret(namespace, 'db', secretId);
    await fx.externalSecretReady(namespace, 'db');

    // Act
    const plan = (await host.invoke({
      action: 'plan',
      cluster: CLUSTER,
      secret,
      versionId: 'a'.repeat(36),
      moveSeq: 1,
    })) as {
      resync: { namespace: string; name: string }[];
      notifyRoutes?: string[];
    };

    // Assess
    expect(await host.nodeVersion()).toMatch(/^v24\./);
    expect(plan.resync.map((t) => `${t.namespace}/${t.name}`)).toEqual([`${namespace}/db`]);
    expect(plan.notifyRoutes).toEqual(['eks-team']);
  });
});
