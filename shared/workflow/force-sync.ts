import { API_CONCURRENCY, mapAllWithLimit } from '../concurrency';
import { isObjectGone } from '../errors';
import type { ClusterPort } from '../propagation/cluster-port';
import { ANNOTATIONS } from '../propagation/consumer-annotations';
import type { EsTarget } from './workflow-state';

/**
 * The force-sync annotation on these targets (on the owning ClusterExternalSecret for its children).
 * Returns the targets deleted since the plan (a 404 on them, or on their owner): nothing to sync.
 */
export async function forceSync(
  cluster: ClusterPort,
  targets: readonly EsTarget[],
  versionId: string,
  at: Date,
): Promise<EsTarget[]> {
  const annotations = { [ANNOTATIONS.forceSync]: `${versionId}@${at.toISOString()}` };
  const owners = [...new Set(targets.flatMap((t) => (t.owner ? [t.owner] : [])))];
  const ownersGone = await mapAllWithLimit(owners, API_CONCURRENCY, (owner) =>
    unlessGone(cluster.annotateClusterExternalSecret(owner, annotations)),
  );
  const goneOwners = new Set(owners.filter((_, index) => ownersGone[index]));
  const own = targets.filter((t) => !t.owner);
  const ownGone = await mapAllWithLimit(own, API_CONCURRENCY, (t) =>
    unlessGone(
      cluster.annotateExternalSecret(
        { kind: 'ExternalSecret', namespace: t.namespace, name: t.name },
        annotations,
      ),
    ),
  );
  return [
    ...targets.filter((t) => t.owner !== undefined && goneOwners.has(t.owner)),
    ...own.filter((_, index) => ownGone[index]),
  ];
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
