// The module, not the package index, which loads all of client-node. It still imports the generated
// models (about 360 KiB bundled), which is why the propagation step reaches EKS without a KubeConfig
// (eks-cluster-ports.ts, bearer-token-transport.ts) and never imports this file.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ClusterEndpoint } from './eks-endpoint';

export { type ClusterEndpoint, describeEksCluster } from './eks-endpoint';

/**
 * A kubeconfig for one cluster that authenticates with a bearer token (an EKS token), for tools and
 * tests that work with client-node's own API classes.
 */
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
