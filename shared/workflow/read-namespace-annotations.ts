import { API_CONCURRENCY, mapWithLimit } from '../concurrency';
import { KubernetesCallError } from '../errors';
import type { RotationLogger } from '../observability';
import type { ClusterPort } from '../propagation/cluster-port';

/** How many Namespaces a warning names (the count is always given). */
const NAMED_IN_WARNING = 20;

/**
 * The annotations of `namespaces`, one GET each (32 at a time), in their order. A Namespace the
 * step may not read (403: a cluster whose RBAC manifest predates the namespaces rule) or deleted
 * since (404, the adapter's undefined) has none: undefined; the 403s are warned about once, naming
 * up to 20 of them and what their annotations were for (`purpose`). Any other error is thrown, as
 * the workload lists' are. Shared by the restart windows and the notification routes.
 * @example await readNamespaceAnnotations(cluster, ['shop'], 'restart-window', logger) // [{ … }]
 */
export async function readNamespaceAnnotations(
  cluster: Pick<ClusterPort, 'getNamespaceAnnotations'>,
  namespaces: readonly string[],
  purpose: string,
  logger: Pick<RotationLogger, 'warn'> | undefined,
): Promise<(Readonly<Record<string, string>> | undefined)[]> {
  const forbidden: string[] = [];
  const read = await mapWithLimit(namespaces, API_CONCURRENCY, async (ns) => {
    try {
      return await cluster.getNamespaceAnnotations(ns);
    } catch (error) {
      if (!(error instanceof KubernetesCallError && error.httpStatus === 403)) throw error;
      forbidden.push(ns);
      return undefined;
    }
  });
  if (forbidden.length > 0) {
    logger?.warn(
      `cannot read Namespaces (403): their ${purpose} annotations are ignored; apply infra/kubernetes/rbac.yaml (get on namespaces)`,
      { forbidden: forbidden.length, namespaces: forbidden.sort().slice(0, NAMED_IN_WARNING) },
    );
  }
  return read;
}
