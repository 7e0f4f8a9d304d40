import { NAMESPACE_ROUTE_PROBLEM, namespaceRoutes } from '../notifications/namespace-routes';
import type { RotationLogger } from '../observability';
import type { ClusterPort } from '../propagation/cluster-port';
import type { ExternalSecretsPlan } from '../propagation/propagation-plan';
import { readNamespaceAnnotations } from './read-namespace-annotations';
import { type ClusterPlan, LIST_CAP } from './workflow-state';

/** How many Namespaces a warning names (the count is always given). */
const NAMED_IN_WARNING = 20;

/**
 * The notification routes that the Namespaces this plan touches ask for (`secret-rotator.io/notify`
 * on the Namespace of an affected ExternalSecret, where its consumers are too), one GET per Namespace. A
 * Namespace deleted since (404) or that the step may not read (403: an RBAC manifest without the
 * namespaces rule) names none, with a warning for the 403s; a malformed annotation is ignored with
 * a warning that names the Namespace, never the value. Any other error fails the step, as the
 * plan's lists do (a transient one is retried).
 */
export async function notifyRoutesOfPlan(
  cluster: Pick<ClusterPort, 'getNamespaceAnnotations'>,
  plan: Pick<ExternalSecretsPlan, 'resync' | 'notRefreshing'>,
  deps: { readonly logger?: Pick<RotationLogger, 'warn'> },
): Promise<Pick<ClusterPlan, 'notifyRoutes'>> {
  // A Secret's consumers live in its ExternalSecret's namespace: those namespaces are all there are.
  const namespaces = [
    ...new Set([...plan.resync, ...plan.notRefreshing].map((t) => t.affected.externalSecret.namespace)),
  ].sort();
  const read = await readNamespaceAnnotations(cluster, namespaces, 'notification-route', deps.logger);
  const found = namespaceRoutes(new Map(namespaces.map((ns, i) => [ns, read[i]])));
  if (found.malformed.length > 0) {
    deps.logger?.warn('Namespace notification routes ignored', {
      problem: NAMESPACE_ROUTE_PROBLEM,
      malformed: found.malformed.length,
      namespaces: found.malformed.slice(0, NAMED_IN_WARNING),
    });
  }
  if (found.routes.length > LIST_CAP) {
    deps.logger?.warn('Namespace notification routes over the limit not recorded', {
      routes: found.routes.length,
      limit: LIST_CAP,
    });
  }
  return found.routes.length > 0 ? { notifyRoutes: found.routes.slice(0, LIST_CAP) } : {};
}
