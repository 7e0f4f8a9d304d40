import { API_CONCURRENCY, mapAllWithLimit } from '../concurrency';
import { isObjectGone } from '../errors';
import type { ClusterPort } from '../propagation/cluster-port';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import type { EsTarget } from './workflow-state';

/**
 * The force-sync annotation on these targets (on the owning ClusterExternalSecret for its children).
 * Splits them into those annotated and those deleted since the plan (a 404 NotFound on them:
 * nothing to sync), in their order.
 */
export async function forceSync(
  cluster: ClusterPort,
  targets: readonly EsTarget[],
  versionId: string,
  at: Date,
): Promise<{ annotated: EsTarget[]; gone: EsTarget[] }> {
  const annotations = { [ANNOTATIONS.forceSync]: `${versionId}@${at.toISOString()}` };
  const owners = [...new Set(targets.flatMap((t) => (t.owner ? [t.owner] : [])))];
  const ownersGone = await mapAllWithLimit(owners, API_CONCURRENCY, (owner) =>
    unlessGone(cluster.annotateClusterExternalSecret(owner, annotations)),
  );
  // A ClusterExternalSecret deleted since the plan may have left its children behind (an orphaning
  // delete, or garbage collection not done yet): each is annotated itself, gone only on its own 404.
  const goneOwners = new Set(owners.filter((_, index) => ownersGone[index]));
  const direct = targets.filter((t) => t.owner === undefined || goneOwners.has(t.owner));
  const directGone = await mapAllWithLimit(direct, API_CONCURRENCY, (t) =>
    unlessGone(
      cluster.annotateExternalSecret(
        { kind: 'ExternalSecret', namespace: t.namespace, name: t.name },
        annotations,
      ),
    ),
  );
  const gone = new Set(direct.filter((_, index) => directGone[index]));
  return { annotated: targets.filter((t) => !gone.has(t)), gone: targets.filter((t) => gone.has(t)) };
}

/** True when the object is gone (isObjectGone), false when the call succeeded; any other error is thrown. */
async function unlessGone(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return false;
  } catch (error) {
    if (isObjectGone(error)) return true;
    throw error;
  }
}
