import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, inject, it } from 'vitest';
import { LOCAL_AWS } from '../../scripts/local/moto-server';
import { AwsCallError } from '../../shared/errors';
import { describeEksCluster, kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';

const config = {
  endpoint: inject('motoEndpoint'),
  region: LOCAL_AWS.region,
  credentials: LOCAL_AWS.credentials,
};
const eks = new EKSClient(config);

describe('describeEksCluster against EKS (moto over HTTP)', () => {
  it('returns the endpoint and CA of a cluster', async () => {
    const role = await new IAMClient(config).send(
      new CreateRoleCommand({ RoleName: `eks-${Date.now()}`, AssumeRolePolicyDocument: '{}' }),
    );
    const name = `cluster-${Date.now()}`;
    await eks.send(
      new CreateClusterCommand({
        name,
        roleArn: role.Role?.Arn,
        resourcesVpcConfig: { subnetIds: ['subnet-1'] },
      }),
    );

    const endpoint = await describeEksCluster(eks, name);

    expect(endpoint.name).toBe(name);
    expect(endpoint.server).toMatch(/^https:\/\//);
    expect(endpoint.certificateAuthority.length).toBeGreaterThan(0);
    const kubeConfig = kubeConfigWithToken(endpoint, 'k8s-aws-v1.token');
    expect(kubeConfig.getCurrentCluster()?.server).toBe(endpoint.server);
    expect(kubeConfig.getCurrentUser()?.token).toBe('k8s-aws-v1.token');
  });

  it('turns a missing cluster into an AwsCallError', async () => {
    await expect(describeEksCluster(eks, 'no-such-cluster')).rejects.toBeInstanceOf(AwsCallError);
  });
});
