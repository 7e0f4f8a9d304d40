import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, inject, it } from 'vitest';
import { clusterSources } from '../../cli/cluster-sources';
import { LOCAL_AWS } from '../../harness/moto-server';
import { AwsCallError } from '../../shared/errors';
import { describeEksCluster, kubeConfigWithToken } from '../../shared/kubernetes/eks-cluster';
import { eksClusterPorts } from '../../shared/kubernetes/eks-cluster-ports';
import { KubernetesAdapter } from '../../shared/kubernetes/kubernetes-adapter';

const config = {
  endpoint: inject('motoEndpoint'),
  region: LOCAL_AWS.region,
  credentials: LOCAL_AWS.credentials,
};
const eks = new EKSClient(config);

async function createCluster(name: string): Promise<void> {
  const role = await new IAMClient(config).send(
    new CreateRoleCommand({ RoleName: `eks-${name}`, AssumeRolePolicyDocument: '{}' }),
  );
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: role.Role?.Arn,
      resourcesVpcConfig: { subnetIds: ['subnet-1'] },
    }),
  );
}

describe('describeEksCluster against EKS (moto over HTTP)', () => {
  it('returns the endpoint and CA of a cluster', async () => {
    const name = `cluster-${Date.now()}`;
    await createCluster(name);

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

describe('eksClusterPorts against EKS (moto over HTTP)', () => {
  it('does not keep a cluster DescribeCluster did not find: once it exists, the next call connects', async () => {
    const name = `late-${Date.now()}`;
    const clusterFor = eksClusterPorts(eks);

    await expect(clusterFor(name)).rejects.toBeInstanceOf(AwsCallError);
    await createCluster(name);

    await expect(clusterFor(name)).resolves.toBeInstanceOf(KubernetesAdapter);
  });

  it('gives the CLI its EKS clusters, read-only', async () => {
    const name = `cli-${Date.now()}`;
    await createCluster(name);
    const [cluster] = clusterSources({ kubeconfigs: [], eksClusters: [name] }, eks);

    const port = await cluster?.connect();

    expect(cluster?.label).toBe(name);
    await expect(
      port?.patchWorkload({ kind: 'Deployment', namespace: 'apps', name: 'api' }, {}),
    ).rejects.toThrow('dry run: refused to patch a workload');
  });
});
