import type { EKSClient } from '@aws-sdk/client-eks';
import type { ClusterPort } from './cluster-port';
import { eksClusterConnector } from './eks-cluster';
import { EksTokenCache } from './eks-token';
import { KubernetesAdapter } from './kubernetes-adapter';

/**
 * Ports to EKS clusters by name, as the propagation step reaches them: endpoint and CA from
 * DescribeCluster (kept per container), a bearer token from the cache, and a new adapter per call
 * (cheap: the connector holds what is worth keeping).
 * @example const clusterFor = eksClusterPorts(new EKSClient({}), 'eu-west-1'); await clusterFor('prod')
 */
export function eksClusterPorts(
  eks: EKSClient,
  region: string,
): (clusterName: string) => Promise<ClusterPort> {
  const tokens = new EksTokenCache(region, eks.config.credentials);
  const connect = eksClusterConnector(eks, (name) => tokens.tokenFor(name));
  return async (clusterName) => new KubernetesAdapter(await connect(clusterName));
}

// For callers that load this module on demand (the propagation step): a dynamic import of
// @aws-sdk/client-eks itself would keep every command of the EKS client in the bundle.
export { EKSClient } from '@aws-sdk/client-eks';
