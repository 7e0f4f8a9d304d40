import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { toAwsCallError } from '../errors';

/** What a client needs to reach a cluster's API server. */
export interface ClusterEndpoint {
  readonly name: string;
  readonly server: string;
  /** Base64 PEM of the cluster CA, as DescribeCluster returns it. */
  readonly certificateAuthority: string;
}

/** Endpoint and CA of an EKS cluster (eks:DescribeCluster). */
export async function describeEksCluster(eks: EKSClient, name: string): Promise<ClusterEndpoint> {
  try {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
    if (!cluster?.endpoint || !cluster.certificateAuthority?.data) {
      throw new Error(
        `cluster ${name} has no endpoint or certificate authority yet (status ${cluster?.status})`,
      );
    }
    return { name, server: cluster.endpoint, certificateAuthority: cluster.certificateAuthority.data };
  } catch (error) {
    throw toAwsCallError('DescribeCluster', name, error);
  }
}
