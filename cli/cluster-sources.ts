import { existsSync } from 'node:fs';
import type { EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../shared/errors';
import { bearerTokenTransport } from '../shared/kubernetes/bearer-token-transport';
import { eksClusterPorts } from '../shared/kubernetes/eks-cluster-ports';
import { describeEksCluster } from '../shared/kubernetes/eks-endpoint';
import { EksTokenCache } from '../shared/kubernetes/eks-token';
import { kubeConfigTransport } from '../shared/kubernetes/kubeconfig-transport';
import { KubernetesAdapter } from '../shared/kubernetes/kubernetes-adapter';
import type { KubernetesTransport } from '../shared/kubernetes/kubernetes-transport';
import { memoizeSuccess } from '../shared/memoize-success';
import type { ClusterPort } from '../shared/propagation/cluster-port';

/** A cluster to plan or audit against: its label (kubeconfig context or EKS name) and a read-only port. */
export interface LabelledCluster {
  readonly label: string;
  connect(): Promise<ClusterPort>;
  /** The authenticated transport itself, for reads the port does not make (the audit's pods). */
  transport(): Promise<KubernetesTransport>;
}

export interface ClusterSourceOptions {
  /** Kubeconfig files; each is used with its current context, whose name labels the cluster. */
  readonly kubeconfigs: readonly string[];
  /** EKS cluster names, reached as the propagation function reaches them (DescribeCluster + token). */
  readonly eksClusters: readonly string[];
}

/**
 * The clusters named on the command line, checked before any call; connecting is deferred so a
 * refused secret never touches a cluster. Every port is read-only. `command` names the command in
 * the error for none.
 */
export function clusterSources(
  options: ClusterSourceOptions,
  eks: EKSClient,
  command = 'plan',
): LabelledCluster[] {
  if (options.kubeconfigs.length === 0 && options.eksClusters.length === 0) {
    throw new ConfigError(
      `${command} needs at least one cluster: --kubeconfig <path> or --cluster <eks-name>`,
    );
  }
  const fromFiles = options.kubeconfigs.map((path): LabelledCluster => {
    if (!existsSync(path)) throw new ConfigError(`kubeconfig ${path} does not exist`);
    const config = new KubeConfig();
    config.loadFromFile(path);
    const context = config.getCurrentContext();
    if (!context) throw new ConfigError(`kubeconfig ${path} has no current context`);
    return {
      label: context,
      connect: async () => readOnly(new KubernetesAdapter(config)),
      transport: async () => kubeConfigTransport(config),
    };
  });
  // Makes no AWS call until a cluster connects.
  const clusterFor = eksClusterPorts(eks);
  const tokens = memoizeSuccess(
    async () => new EksTokenCache(await eks.config.region(), eks.config.credentials),
  );
  const fromEks = options.eksClusters.map(
    (name): LabelledCluster => ({
      label: name,
      connect: async () => readOnly(await clusterFor(name)),
      transport: async () => {
        const [endpoint, cache] = await Promise.all([describeEksCluster(eks, name), tokens()]);
        return bearerTokenTransport(endpoint, () => cache.tokenFor(name));
      },
    }),
  );
  return [...fromFiles, ...fromEks];
}

/** Refuses every write, so a dry run cannot change a cluster whatever the planner does. */
export function readOnly(port: ClusterPort): ClusterPort {
  const refuse = (what: string) => async () => {
    throw new Error(`dry run: refused to ${what}`);
  };
  return {
    listExternalSecrets: () => port.listExternalSecrets(),
    listSecretStores: () => port.listSecretStores(),
    listWorkloads: (namespace) => port.listWorkloads(namespace),
    getExternalSecretSync: (ref) => port.getExternalSecretSync(ref),
    getRollout: (ref) => port.getRollout(ref),
    listRollouts: (namespace, kind) => port.listRollouts(namespace, kind),
    getNamespaceAnnotations: (namespace) => port.getNamespaceAnnotations(namespace),
    annotateExternalSecret: refuse('annotate an ExternalSecret'),
    annotateClusterExternalSecret: refuse('annotate a ClusterExternalSecret'),
    patchWorkload: refuse('patch a workload'),
  };
}
