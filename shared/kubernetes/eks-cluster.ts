import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
// The module, not the package index, which loads all of client-node (see custom-objects-client.ts).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
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

/** A kubeconfig for one cluster that authenticates with a bearer token (an EKS token). */
export function kubeConfigWithToken(endpoint: ClusterEndpoint, token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: endpoint.name,
        server: endpoint.server,
        caData: endpoint.certificateAuthority,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'secret-rotation-orchestrator', token }],
    contexts: [{ name: endpoint.name, cluster: endpoint.name, user: 'secret-rotation-orchestrator' }],
    currentContext: endpoint.name,
  });
  return config;
}

/**
 * Connects to EKS clusters by name: DescribeCluster once per cluster per container (successes
 * only are kept), and a bearer token from the cache, renewed before it expires.
 */
export function eksClusterConnector(eks: EKSClient, tokenFor: (clusterName: string) => Promise<string>) {
  const endpoints = new Map<string, ClusterEndpoint>();
  return async (clusterName: string): Promise<KubeConfig> => {
    let endpoint = endpoints.get(clusterName);
    if (!endpoint) {
      endpoint = await describeEksCluster(eks, clusterName);
      endpoints.set(clusterName, endpoint);
    }
    return kubeConfigWithToken(endpoint, await tokenFor(clusterName));
  };
}
