import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';
import {
  API_CONNECT_TIMEOUT_MS,
  apiServer,
  type KubernetesTransport,
  sendThrough,
} from './kubernetes-transport';

type AuthenticatedRequest = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/**
 * The transport for a KubeConfig (kubeconfig files: the CLI, tests, tools). The KubeConfig
 * authenticates each request as client-node's own API classes do (bearer token, exec plugin, client
 * certificate) and chooses TLS (the cluster CA) and any proxy; undici sends it. Nothing of
 * client-node is imported at run time: `applySecurityAuthentication` only sets headers and a
 * dispatcher on the request it is given, and those two calls are all this file implements.
 *
 * All requests share one connection pool. The KubeConfig builds a new undici Agent every time it
 * authenticates a request, so without this each call would open a new TLS connection: on 1,500
 * calls that cost seconds of CPU here and in the API server (measured with bench:propagation,
 * since removed with the in-process engine it drove).
 * @example new KubernetesAdapter(kubeConfigTransport(kubeConfig))
 */
export function kubeConfigTransport(kubeConfig: KubeConfig): KubernetesTransport {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('The kubeconfig has no current cluster');
  const server = apiServer(cluster.server);
  let pool: Dispatcher | undefined;
  return {
    async send(request) {
      const headers: Record<string, string> = { ...request.headers };
      let created: Dispatcher | undefined;
      const authenticated: Pick<AuthenticatedRequest, 'setHeaderParam' | 'setDispatcher'> = {
        setHeaderParam: (name, value) => {
          headers[name] = value;
        },
        setDispatcher: (dispatcher) => {
          created = dispatcher;
        },
      };
      await kubeConfig.applySecurityAuthentication(authenticated as AuthenticatedRequest);
      if (created && pool && created !== pool) void created.close();
      // No dispatcher when the kubeconfig sets no TLS options (the system CAs apply).
      pool ??= created ?? new Agent({ connect: { timeout: API_CONNECT_TIMEOUT_MS } });
      return sendThrough(pool, server, { ...request, headers });
    },
  };
}
