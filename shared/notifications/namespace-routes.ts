/**
 * Notification routes asked for by Namespaces: `secret-rotator.io/notify: <route>` on a Namespace
 * asks that propagations touching it (an affected ExternalSecret or a consumer there) also notify
 * the route `<prefix><route>`. Pure: the propagation step reads the annotations when it plans and
 * records the routes in the cluster's outcome; the notify function reads them from the ledger.
 */

import { routeNameSchema } from './routing';

/** The Namespace annotation naming a notification route (same syntax as the `rotator:owner` tag). */
export const NOTIFY_ANNOTATION = 'secret-rotator.io/notify';

/** Why an annotation was ignored, for a warning: never the annotation's value. */
export const NAMESPACE_ROUTE_PROBLEM = `${NOTIFY_ANNOTATION} must be 1-128 of A-Z a-z 0-9 _ + = . @ - (no "/")`;

export interface NamespaceRoutes {
  /** Distinct route names, sorted. */
  readonly routes: readonly string[];
  /** Namespaces whose annotation is malformed (ignored), sorted. */
  readonly malformed: readonly string[];
}

/**
 * The routes named by these Namespaces' annotations. A Namespace without the annotation, with an
 * empty one, or that no longer exists (`undefined`) names none; a malformed one is listed by
 * Namespace in `malformed` and names none.
 * @example namespaceRoutes(new Map([['payments', { 'secret-rotator.io/notify': 'payments-oncall' }]]))
 * // { routes: ['payments-oncall'], malformed: [] }
 */
export function namespaceRoutes(
  annotations: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>,
): NamespaceRoutes {
  const routes = new Set<string>();
  const malformed: string[] = [];
  for (const [namespace, given] of annotations) {
    const value = given?.[NOTIFY_ANNOTATION]?.trim();
    if (value === undefined || value === '') continue;
    if (routeNameSchema.safeParse(value).success) routes.add(value);
    else malformed.push(namespace);
  }
  return { routes: [...routes].sort(), malformed: malformed.sort() };
}
