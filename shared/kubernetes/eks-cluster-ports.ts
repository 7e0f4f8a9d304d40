import type { EKSClient } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { memoizeSuccess } from '../memoize-success';
import type { ClusterPort } from '../propagation/cluster-port';
import { type AssumeRole, assumedRoleCredentials } from './assume-role';
import { bearerTokenTransport } from './bearer-token-transport';
import type { ClusterAccess } from './eks-cluster-access';
import { describeEksCluster } from './eks-endpoint';
import { EksTokenCache } from './eks-token';
import { KubernetesAdapter } from './kubernetes-adapter';
import type { KubernetesTransport } from './kubernetes-transport';

/** Clusters reached through a role of their own (another account, or another region). */
export interface ClusterAccessOptions {
  /** The role (and region) per cluster name; a cluster not named here is reached as before. */
  readonly access: Readonly<Record<string, ClusterAccess>>;
  readonly assumeRole: AssumeRole;
  /** An EKS client in `region` with the assumed role's credentials. */
  readonly eksClient: (region: string, credentials: AwsCredentialIdentityProvider) => EKSClient;
}

/**
 * Ports to EKS clusters by name, as the propagation step and the CLI reach them. Per cluster, kept
 * while the container lives (failures are not kept): DescribeCluster's endpoint and CA, and one
 * connection pool trusting that CA. Each request carries a token from the cache, renewed a minute
 * before it expires, signed for the EKS client's region. A cluster named in `crossAccount.access`
 * is described and signed for with its role's credentials (assumed on first use, renewed before
 * they expire) in its region. Each call returns a new adapter over the cluster's pool, so the ESO
 * version is found again per invocation.
 * @example const clusterFor = eksClusterPorts(new EKSClient({})); await clusterFor('prod')
 */
export function eksClusterPorts(
  eks: EKSClient,
  clock?: () => Date,
  crossAccount?: ClusterAccessOptions,
): (clusterName: string) => Promise<ClusterPort> {
  const tokens = memoizeSuccess(
    async () => new EksTokenCache(await eks.config.region(), eks.config.credentials, clock),
  );
  const transports = new Map<string, () => Promise<KubernetesTransport>>();
  const transportTo = (clusterName: string) => async () => {
    const access = crossAccount?.access[clusterName];
    if (access && crossAccount) return assumedRoleTransport(clusterName, access, crossAccount, eks, clock);
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

/** DescribeCluster and the tokens of one cluster, both with its role's credentials, in its region. */
async function assumedRoleTransport(
  clusterName: string,
  access: ClusterAccess,
  options: ClusterAccessOptions,
  eks: EKSClient,
  clock: (() => Date) | undefined,
): Promise<KubernetesTransport> {
  const region = access.region ?? (await eks.config.region());
  const credentials = assumedRoleCredentials(
    options.assumeRole,
    { roleArn: access.roleArn, externalId: access.externalId },
    clock,
  );
  // Assumed first, so a refusal fails as the AssumeRole it is, not inside DescribeCluster.
  await credentials();
  const endpoint = await describeEksCluster(options.eksClient(region, credentials), clusterName);
  const cache = new EksTokenCache(region, credentials, clock);
  return bearerTokenTransport(endpoint, () => cache.tokenFor(clusterName));
}

// For callers that load this module on demand (the propagation step): a dynamic import of
// @aws-sdk/client-eks itself would keep every command of the EKS client in the bundle.
export { EKSClient } from '@aws-sdk/client-eks';
export { stsAssumeRole } from './assume-role';
