import { Agent } from 'undici';
import type { ClusterEndpoint } from './eks-endpoint';
import {
  API_CONNECT_TIMEOUT_MS,
  API_KEEP_ALIVE_MS,
  apiServer,
  type KubernetesTransport,
  sendThrough,
} from './kubernetes-transport';

/**
 * The transport to an EKS cluster, with no KubeConfig (whose module pulls in all of
 * @kubernetes/client-node's generated models): one undici connection pool that trusts only the
 * cluster's CA, and `Authorization: Bearer <token>` on every request. `token` is asked each time,
 * so a cache that renews its tokens (EksTokenCache, eks-token.ts) renews them here.
 * @example bearerTokenTransport(await describeEksCluster(eks, 'prod'), () => tokens.tokenFor('prod'))
 */
export function bearerTokenTransport(
  endpoint: ClusterEndpoint,
  token: () => Promise<string>,
): KubernetesTransport {
  const server = apiServer(endpoint.server);
  if (!server.origin.startsWith('https:')) {
    throw new Error(`cluster ${endpoint.name}: refusing to send a bearer token to ${server.origin}`);
  }
  const pool = new Agent({
    connect: {
      ca: Buffer.from(endpoint.certificateAuthority, 'base64'),
      // As client-node and client-go: TCP keep-alive probes before a load balancer's idle timeout.
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
      timeout: API_CONNECT_TIMEOUT_MS,
    },
    keepAliveTimeout: API_KEEP_ALIVE_MS,
  });
  return {
    async send(request) {
      const headers = { ...request.headers, Authorization: `Bearer ${await token()}` };
      return sendThrough(pool, server, { ...request, headers });
    },
  };
}
