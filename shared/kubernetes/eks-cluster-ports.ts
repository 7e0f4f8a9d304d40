import type { EKSClient } from '@aws-sdk/client-eks';
import { memoizeSuccess } from '../memoize-success';
import type { ClusterPort } from '../propagation/cluster-port';
import { bearerTokenTransport } from './bearer-token-transport';
import { describeEksCluster } from './eks-endpoint';
import { EksTokenCache } from './eks-token';
import { KubernetesAdapter } from './kubernetes-adapter';
import type { KubernetesTransport } from './kubernetes-transport';

/**
 * Ports to EKS clusters by name, as the propagation step and the CLI reach them. Per cluster, kept
 * while the container lives (failures are not kept): DescribeCluster's endpoint and CA, and one
 * connection pool trusting that CA. Each request carries a token from the cache, renewed a minute
 * before it expires, signed for the EKS client's region. Each call returns a new adapter over the
 * cluster's pool, so the ESO version is found again per invocation.
 * @example const clusterFor = eksClusterPorts(new EKSClient({})); await clusterFor('prod')
 */
export function eksClusterPorts(
  eks: EKSClient,
  clock?: () => Date,
): (clusterName: string) => Promise<ClusterPort> {
  const tokens = memoizeSuccess(
    async () => new EksTokenCache(await eks.config.region(), eks.config.credentials, clock),
  );
  const transports = new Map<string, () => Promise<KubernetesTransport>>();
  const transportTo = (clusterName: string) => async () => {
    const endpoint = await describeEksCluster(eks, clusterName);
    const cache = await tokens();
    return bearerTokenTransport(endpoint, () => cache.tokenFor(clusterName));
  };
  return async (clusterName) => {
    let transport = transports.get(clusterName);
    if (!transport) {
      transport = memoizeSuccess(transportTo(clusterName));
      transports.set(clusterName, transport);
    }
    return new KubernetesAdapter(await transport());
  };
}

// For callers that load this module on demand (the propagation step): a dynamic import of
// @aws-sdk/client-eks itself would keep every command of the EKS client in the bundle.
export { EKSClient } from '@aws-sdk/client-eks';
