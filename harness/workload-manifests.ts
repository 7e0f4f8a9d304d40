/** Manifests for workloads in the local cluster (kwok runs no containers; an image is still required). */

/**
 * A Deployment whose one container reads every key of Kubernetes Secret `secret` through `envFrom`:
 * a consumer that sees a new value only after a restart.
 */
export function envFromDeployment(
  namespace: string,
  name: string,
  secret: string,
  options: { readonly replicas: number; readonly labels?: Record<string, string> },
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'app:1', envFrom: [{ secretRef: { name: secret } }] }] },
      },
    },
  };
}
